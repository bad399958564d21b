/**
 * --fp16 on a trained model and real images: the Imagenette EfficientNet-B0 checkpoint
 * (../shared/imagenette), float32 vs float16 export in onnxruntime-node on 100 validation images
 * spread over the 10 classes. The full 3,925-image measurement is bench/fp16-imagenette.mjs.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { listImageFolder, preprocessImage, spreadSubset } from '@effnet/images';
import { prepareModel } from '@effnet/pipeline';
import { createRunner } from '@effnet/runtime';
import { requires, SHARED, sharedData } from '../../../test-utils/requires.js';

const DATA = join(SHARED, 'imagenette');

requires(sharedData('imagenette/efficientnet_b0-imagenette.safetensors', 'imagenette/val')).describe('fp16 export of the Imagenette checkpoint', () => {
  it('100 images: top-1 agreement >= 99% with float32, logits within 0.1, file half the size', async () => {
    const R = 160;
    const weightsPath = join(DATA, 'efficientnet_b0-imagenette.safetensors');
    const fp32 = prepareModel('efficientnet-b0', { weightsPath, resolution: R });
    const fp16 = prepareModel('efficientnet-b0', { weightsPath, resolution: R, fp16: true });
    const [b32, b16] = [fp32.serialize(), fp16.serialize()];
    expect(b16.length / b32.length).toBeLessThan(0.51);
    const samples = spreadSubset(listImageFolder(join(DATA, 'val')).samples, 100);
    const x = new Float32Array(samples.length * 3 * R * R);
    const images = await Promise.all(samples.map((s) => preprocessImage(s.path, { resolution: R, ...fp32.preprocess })));
    images.forEach((img, i) => x.set(img, i * 3 * R * R));
    const dims = [samples.length, 3, R, R];
    const K = fp32.numClasses;
    const logits = async (bytes: Uint8Array) => {
      const r = await createRunner(bytes, { ep: 'cpu' });
      try {
        return (await r.run(x, dims)).data;
      } finally {
        await r.release();
      }
    };
    const [y32, y16] = [await logits(b32), await logits(b16)];
    const argmax = (y: Float32Array, i: number) => {
      let best = 0;
      for (let k = 1; k < K; k++) if (y[i * K + k]! > y[i * K + best]!) best = k;
      return best;
    };
    let maxAbs = 0,
      agree = 0,
      correct = 0;
    for (let i = 0; i < y32.length; i++) maxAbs = Math.max(maxAbs, Math.abs(y32[i]! - y16[i]!));
    samples.forEach((s, i) => {
      if (argmax(y32, i) === argmax(y16, i)) agree++;
      if (argmax(y32, i) === s.label) correct++;
    });
    console.log(
      `fp16 vs fp32 on ${samples.length} Imagenette images @${R}: top-1 agreement ${agree}/${samples.length}, max |diff| ${maxAbs.toExponential(2)}, fp32 top-1 ${correct}/${samples.length}`,
    );
    expect(correct / samples.length).toBeGreaterThan(0.6); // the checkpoint works at all (reference 77% @160)
    expect(agree / samples.length).toBeGreaterThanOrEqual(0.99);
    expect(maxAbs).toBeLessThan(0.1);
  });
});
