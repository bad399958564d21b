/**
 * Hardening III (issue #22) through the real binary, sizes and memory: tiny inputs give calibrated
 * default weights that run (not NaN), huge ones are refused before they exhaust memory.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formulaInput } from '@effnet/efficientnet';
import { readModel } from '@effnet/onnx-export';
import { openSession, tensor } from '@effnet/runtime';
import { binScratch } from './test-utils/bin.js';

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
      expect(readModel(out).metadata['effnet.weights']).toMatch(/calibrated on formulaInput\(\[32,3,R,R\]\)/);
      for (const data of [formulaInput([2, 3, 1, 1]), new Float32Array(6).fill(0.5), formulaInput([2, 3, 1, 1]).map((v) => v / 2)])
        expect(await maxAbsLogit(out, data, 1), id).toBeLessThan(100);
    }
    const q = join(d, 'b0-int8.onnx');
    const r = await effnet(['export', 'efficientnet-b0', '--resolution', '1', '--int8', '--calibration-data', 'builtin', '-o', q], d);
    expect(r.code, r.stderr).toBe(0);
    expect(await maxAbsLogit(q, new Float32Array(6).fill(0.5), 1)).toBeLessThan(100);
  });
});
