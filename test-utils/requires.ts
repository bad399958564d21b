/**
 * Tests that need something from outside the repository (../shared reference data, Debian's
 * python3 modules, Chromium, mount namespaces) declare it here instead of `describe.skipIf`.
 *
 * - Everything present: the tests run.
 * - Something missing, locally: the tests are skipped, with the reason in their name and one line
 *   on stderr naming what is missing and how to get it.
 * - Something missing under CI (`CI` set to anything but "" / "0" / "false"): a failing test in
 *   their place says what is missing and how to install it, so CI cannot go quietly green.
 *
 * Imported by relative path from every package's tests (`../../../test-utils/requires.js`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** The repository root (with a trailing separator). */
export const REPO = fileURLToPath(new URL('../', import.meta.url));

/** The reference data folder beside the checkout; EFFNET_SHARED points elsewhere (e.g. to check the CI behaviour). */
export const SHARED = resolve(process.env['EFFNET_SHARED'] ?? join(REPO, '../shared'));

/** Whether a missing dependency fails the run instead of skipping. */
export const CI = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());

export interface Need {
  readonly ok: boolean;
  /** What is missing, e.g. "../shared/fixtures" or "python3 modules onnx, cv2". */
  readonly what: string;
  /** How to get it, e.g. "apt-get install chromium". */
  readonly install: string;
}

export const need = (ok: boolean, what: string, install: string): Need => ({ ok, what, install });

const SHARED_HOW = 'put the reference data folder `shared` beside the checkout (as .ci/run expects), or point EFFNET_SHARED at it';

/** A file or folder under ../shared (e.g. "fixtures", "imagenette/val"). */
export function sharedData(...paths: string[]): Need {
  const absent = paths.filter((p) => !existsSync(join(SHARED, p)));
  return need(absent.length === 0, absent.map((p) => join(SHARED, p)).join(', '), SHARED_HOW);
}

/** Debian packages of the python3 modules the tests use (for /usr/bin/python3). */
const DEBIAN: Readonly<Record<string, string>> = { onnx: 'python3-onnx', cv2: 'python3-opencv', numpy: 'python3-numpy', PIL: 'python3-pil' };
export const PYTHON = '/usr/bin/python3';

/** Python modules importable by /usr/bin/python3 (checked once per module set). */
export function pythonModules(...modules: string[]): Need {
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  const why = r.error ? `${PYTHON} not found` : r.status !== 0 ? (r.stderr.trim().split('\n').pop() ?? 'import failed') : '';
  const install = `apt-get install ${modules.map((m) => DEBIAN[m] ?? `python3-${m}`).join(' ')}`;
  return need(!r.error && r.status === 0, `${PYTHON} with ${modules.join(', ')}${why ? ` (${why})` : ''}`, install);
}

/** How to let tests mount a tmpfs or a read-only bind mount seen by one process only. */
export const MOUNT_HOW = 'util-linux unshare with user namespaces (sysctl kernel.unprivileged_userns_clone=1) or root with CAP_SYS_ADMIN (docker --privileged)';

/** A Chromium binary at `path` (chromiumPath() of @effnet/bench). */
export const chromium = (path: string): Need => need(existsSync(path), `Chromium at ${path}`, "apt-get install chromium (Debian's; or set EFFNET_CHROMIUM)");

function message(missing: readonly Need[]): string {
  return missing.map((n) => `${n.what} is missing: ${n.install}`).join('; ');
}

const warned = new Set<string>();
function warn(name: string, missing: readonly Need[]): void {
  const line = `skipped: ${name}: ${message(missing)}`;
  if (warned.has(line)) return;
  warned.add(line);
  process.stderr.write(`${line}\n`);
}

type Body = () => void | Promise<void>;

export interface Required {
  /** All needs present. */
  readonly ok: boolean;
  /** Why not, as one line ('' when ok). */
  readonly missing: string;
  /** `describe` when ok; else skipped (locally) or one failing test (CI). */
  readonly describe: (name: string, fn: () => void) => void;
  /** `it` when ok; else skipped (locally) or failing (CI). */
  readonly it: (name: string, fn: Body, timeout?: number) => void;
}

/** The tests of `describe`/`it` need all of `needs`. */
export function requires(...needs: Need[]): Required {
  const missing = needs.filter((n) => !n.ok);
  if (missing.length === 0) return { ok: true, missing: '', describe: (name, fn) => describe(name, fn), it: (name, fn, t) => it(name, fn, t) };
  const why = message(missing);
  const fail = (): never => {
    throw new Error(`CI: ${why}`);
  };
  if (CI) {
    return {
      ok: false,
      missing: why,
      describe: (name, _fn) => describe(name, () => it(`needs what is missing (CI fails instead of skipping)`, fail)),
      it: (name) => it(name, fail),
    };
  }
  return {
    ok: false,
    missing: why,
    describe: (name, fn) => {
      warn(name, missing);
      describe.skip(`${name} [skipped: ${why}]`, fn);
    },
    it: (name, fn, t) => {
      warn(name, missing);
      it.skip(`${name} [skipped: ${why}]`, fn, t);
    },
  };
}

/**
 * For a need found only inside a test (e.g. whether this machine can mount in a private namespace):
 * skips the running test with the reason locally, fails it under CI.
 */
export function skipOrFail(ctx: { skip: (note?: string) => never }, what: string, install: string): never {
  if (CI) throw new Error(`CI: ${what} is missing: ${install}`);
  process.stderr.write(`skipped: ${what} is missing: ${install}\n`);
  return ctx.skip(`${what} is missing: ${install}`);
}

/** Adds `requires` to a test's own checks (e.g. the fixture folders it iterates). */
export const all = (...needs: Need[]): Need => {
  const missing = needs.filter((n) => !n.ok);
  return missing.length === 0 ? need(true, '', '') : need(false, missing.map((n) => n.what).join(', '), [...new Set(missing.map((n) => n.install))].join('; '));
};
