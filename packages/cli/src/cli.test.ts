/**
 * The command-line contract, tested on the real binary (`node packages/cli/bin/effnet.js`, built
 * dist/ — `npm test` builds first): exit codes (0 ok, 1 runtime failure, 2 usage error), one
 * error line on stderr (commander's own parse errors add one hint line), stack traces only with
 * --verbose, outputs never half-written, existing outputs replaced only with --force, and an
 * export killed mid-write leaves nothing at the target path.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '@effnet/onnx-export';
import { MOUNT_HOW, skipOrFail } from '../../../test-utils/requires.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO, 'packages/cli/bin/effnet.js');
const root = mkdtempSync(join(tmpdir(), 'effnet-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

beforeAll(() => {
  if (!existsSync(join(REPO, 'packages/cli/dist/main.js'))) throw new Error('packages/cli/dist is missing: run `npm run build` (npm test does) before these tests');
});

interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: readonly string[], cwd: string, command: readonly string[] = [process.execPath, BIN]): ChildProcess {
  const [exe, ...pre] = command;
  return spawn(exe!, [...pre, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const effnet = (args: readonly string[], cwd = fresh()): Promise<Result> => finished(start(args, cwd));

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
const STACK = /^\s+at /m;

/** An error of effnet's own: exactly one line, no stack. */
function expectError(r: Result, code: 1 | 2, ...parts: (string | RegExp)[]): void {
  expect(r.code, r.stderr).toBe(code);
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toMatch(/^effnet: error: /);
  for (const p of parts) expect(r.stderr).toMatch(p);
  expect(r.stderr).not.toMatch(STACK);
}

/** A parse error reported by commander: one error line plus one line pointing at --help. */
function expectParseError(r: Result, command: string, ...parts: (string | RegExp)[]): void {
  expect(r.code, r.stderr).toBe(2);
  const [error, hint, ...rest] = lines(r.stderr);
  expect(rest).toEqual([]);
  expect(error).toMatch(/^effnet: error: /);
  expect(hint).toBe(command ? `(run 'effnet ${command} --help' for usage)` : '(run with --help for usage)');
  for (const p of parts) expect(error).toMatch(p);
}

