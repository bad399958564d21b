/**
 * Hardening III (issue #22) through the real binary, sizes and memory: tiny inputs give calibrated
 * default weights that run (not NaN), huge ones are refused before they exhaust memory.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { formulaInput } from '@effnet/efficientnet';
import { readModel } from '@effnet/onnx-export';
import { openSession, tensor } from '@effnet/runtime';
import { binScratch, expectError, type BinResult } from './test-utils/bin.js';

const { fresh, effnet } = binScratch('effnet-harden3-mem-');

/** Largest |logit| of `file` on a [2,3,R,R] input (Infinity if any is NaN or infinite). */
async function maxAbsLogit(file: string, data: Float32Array, r: number): Promise<number> {
  const s = await openSession(file, { threads: 1 });
  try {
    const out = await s.run({ [s.inputs[0]!.name]: tensor('float32', data, [2, 3, r, r]) });
    let max = 0;
    for (const v of out[s.outputs[0]!.name]!.data as Float32Array) max = Number.isFinite(v) ? Math.max(max, Math.abs(v)) : Infinity;
    return max;
  } finally {
    await s.release();
  }
}

describe('tiny resolutions: default weights calibrated so that the file runs', () => {
  // At 1 px every map is 1×1: a calibration batch of 2 gave each BatchNorm 2 values per channel,
  // and the eval-mode file amplified anything but that batch to 1e30 or NaN (exit 0).
  it('export efficientnet-b0 / resnet50 --resolution 1: finite, O(1) logits on inputs other than the calibration batch; --int8 too', async () => {
    const d = fresh();
    for (const id of ['efficientnet-b0', 'resnet50']) {
      const out = join(d, `${id}.onnx`);
      const r = await effnet(['export', id, '--resolution', '1', '-o', out], d);
      expect(r.code, r.stderr).toBe(0);
      expect(readModel(out).metadata['effnet.weights']).toMatch(/calibrated on formulaInput\(\[128,3,R,R\]\)/);
      for (const data of [formulaInput([2, 3, 1, 1]), new Float32Array(6).fill(0.5), formulaInput([2, 3, 1, 1]).map((v) => v / 2)]) expect(await maxAbsLogit(out, data, 1), id).toBeLessThan(100);
    }
    const q = join(d, 'b0-int8.onnx');
    const r = await effnet(['export', 'efficientnet-b0', '--resolution', '1', '--int8', '--calibration-data', 'builtin', '-o', q], d);
    expect(r.code, r.stderr).toBe(0);
    expect(await maxAbsLogit(q, new Float32Array(6).fill(0.5), 1)).toBeLessThan(100);
  });

  it('a size a model cannot build at (AmoebaNet-B: unpadded 3x3 stem) is exit 2 naming --resolution and the smallest size that builds', async () => {
    const r = await effnet(['export', 'amoebanet-b', '--resolution', '2', '-o', 'a.onnx']);
    expectError(r, 2, /--resolution 2: amoebanet-b cannot run at 2x2 \(Conv 'stem\.conv0': window 3 .*\); the smallest size it builds at is 3$/m);
    expect((await effnet(['info', 'amoebanet-b', '--cells', '2', '--filters', '16', '--resolution', '3'])).code).toBe(0);
  });
});

/** `effnet args` with EFFNET_MEMORY_LIMIT=limit: a machine that small, without using that memory. */
async function withLimit(limit: string, args: readonly string[], cwd: string): Promise<BinResult> {
  const before = process.env.EFFNET_MEMORY_LIMIT;
  process.env.EFFNET_MEMORY_LIMIT = limit;
  try {
    return await effnet(args, cwd);
  } finally {
    if (before === undefined) delete process.env.EFFNET_MEMORY_LIMIT;
    else process.env.EFFNET_MEMORY_LIMIT = before;
  }
}

describe('memory estimated and refused before a run that would not fit', () => {
  // Lite0 at 4096 px took 10 GB in 18 s for its BatchNorm statistics before; now the estimate (11.1 GB) is
  // checked first. A 600 MB machine is simulated with EFFNET_MEMORY_LIMIT, so nothing big ever runs here.
  it('export efficientnet-lite0 --resolution 4096 on a 600 MB budget: exit 1 at once, the estimate and a --resolution that fits; that one is written', async () => {
    const d = fresh();
    const t0 = performance.now();
    const r = await withLimit('600M', ['export', 'efficientnet-lite0', '--resolution', '4096', '-o', 'big.onnx'], d);
    expectError(
      r,
      1,
      /efficientnet-lite0 at 4096x4096 px: calibrating the default weights' BatchNorm statistics needs about 1[01]\.\d GB/,
      /available of [\d.]+ GB \(EFFNET_MEMORY_LIMIT=600 MB\)/,
      /use --resolution (\d+) or less/,
    );
    expect(performance.now() - t0).toBeLessThan(15000);
    expect(existsSync(join(d, 'big.onnx'))).toBe(false);
    const fit = Number(/--resolution (\d+) or less/.exec(r.stderr)![1]);
    expect(fit).toBeGreaterThan(256);
    expect(fit).toBeLessThan(1024);
    const ok = await withLimit('600M', ['export', 'efficientnet-lite0', '--resolution', String(fit), '-o', 'fit.onnx'], d);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(d, 'fit.onnx'))).toBe(true);
  });

  it('eval --batch 1024 of B0 on a 2 GB budget: exit 1 naming --batch, the estimate and the largest batch that fits; that batch runs', async () => {
    const d = fresh();
    const model = join(d, 'b0.onnx');
    expect((await effnet(['export', 'efficientnet-b0', '--resolution', '96', '-o', model], d)).code).toBe(0);
    const data = join(d, 'data');
    mkdirSync(join(data, 'n01440764'), { recursive: true });
    for (let i = 0; i < 4; i++)
      writeFileSync(
        join(data, 'n01440764', `${i}.png`),
        await sharp({ create: { width: 120, height: 100, channels: 3, background: { r: 40 * i, g: 90, b: 200 } } })
          .png()
          .toBuffer(),
      );
    const r = await withLimit('2G', ['eval', model, '--data', data, '--batch', '1024'], d);
    expectError(r, 1, /--batch 1024: efficientnet-b0 at 96 px needs about [\d.]+ GB \([\d.]+ MB an image/, /available of [\d.]+ GB \(EFFNET_MEMORY_LIMIT=2\.0 GB\)/, /use --batch (\d+) or less/);
    const fits = Number(/--batch (\d+) or less/.exec(r.stderr)![1]);
    expect(fits).toBeGreaterThan(16);
    expect(fits).toBeLessThan(1024);
    const ok = await withLimit('2G', ['eval', model, '--data', data, '--batch', String(fits)], d);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await withLimit('lots', ['eval', model, '--data', data], d);
    expectError(bad, 2, /EFFNET_MEMORY_LIMIT="lots": expected a size in bytes/);
  });
});
