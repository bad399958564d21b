import { describe, expect, it } from 'vitest';
import { openSession, tensor, type TensorData } from '@effnet/runtime';
import { prepareModel } from './prepare.js';
import { onnxruntimeStatistics } from './onnxruntime-statistics.js';

/** Calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics of the default weights. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

const SLOW = !!process.env.EFFNET_SLOW;

async function runLogits(bytes: Uint8Array, n: number, r: number): Promise<TensorData> {
  const s = await openSession(bytes);
  try {
    const x = tensor(
      'float32',
      new Float32Array(n * 3 * r * r).map((_, i) => Math.sin(i)),
      [n, 3, r, r],
    );
    return (await s.run({ input: x })).logits!;
  } finally {
    await s.release();
  }
}

describe('exported models run in onnxruntime-node', () => {
  const fast = ['efficientnet-b0', 'tf-efficientnet-b3', 'resnet50', 'tf-efficientnetv2-b0', 'efficientnet-lite0'];
  const slow = [
    ...['efficientnet-b1', 'efficientnet-b2', 'efficientnet-b3', 'efficientnet-b4', 'tf-efficientnet-b0', 'resnet152'],
    // Every other EfficientNetV2 and EfficientNet-Lite id up to V2-S. V2-M/L/XL (0.2–0.8 GB at
    // 480/512 px, ~3 minutes of the slow suite) are left out: their blocks are V2-S's, and their
    // structure is checked against timm's parameter and MAC counts in efficientnet's models.test.ts.
    ...['b1', 'b2', 'b3', 's'].map((v) => `tf-efficientnetv2-${v}`),
    'efficientnetv2-s',
    ...[0, 1, 2, 3, 4].map((i) => `tf-efficientnet-lite${i}`),
    ...[1, 2, 3, 4].map((i) => `efficientnet-lite${i}`),
  ];
  for (const id of [...fast, ...(SLOW ? slow : [])]) {
    it(`${id}: finite [N,1000] logits for N = 1 and 3 (dynamic batch): image 0 gives the same logits in both, the 3 images different ones`, async () => {
      const p = prepareModel(id, { ...WITH_ORT });
      const bytes = p.serialize();
      const [one, three] = [await runLogits(bytes, 1, p.resolution), await runLogits(bytes, 3, p.resolution)];
      expect(one.dims).toEqual([1, 1000]);
      expect(three.dims).toEqual([3, 1000]);
      const a = one.data as Float32Array,
        b = three.data as Float32Array;
      expect(a.every(Number.isFinite) && b.every(Number.isFinite)).toBe(true);
      // Inference is per image (eval-mode BatchNorm): the batch does not change an image's logits.
      let most = 0;
      for (let k = 0; k < 1000; k++) most = Math.max(most, Math.abs(a[k]! - b[k]!));
      expect(most).toBeLessThan(1e-4);
      // Input-dependent (calibrated BatchNorm statistics): images 0 and 1 give different logits.
      let apart = 0;
      for (let k = 0; k < 1000; k++) apart = Math.max(apart, Math.abs(b[k]! - b[1000 + k]!));
      expect(apart).toBeGreaterThan(1e-3);
    }, 600_000); // calibration + batch 3 at 384 px take a minute on a loaded 2-core machine
  }

  it('same model and weights give identical bytes', () => {
    const a = prepareModel('tf-efficientnet-b0', { ...WITH_ORT }).serialize();
    const b = prepareModel('tf-efficientnet-b0', { ...WITH_ORT }).serialize();
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
  });

  it('fixed batch size is honoured', async () => {
    const p = prepareModel('efficientnet-b0', { ...WITH_ORT, batch: 2, resolution: 64, numClasses: 7 });
    const y = await runLogits(p.serialize(), 2, 64);
    expect(y.dims).toEqual([2, 7]);
  });
});