describe.concurrent('effnet usage errors: exit 2', () => {
  it('unknown model id: names the id and points at effnet list', async () => {
    for (const cmd of ['export', 'info']) {
      const r = await effnet([cmd, 'efficientnet-b9']);
      expectError(r, 2, "unknown model 'efficientnet-b9'", "run 'effnet list'");
    }
  });

  it.each([
    [['--batch', '-1'], "--batch expects an integer from 1 to 1024, got '-1'"],
    [['--batch', '0'], "--batch expects an integer from 1 to 1024, got '0'"],
    [['--batch', '100000'], "--batch expects an integer from 1 to 1024, got '100000'"],
    [['--resolution', '0'], "--resolution expects an integer from 1 to 4096, got '0'"],
    [['--resolution', '20000'], "--resolution expects an integer from 1 to 4096, got '20000'"],
    [['--num-classes', '100000000'], "--num-classes expects an integer from 1 to 100000, got '100000000'"],
    [['--opset', '99'], "--opset expects an integer from 13 to 21, got '99'"],
    [['--opset', 'abc'], "--opset expects an integer from 13 to 21, got 'abc'"],
    [['--num-classes', '1.5'], "--num-classes expects an integer from 1 to 100000, got '1.5'"],
    [['--input-name', ''], "--input-name expects a non-empty tensor name, got ''"],
    // Would build a graph for ever (depth grows with φ): bounded.
    [['--phi', '200'], "--phi expects a number >= 0 and <= 20, got '200'"],
    [['--depth', '1e9'], "--depth expects a number > 0 and <= 50, got '1e9'"],
    [['--cells', '100000'], "--cells expects an integer from 1 to 1000, got '100000'"],
  ])('bad flag value %j: names the flag and what it expects, writes nothing', async (flag, message) => {
    const dir = fresh();
    const r = await effnet(['export', 'b0', ...flag], dir);
    expectParseError(r, 'export', message);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an architecture flag on a family where it means nothing (--phi/--width/--depth on AmoebaNet, which declares no scaling rule)', async () => {
    const dir = fresh();
    expectError(await effnet(['export', 'amoebanet-b', '--phi', '1'], dir), 2, "--phi applies to models whose family declares how it scales only, not 'amoebanet-b'");
    expectError(await effnet(['info', 'amoebanet-b', '--width', '1.2'], dir), 2, "--width applies to models whose family declares how it scales only, not 'amoebanet-b'");
    expectError(await effnet(['info', 'amoebanet-b', '--depth', '2'], dir), 2, "--depth applies to models whose family declares how it scales only, not 'amoebanet-b'");
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the same name for input and output', async () => {
    const dir = fresh();
    expectError(await effnet(['export', 'b0', '--input-name', 'logits'], dir), 2, "--input-name and --output-name are both 'logits'");
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    [['eval', 'b0', '--data', '.', '--threads', '1000000'], 'eval', "--threads expects an integer from 1 to 256, got '1000000'"],
    [['eval', 'b0', '--data', '.', '--batch', '100000'], 'eval', "--batch expects an integer from 1 to 1024, got '100000'"],
    [['eval', 'b0', '--data', '.', '--crop-pct', '0.0001'], 'eval', "--crop-pct expects a number >= 0.1 and <= 1, got '0.0001'"],
    [['eval', 'b0', '--data', '.', '--limit', '1e12'], 'eval', "--limit expects an integer from 1 to 100000000, got '1e12'"],
    [['eval', 'b0', '--data', '.', '--prefetch', '1000'], 'eval', "--prefetch expects an integer from 1 to 64, got '1000'"],
    [['classify', 'b0', 'x.png', '--top', '5000'], 'classify', "--top expects an integer from 1 to 1000, got '5000'"],
    [['bench', 'b0', '--threads', '1000000'], 'bench', "--threads expects an integer from 1 to 256, got '1000000'"],
    [['bench', 'b0', '--batch', '1,100000'], 'bench', "--batch expects comma-separated integers from 1 to 1024, got '1,100000'"],
    [['bench', 'b0', '--iterations', '99999999'], 'bench', "--iterations expects an integer from 1 to 1000000, got '99999999'"],
    [['bench', 'b0', '--warmup', '1000000'], 'bench', "--warmup expects an integer from 0 to 10000, got '1000000'"],
    [['bench', 'b0', '--time', '1e9'], 'bench', "--time expects an integer from 0 to 3600000, got '1e9'"],
    [['bench', 'b0', '--max-time', '0'], 'bench', "--max-time expects an integer from 1 to 3600000, got '0'"],
    [['bench', 'b0', '--resolution', '20000'], 'bench', "--resolution expects an integer from 1 to 4096, got '20000'"],
    [['serve', 'b0', '--port', '70000'], 'serve', "--port expects an integer from 0 to 65535, got '70000'"],
    [['scale-search', '--budget-ms', '1e12'], 'scale-search', "--budget-ms expects a number > 0 and <= 3600000, got '1e12'"],
    [['scale-search', '--budget-flops', '1e20'], 'scale-search', "--budget-flops expects a number > 0 and <= 1000000000000000, got '1e20'"],
    [['scale-search', '--budget-flops', '1e9', '--tolerance', '5'], 'scale-search', "--tolerance expects a number >= 0 and <= 1, got '5'"],
    [['scale-search', '--budget-flops', '1e9', '--threads', '1000'], 'scale-search', "--threads expects an integer from 1 to 256, got '1000'"],
    [['scale-search', '--budget-flops', '1e9', '--iterations', '0'], 'scale-search', "--iterations expects an integer from 1 to 1000000, got '0'"],
  ])('numeric flag out of its documented range %j: exit 2 naming the flag and the range', async (args, command, message) => {
    const dir = fresh();
    expectParseError(await effnet(args, dir), command, message);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a scale-search grid too fine to ever finish', async () => {
    expectError(
      await effnet(['scale-search', '--budget-flops', '1e9', '--grid', '1:2:1e-7']),
      2,
      "--grid expects MIN:MAX:STEP with 1 <= MIN <= MAX <= 10, STEP > 0 and at most 200 values (e.g. 1:1.5:0.05), got '1:2:1e-7'",
    );
  });

  it('unknown flag, missing argument, missing flag value, unknown command', async () => {
    expectParseError(await effnet(['export', 'b0', '--bogus']), 'export', "unknown option '--bogus'");
    expectParseError(await effnet(['export']), 'export', "missing required argument 'model'");
    expectParseError(await effnet(['export', 'b0', '-o']), 'export', "option '-o, --out <file>' argument missing");
    expectParseError(await effnet(['frobnicate']), '', "unknown command 'frobnicate'");
  });

  it('an existing output is refused without --force and left untouched; --force replaces it', async () => {
    const dir = fresh();
    const path = join(dir, 'taken.onnx');
    writeFileSync(path, 'precious');
    const refused = await effnet(['export', 'b0', '-o', 'taken.onnx'], dir);
    expectError(refused, 2, 'taken.onnx: already exists (use --force to overwrite)');
    expect(readFileSync(path, 'utf8')).toBe('precious');
    const forced = await effnet(['export', 'b0', '-o', 'taken.onnx', '--force'], dir);
    expect(forced.code, forced.stderr).toBe(0);
    expect(decodeModel(readFileSync(path)).metadata['effnet.model']).toBe('efficientnet-b0');
    expect(readdirSync(dir)).toEqual(['taken.onnx']);
  });
});

