/**
 * `effnet export --int8`, `eval --compare` and `bench --precision` on a small model at 32 px: the
 * usage errors (one line, exit 2, nothing written), the file's int8 metadata, the latency-only
 * warning in every report, the comparison fields, the side-by-side precision rows.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModel } from '@effnet/onnx-export';
import { runCli as run } from '../test-utils/run.js';
import { requires, SHARED, sharedData } from '../../../../test-utils/requires.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-int8-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VAL = join(SHARED, 'imagenette/val');
const DATA = requires(sharedData('imagenette/val'));
const MODEL = ['efficientnet-lite0', '--resolution', '32'];

/** `lines`: 2 for flag values commander rejects (its error line, then its usage hint). */
async function usageError(args: string[], message: RegExp, lines = 1): Promise<void> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.onnx`);
  const r = await run([...args, ...(args[0] === 'export' ? ['-o', out] : [])]);
  expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(lines);
  expect(r.err).toMatch(message);
  expect(r.code).toBe(2);
  expect(existsSync(out)).toBe(false);
}

describe('export --int8: bad input, one line, exit 2, nothing written', () => {
  it('no --calibration-data', () => usageError(['export', ...MODEL, '--int8'], /--int8 needs --calibration-data <dir>.*--calibration-data builtin/));
  it('--fp16 or --fp16-io with --int8', async () => {
    await usageError(['export', ...MODEL, '--int8', '--fp16', '--calibration-data', 'builtin'], /--int8 with --fp16: choose one precision/);
    await usageError(['export', ...MODEL, '--int8', '--fp16-io', '--calibration-data', 'builtin'], /--int8 with --fp16-io/);
  });
  it('calibration flags without --int8', () => usageError(['export', ...MODEL, '--calibration-method', 'minmax'], /--calibration-method applies to int8 only: add --int8/));
  it('an out-of-range --calibration-images or unknown method', async () => {
    await usageError(['export', ...MODEL, '--int8', '--calibration-data', dir, '--calibration-images', '0'], /--calibration-images expects an integer from 1 to 5000/, 2);
    await usageError(['export', ...MODEL, '--int8', '--calibration-data', dir, '--calibration-method', 'kl'], /--calibration-method expects one of minmax, percentile, entropy/, 2);
  });
  it('a missing, an empty, and an undecodable calibration folder', async () => {
    await usageError(['export', ...MODEL, '--int8', '--calibration-data', join(dir, 'nope')], /--calibration-data .*nope: no such directory/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await usageError(['export', ...MODEL, '--int8', '--calibration-data', empty], /--calibration-data .*empty: no images/);
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'cls'), { recursive: true });
    for (const n of ['a.jpg', 'b.png']) writeFileSync(join(bad, 'cls', n), 'not an image');
    await usageError(['export', ...MODEL, '--int8', '--calibration-data', bad], /--calibration-data .*bad: none of the 2 calibration images could be decoded/);
  }, 60_000);
});

describe('export --int8: memory estimated before any image is read', () => {
  // B0 at 4096 px needs ~117 GB (29 GB of activations per image); a machine with that much free would run it.
  (freemem() < 100e9 ? DATA.it : it.skip)(
    'a calibration that cannot fit is refused with the figure: one line, exit 1, nothing written, in seconds',
    async () => {
      const out = join(dir, 'huge.onnx');
      const weights = join(SHARED, 'imagenette/efficientnet_b0-imagenette.safetensors');
      const t0 = performance.now();
      const r = await run(['export', 'efficientnet-b0', '--weights', weights, '--resolution', '4096', '--int8', '--calibration-data', VAL, '-o', out]);
      expect(r.code, r.err).toBe(1);
      expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
      expect(r.err).toMatch(/int8 calibration of efficientnet-b0 at 4096 px needs about \d+\.\d GB \(\d+ MB of activations per image\); [\d.]+ GB is available: lower --resolution/);
      expect(existsSync(out)).toBe(false);
      expect(performance.now() - t0).toBeLessThan(60_000);
    },
    120_000,
  );
});

describe('export --int8 --calibration-data builtin, eval --compare, bench --precision', () => {
  const fp32 = join(dir, 'lite0-fp32.onnx');
  const int8 = join(dir, 'lite0-int8.onnx');

  it('--calibration-data builtin beside a ./builtin folder says which one it means', async () => {
    const cwd = process.cwd();
    const here = join(dir, 'cwd');
    mkdirSync(join(here, 'builtin'), { recursive: true });
    process.chdir(here);
    try {
      const r = await run(['export', ...MODEL, '--int8', '--calibration-data', 'builtin', '-o', join(dir, 'amb.onnx')]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/warning: --calibration-data builtin is the built-in input \(latency only\), not the folder \.\/builtin; for the folder give \.\/builtin/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('export writes a latency-only int8 file and says so', async () => {
    const r = await run(['export', ...MODEL, '--int8', '--calibration-data', 'builtin', '--calibration-method', 'minmax', '-o', int8]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning: int8 calibrated on the built-in input: latency only, accuracy meaningless/);
    const m = readModel(int8);
    expect(m.metadata).toMatchObject({
      'effnet.precision': 'int8',
      'effnet.int8.calibration_method': 'minmax',
      'effnet.int8.calibration_images': '8',
      'effnet.int8.calibration_source': 'built-in input (latency only)',
      'effnet.int8.policy': 'all',
    });
    expect(m.ir.nodes.some((n) => n.op === 'QuantizeLinear')).toBe(true);
    expect((await run(['export', ...MODEL, '-o', fp32])).code).toBe(0);
  }, 120_000);

  DATA.it(
    'export --calibration-data DIR records the folder and image count',
    async () => {
      const out = join(dir, 'lite0-real.onnx');
      const r = await run(['export', ...MODEL, '--int8', '--calibration-data', VAL, '--calibration-images', '5', '--json', '-o', out]);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ precision: 'int8', int8: { method: 'entropy', images: 5, latencyOnly: false } });
      expect(readModel(out).metadata).toMatchObject({ 'effnet.int8.calibration_source': VAL, 'effnet.int8.calibration_images': '5', 'effnet.int8.calibration_method': 'entropy' });
    },
    120_000,
  );

  DATA.it(
    'eval --compare: top-1 change and per-image agreement; the latency-only warning',
    async () => {
      const json = join(dir, 'eval.json');
      const r = await run(['eval', int8, '--data', VAL, '--limit', '20', '--compare', fp32, '--json', json]);
      expect(r.code, r.err).toBe(0);
      const e = JSON.parse(readFileSync(json, 'utf8'));
      expect(e.precision).toBe('int8');
      expect(e.warning).toBe('int8 calibrated on the built-in input: latency only, accuracy meaningless');
      expect(e.compare).toMatchObject({ model: fp32, precision: 'float32', n: 20 });
      expect(e.compare.agree).toBe(Math.round(e.compare.agreement * 20));
      expect(e.compare.top1Change).toBeCloseTo(e.top1 - e.compare.top1, 12);
      expect(r.out).toMatch(/compare .*lite0-fp32\.onnx \(float32\): top-1 [\d.]+%, change [+-][\d.]+ pp; per-image top-1 agreement [\d.]+% \(\d+\/20\)/);
      expect(r.out).toMatch(/warning: int8 calibrated on the built-in input/);
      // The same file against itself agrees everywhere.
      const cls = await run(['classify', int8, join(VAL, 'n01440764', readdirSync(join(VAL, 'n01440764'))[0]!)]);
      expect(cls.code, cls.err).toBe(0);
      expect(cls.err).toMatch(/warning: int8 calibrated on the built-in input: latency only, accuracy meaningless/);
      const self = await run(['eval', fp32, '--data', VAL, '--limit', '8', '--compare', fp32, '--json']);
      expect(JSON.parse(self.out).compare).toMatchObject({ agreement: 1, top1Change: 0, n: 8 });
    },
    180_000,
  );

  it('bench --precision fp32,int8: rows side by side, int8 labelled latency only', async () => {
    const out = join(dir, 'bench');
    const r = await run(['bench', ...MODEL, '--precision', 'fp32,int8', '--iterations', '3', '--warmup', '1', '--time', '0', '--threads', '1', '--no-isolate', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.precisions.map((p: { precision: string }) => p.precision)).toEqual(['fp32', 'int8']);
    const [f, q] = rep.precisions;
    expect(f.speedupVsFp32).toBe(1);
    expect(q.speedupVsFp32).toBeCloseTo(f.p50Ms / q.p50Ms, 10);
    expect(q.fileBytes).toBeLessThan(f.fileBytes / 2);
    expect(q.note).toMatch(/latency only/);
    expect(rep.results.map((x: { model: string; label: string }) => [x.model, x.label])).toEqual([
      ['efficientnet-lite0', 'efficientnet-lite0 fp32'],
      ['efficientnet-lite0', 'efficientnet-lite0 int8, latency only'],
    ]);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(/## Precisions side by side[\s\S]*\| efficientnet-lite0 \| int8 \* \|[\s\S]*latency only, accuracy meaningless/);
    await usageError(['bench', ...MODEL, '--calibration-data', VAL], /--calibration-data applies to int8: add --precision with int8/);
    await usageError(['bench', ...MODEL, '--precision', 'fp32,int4'], /--precision expects a comma-separated list of fp32, fp16, int8, got 'int4'/, 2);
  }, 180_000);
});
