import { describe, expect, it } from 'vitest';
import { formulaInput } from '@effnet/efficientnet';
import { onnxruntimeStatistics, prepareModel } from '@effnet/pipeline';
import { chromiumPath, createRunner, EpUnavailableError, maxAbsDiff } from '@effnet/runtime';
import { chromium, requires } from '../../../../test-utils/requires.js';

/** Default weights calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

// EfficientNet-B0 at 64 px: every op of the real model (Conv, depthwise Conv, SiLU, SE, Gemm), small enough for SwiftShader.
const model = prepareModel('efficientnet-b0', { ...WITH_ORT, resolution: 64, batch: 1 }).serialize();
const dims = [1, 3, 64, 64];
const x = formulaInput(dims);
const y = x.map((v) => 0.9 * v);

async function cpu(input: Float32Array): Promise<Float32Array> {
  const r = await createRunner(model, { ep: 'cpu' });
  try {
    return (await r.run(input, dims)).data;
  } finally {
    await r.release();
  }
}

requires(chromium(chromiumPath())).describe('onnxruntime-web in headless Chromium (createRunner --ep web-*)', () => {
  // web-webgpu on SwiftShader spends ~25 s compiling shaders on the first run (2 cores): EFFNET_SLOW only;
  // the demo's end-to-end test (packages/web) runs WebGPU in every CI run.
  for (const ep of ['web-wasm', 'web-webgpu'] as const) {
    it.skipIf(ep === 'web-webgpu' && !process.env['EFFNET_SLOW'])(`${ep}: EfficientNet-B0 matches onnxruntime-node cpu within 1e-3, input cached and replaced`, async () => {
      const [refX, refY] = [await cpu(x), await cpu(y)];
      const t0 = performance.now();
      const r = await createRunner(model, { ep });
      const t1 = performance.now();
      try {
        expect(r.ep).toBe(ep);
        expect(r.createMs).toBeGreaterThan(0);
        if (ep === 'web-webgpu') expect(r.adapter).toMatch(/\S/);
        else expect(r.adapter).toBeNull();
        const a = await r.run(x, dims);
        const t2 = performance.now();
        const b = await r.run(x, dims); // same input: not sent again
        const c = await r.run(y, dims); // new input: sent
        const t3 = performance.now();
        console.log(
          `${ep} (${r.adapter ?? 'wasm'}): browser + session ${(t1 - t0).toFixed(0)} ms, first run ${(t2 - t1).toFixed(0)} ms, next two ${(t3 - t2).toFixed(0)} ms; max |diff| vs cpu ${maxAbsDiff(refX, a.data).toExponential(1)} (|logit| up to ${Math.max(...refX.map(Math.abs)).toFixed(1)})`,
        );
        expect(a.dims).toEqual([1, 1000]);
        expect(maxAbsDiff(refX, a.data)).toBeLessThan(1e-3);
        expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-6);
        // 0.9·x drives the formula-weight logits up to ~180: compare relative to the largest.
        expect(maxAbsDiff(refY, c.data) / Math.max(...refY.map(Math.abs))).toBeLessThan(1e-4);
        expect(maxAbsDiff(refX, refY)).toBeGreaterThan(1e-2); // the two inputs give different outputs
      } finally {
        await r.release();
      }
      await expect(r.run(x, dims)).rejects.toThrow(/released/);
    });
  }
});

describe('browser EP errors', () => {
  it('a missing Chromium is an EpUnavailableError that says how to get one', async () => {
    const before = process.env['EFFNET_CHROMIUM'];
    process.env['EFFNET_CHROMIUM'] = '/nonexistent/chromium';
    try {
      await expect(createRunner(model, { ep: 'web-wasm' })).rejects.toBeInstanceOf(EpUnavailableError);
      await expect(createRunner(model, { ep: 'web-wasm' })).rejects.toMatchObject({ message: expect.stringMatching(/no Chromium at \/nonexistent\/chromium: install Debian's chromium/) });
    } finally {
      if (before === undefined) delete process.env['EFFNET_CHROMIUM'];
      else process.env['EFFNET_CHROMIUM'] = before;
    }
  });
});