describe.concurrent('effnet runtime errors: exit 1, one line naming the path', () => {
  it('output in a missing directory', async () => {
    const dir = fresh();
    const r = await effnet(['export', 'b0', '-o', 'no/such/dir/b0.onnx'], dir);
    expectError(r, 1, "no/such/dir/b0.onnx: cannot write output: directory 'no' does not exist");
    expect(readdirSync(dir)).toEqual([]);
  });

  it('output under a regular file (ENOTDIR)', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const r = await effnet(['export', 'b0', '-o', 'notes.txt/b0.onnx'], dir);
    expectError(r, 1, "notes.txt/b0.onnx: cannot write output: 'notes.txt' is not a directory");
  });

  it('output path that is a directory, even with --force', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'models'));
    expectError(await effnet(['export', 'b0', '-o', 'models', '--force'], dir), 1, 'models: is a directory');
    expect(readdirSync(join(dir, 'models'))).toEqual([]);
  });

  it('output in a read-only directory', async (ctx) => {
    const dir = fresh();
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    // Root ignores permission bits: as root the directory is made read-only by a bind mount that
    // only the effnet process sees.
    let command: string[] = [process.execPath, BIN];
    if (process.getuid?.() === 0) {
      const m = privateMount(ro, 'mount --bind -o ro "$0" "$0"');
      if ('skip' in m) return skipOrFail(ctx, m.skip, MOUNT_HOW);
      command = m.command;
    } else {
      spawnSync('chmod', ['0555', ro]);
    }
    const r = await finished(start(['export', 'b0', '-o', 'ro/b0.onnx'], dir, command));
    expectError(r, 1, /ro\/b0\.onnx: cannot write output: ('ro' is on a read-only file system|no permission to create files in 'ro')/);
    expect(readdirSync(ro)).toEqual([]);
  });

  it('disk full while writing: one line naming the path, no partial output, no temp file', async (ctx) => {
    const dir = fresh();
    const small = join(dir, 'small');
    mkdirSync(small);
    // A 2 MiB tmpfs (b0 needs 21 MB), seen only by the effnet process; `ls` then shows what is left in it.
    // --no-space-check: past the check before writing (harden.test.ts), as when others fill the disk meanwhile.
    const m = privateMount(small, 'mount -t tmpfs -o size=2m tmpfs "$0"', '; rc=$?; ls -A "$0"; exit $rc');
    if ('skip' in m) return skipOrFail(ctx, m.skip, MOUNT_HOW);
    const r = await finished(start(['export', 'b0', '--no-space-check', '-o', join(small, 'b0.onnx')], dir, m.command));
    expectError(r, 1, `${join(small, 'b0.onnx')}: write failed after 2097152 bytes: no space left on the device of '${small}'`);
    expect(r.stdout).toBe('');
  });

  it('bench, scale-search and eval check their outputs before doing any work', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const notADir = "notes.txt: cannot write output: 'notes.txt' is not a directory";
    expectError(await effnet(['bench', 'b0', '--out', 'notes.txt'], dir), 1, notADir);
    expectError(await effnet(['scale-search', '--budget-flops', '1e9', '--out', 'notes.txt'], dir), 1, notADir);
    expectError(await effnet(['eval', 'b0', '--data', '.', '--json', 'no/eval.json'], dir), 1, "no/eval.json: cannot write output: directory 'no' does not exist");
    expectError(await effnet(['eval', 'b0', '--data', '.', '--predictions', 'notes.txt'], dir), 2, 'notes.txt: already exists (use --force to overwrite)');
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('--verbose adds the stack trace, to runtime and usage errors alike', async () => {
    const dir = fresh();
    const quiet = await effnet(['export', 'b0', '-o', 'missing/b0.onnx'], dir);
    expectError(quiet, 1, 'missing/b0.onnx');
    const loud = await effnet(['export', 'b0', '-o', 'missing/b0.onnx', '--verbose'], dir);
    expect(loud.code).toBe(1);
    expect(lines(loud.stderr)[0]).toBe(lines(quiet.stderr)[0]);
    expect(loud.stderr).toMatch(STACK);
    const usage = await effnet(['--verbose', 'info', 'nosuch']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/UnknownModelError/);
    expect(usage.stderr).toMatch(STACK);
  });
});

