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
    // Every other EfficientNetV2 and EfficientNet-Lite id (V2-L/XL are 0.5/0.8 GB at 480/512 px).
    ...['b1', 'b2', 'b3', 's', 'm', 'l', 'xl'].map((v) => `tf-efficientnetv2-${v}`),
    ...['s', 'm', 'l', 'xl'].map((v) => `efficientnetv2-${v}`),
    ...[0, 1, 2, 3, 4].map((i) => `tf-efficientnet-lite${i}`),
    ...[1, 2, 3, 4].map((i) => `efficientnet-lite${i}`),
  ];
  for (const id of [...fast, ...(SLOW ? slow : [])]) {
    it(`${id}: finite [N,1000] logits for N = 1 and 3 (dynamic batch)`, async () => {
      const p = prepareModel(id, { ...WITH_ORT });
      const bytes = p.serialize();
      for (const n of [1, 3]) {
        const y = await runLogits(bytes, n, p.resolution);
        expect(y.dims).toEqual([n, 1000]);
        expect((y.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
    }, 600_000); // V2-L/XL: calibration + batch 3 at 480/512 px take minutes on a loaded 2-core machine
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
