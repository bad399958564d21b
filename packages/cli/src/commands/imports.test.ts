/**
 * Layering: `effnet export` and `effnet info` build and write models through @effnet/pipeline and
 * load nothing of the measuring stack. A fresh Node process imports the built export/info command
 * modules and runs them (an export of default weights, so BatchNorm calibration runs) while a
 * module resolve hook records every specifier resolved and the CommonJS cache is read at the end.
 * onnxruntime-node may run only in the calibration child process, never in the command's own.
 * A control run of the same recorder proves it sees those packages when they are loaded.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readModel } from '@effnet/onnx-export';

const CLI = fileURLToPath(new URL('../../', import.meta.url));
const dist = (f: string) => join(CLI, 'dist', f);
const dir = mkdtempSync(join(tmpdir(), 'effnet-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Packages the export/info commands must not load (onnxruntime-node: not in this process). */
const FORBIDDEN = ['@effnet/bench', 'sharp', 'vega', 'vega-lite', 'playwright-core', 'onnxruntime-web', 'onnxruntime-node'] as const;

const HOOKS = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, JSON.stringify([specifier, r.url]) + '\\n');
  return r;
}
`;

interface Loaded {
  /** [specifier, resolved URL] of every ESM resolution, and every CommonJS module file loaded. */
  readonly resolved: readonly (readonly [string, string])[];
  readonly cjs: readonly string[];
}

/** Runs `body` (ESM, top-level await) in a fresh node with the recorder; returns what it loaded. */
function record(name: string, body: string): Loaded {
  const log = join(dir, `${name}.log`);
  const cache = join(dir, `${name}.cjs.json`);
  const hooks = join(dir, 'hooks.mjs');
  const register = join(dir, 'register.mjs');
  writeFileSync(hooks, HOOKS);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: process.env.EFFNET_RESOLVE_LOG } });\n`);
  writeFileSync(log, '');
  const script = `import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
${body}
writeFileSync(${JSON.stringify(cache)}, JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
`;
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', script], {
    cwd: CLI,
    env: { ...process.env, EFFNET_RESOLVE_LOG: log },
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(r.status, `${name}: ${r.stderr}`).toBe(0);
  const resolved = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as [string, string]);
  return { resolved, cjs: JSON.parse(readFileSync(cache, 'utf8')) as string[] };
}

/** The forbidden packages among what a process loaded, by specifier or by file location. */
function forbiddenIn(l: Loaded): string[] {
  const hit = new Set<string>();
  const where = (p: string) => (p === '@effnet/bench' ? ['/packages/bench/', '/node_modules/@effnet/bench/'] : [`/node_modules/${p}/`]);
  for (const p of FORBIDDEN) {
    if (l.resolved.some(([spec, url]) => spec === p || spec.startsWith(`${p}/`) || where(p).some((w) => url.includes(w)))) hit.add(p);
    if (l.cjs.some((f) => where(p).some((w) => f.includes(w)))) hit.add(p);
  }
  return [...hit].sort();
}

describe('effnet export / info load nothing of @effnet/bench', () => {
  it('export (default weights, calibrated in a child process) and info: no bench, sharp, vega, playwright, onnxruntime', () => {
    for (const f of ['commands/export.js', 'commands/info.js', 'commands/common.js']) if (!existsSync(dist(f))) throw new Error(`${dist(f)} is missing: run npm run build (npm test does)`);
    const out = join(dir, 'b0.onnx');
    const loaded = record(
      'export-info',
      `import { Command } from 'commander';
const exportCmd = await import(${JSON.stringify(pathToFileURL(dist('commands/export.js')).href)});
const info = await import(${JSON.stringify(pathToFileURL(dist('commands/info.js')).href)});
const run = async (c, args) => { const p = new Command('effnet').exitOverride(); c.register(p); await p.parseAsync(['node', 'effnet', ...args]); };
await run(exportCmd, ['export', 'efficientnet-b0', '--resolution', '32', '--num-classes', '10', '-o', ${JSON.stringify(out)}]);
await run(info, ['info', 'efficientnet-b0', '--json']);`,
    );
    // It ran: through the pipeline, with BatchNorm statistics measured (by onnxruntime-node, in the child).
    expect(loaded.resolved.some(([spec]) => spec === '@effnet/pipeline')).toBe(true);
    expect(readModel(out).metadata['effnet.weights']).toMatch(/calibrated on formulaInput/);
    expect(forbiddenIn(loaded)).toEqual([]);
  });

  it('export --int8 may load sharp and onnxruntime-node (calibration), never @effnet/bench, vega or playwright', () => {
    const out = join(dir, 'lite0-int8.onnx');
    const loaded = record(
      'export-int8',
      `import { Command } from 'commander';
const exportCmd = await import(${JSON.stringify(pathToFileURL(dist('commands/export.js')).href)});
const p = new Command('effnet').exitOverride(); exportCmd.register(p);
await p.parseAsync(['node', 'effnet', 'export', 'efficientnet-lite0', '--resolution', '32', '--int8', '--calibration-data', 'builtin', '--calibration-method', 'minmax', '-o', ${JSON.stringify(out)}]);`,
    );
    expect(readModel(out).metadata['effnet.precision']).toBe('int8');
    expect(forbiddenIn(loaded)).toEqual(['onnxruntime-node']);
  });

  it('control: the same recorder sees each of these packages when a process does load them', () => {
    const loaded = record(
      'control',
      `await import('@effnet/bench');
await import('sharp');
await import('onnxruntime-node');
await import('onnxruntime-web');
await import('vega');
await import('vega-lite');
await import('playwright-core');`,
    );
    expect(forbiddenIn(loaded)).toEqual([...FORBIDDEN].sort());
  });
});