/**
 * `effnet …` run in a private mount namespace after `mount` (sh; $0 is `dir`), so that a read-only
 * or tiny file system is seen by that process only; or why this machine cannot do it.
 */
function privateMount(dir: string, mount: string, after = ''): { command: string[] } | { skip: string } {
  const unshare = process.getuid?.() === 0 ? ['unshare', '-m'] : ['unshare', '-rm'];
  const probe = spawnSync(unshare[0]!, [...unshare.slice(1), 'sh', '-c', `${mount} && echo mounted`, dir], { encoding: 'utf8' });
  if (probe.stdout.trim() !== 'mounted') return { skip: `a private mount namespace (${unshare.join(' ')}: ${probe.stderr.trim() || probe.error?.message})` };
  return { command: [...unshare, 'sh', '-c', `${mount} && "$@"${after}`, dir, process.execPath, BIN] };
}

async function waitFor<T>(what: string, f: () => T | undefined, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const temps = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('.effnet-tmp-'));

/**
 * Starts an export, waits until its temporary file holds `bytes`, freezes the process (SIGSTOP) so
 * the moment is certain, sends `signal`, lets it run again and waits for it to end.
 */
async function interrupt(signal: NodeJS.Signals, args: readonly string[], tempSuffix: string, bytes = 20 << 20) {
  const dir = fresh();
  const child = start(args, dir);
  const done = finished(child);
  const temp = await waitFor(`a ${tempSuffix} temp file of ${bytes} bytes`, () => {
    const t = temps(dir).find((f) => f.endsWith(tempSuffix));
    return t && (statSync(join(dir, t), { throwIfNoEntry: false })?.size ?? 0) >= bytes ? t : undefined;
  });
  child.kill('SIGSTOP');
  const partial = statSync(join(dir, temp)).size;
  child.kill(signal);
  child.kill('SIGCONT');
  const r = await done;
  return { dir, r, temp, partial };
}

const RESNET152_BYTES = 241_498_348;

/** Died of the signal (re-raised after cleanup) or, where that is not possible, exited 128+n. */
const diedOf = (r: Result, sig: NodeJS.Signals): boolean => r.signal === sig || r.code === 128 + constants.signals[sig];

// AmoebaNet-B(18, 512) streams 2.2 GB of external data for seconds: a wide window, and the only
// default model whose BatchNorm statistics are not calibrated first (~1.5 s for ResNet-152, ~4 s for B7).
const AMOEBANET_DATA_BYTES = 2_231_044_000;

describe('interrupted export: nothing at the target path', () => {
  it('SIGINT (Ctrl-C) while writing an inline model (ResNet-152, 241 MB): stops, no target, no temporary file', async () => {
    const { dir, r, partial } = await interrupt('SIGINT', ['export', 'resnet152', '-o', 'r152.onnx'], 'r152.onnx');
    expect(partial).toBeLessThan(RESNET152_BYTES);
    expect(diedOf(r, 'SIGINT'), JSON.stringify(r)).toBe(true);
    expect(r.stderr).not.toMatch(/wrote/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s while streaming external data (AmoebaNet-B): neither the model nor its .data appear, no temporary file', async (sig) => {
    const { dir, r, partial } = await interrupt(sig, ['export', 'amoebanet-b', '-o', 'am.onnx'], 'am.onnx.data');
    expect(partial).toBeLessThan(AMOEBANET_DATA_BYTES);
    expect(diedOf(r, sig), JSON.stringify(r)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('SIGKILL mid-write: no target (temp files remain), removed by the next export to that path once stale', async () => {
    const { dir, r } = await interrupt('SIGKILL', ['export', 'amoebanet-b', '-o', 'am.onnx'], 'am.onnx.data');
    expect(r.signal).toBe('SIGKILL');
    const left = readdirSync(dir);
    expect(left.sort()).toEqual(temps(dir).sort());
    expect(left.map((f) => f.replace(/^\.effnet-tmp-\d+-[0-9a-z]+-/, '')).sort()).toEqual(['am.onnx', 'am.onnx.data']);
    const old = (Date.now() - 10 * 60_000) / 1000;
    for (const f of left) utimesSync(join(dir, f), old, old);
    const again = await effnet(['export', 'b0', '--external-data', '-o', 'am.onnx'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['am.onnx', 'am.onnx.data']);
  });
});

/** effnet with an exact colour/width environment (NO_COLOR, FORCE_COLOR, COLUMNS unset unless given). */
function effnetEnv(args: readonly string[], env: Record<string, string>): Promise<Result> {
  const base = { ...process.env };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS']) delete base[k];
  return finished(spawn(process.execPath, [BIN, ...args], { cwd: fresh(), env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe.concurrent('a quiet, tidy terminal', () => {
  const ESC = '\x1b';
  const width = (s: string) => Math.max(...s.split('\n').map((l) => [...l].length));

  it('list fits 80 columns when piped, names every model whole, and has no colour codes', async () => {
    const r = await effnetEnv(['list'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    expect(width(r.stdout)).toBeLessThanOrEqual(80);
    const ids = JSON.parse((await effnetEnv(['list', '--json'], {})).stdout).map((m: { id: string }) => m.id) as string[];
    expect(ids.length).toBeGreaterThan(20);
    for (const id of ids) expect(r.stdout).toMatch(new RegExp(`│ ${id} +│`));
    expect(r.stdout).not.toContain('…');
    const wide = await effnetEnv(['list'], { COLUMNS: '200' });
    expect(width(wide.stdout)).toBeLessThanOrEqual(200);
    expect(width(wide.stdout)).toBeGreaterThan(80);
  });

  it('NO_COLOR wins over FORCE_COLOR; FORCE_COLOR alone colours piped output (so colour is what the flags say)', async () => {
    expect((await effnetEnv(['list'], { FORCE_COLOR: '1' })).stdout).toContain(ESC);
    for (const args of [['list'], ['info', 'b0']]) {
      const r = await effnetEnv(args, { NO_COLOR: '1', FORCE_COLOR: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(ESC);
    }
  });
});

describe('scale-search end to end (the real binary, a two-candidate grid)', () => {
  // (1.15, 1.15, 1.15) is the only grid triple within 1% of α·β²·γ² = 2; the paper's (1.2, 1.1, 1.15) is always added.
  const GRID = ['--grid', '1.15:1.15:0.05', '--tolerance', '0.01'];

  it('--eval-cmd: free text with numbers is refused (no score taken from the file name)', async () => {
    const dir = fresh();
    const r = await effnet(['scale-search', '--budget-flops', '4e8', ...GRID, '--max-phi', '0.2', '--eval-cmd', 'echo accuracy 0.9 on {onnx}'], dir);
    // Progress lines (stderr is not a terminal), then the one error line.
    expect(r.code, r.stderr).toBe(1);
    const last = lines(r.stderr).at(-1)!;
    expect(last).toMatch(/^effnet: error: --eval-cmd for .*\.onnx: expected a line 'score: <number>' or a number alone on the last line, got 'accuracy 0\.9 on /);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout).toBe('');
  }, 120_000);

  it("--eval-cmd: 'score: N' is the score; quotes around {onnx} are dropped with a warning; the path is a real model", async () => {
    const dir = fresh();
    const cmd = 'test -s "{onnx}" && echo "phi1.2-a1.15 {onnx}" && echo "score: 0.7"';
    const r = await effnet(['scale-search', '--budget-flops', '4e8', ...GRID, '--max-phi', '0.2', '--eval-cmd', cmd, '--json', '--out', 'out'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: --eval-cmd: {onnx} is replaced by an already shell-quoted path');
    const report = JSON.parse(r.stdout);
    expect(report.rankedBy).toBe('score');
    expect(report.candidates).toHaveLength(2);
    for (const c of report.candidates) expect(c.score).toBe(0.7);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['candidates.svg', 'coefficients.svg', 'results.json', 'results.md']);
  }, 120_000);

  it('--budget-ms: measures latency on cpu and keeps candidates under the budget', async () => {
    const dir = fresh();
    const r = await effnet(['scale-search', '--budget-ms', '5000', ...GRID, '--max-phi', '0.2', '--iterations', '1', '--json', '--out', 'out'], dir);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ep).toBe('cpu');
    expect(report.budget).toEqual({ kind: 'latency', ms: 5000 });
    expect(report.latencyFit).toBeDefined();
    expect(report.candidates.length).toBeGreaterThan(0);
    for (const c of report.candidates) {
      expect(c.latencyMs).toBeGreaterThan(0);
      expect(c.latencyMs).toBeLessThanOrEqual(5000);
      expect(c.phi).toBeLessThanOrEqual(0.2);
    }
    expect(readFileSync(join(dir, 'out', 'candidates.svg'), 'utf8')).toContain('budget 5000 ms');
  }, 300_000);
});
