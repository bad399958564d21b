/**
 * The deployment passes run in onnxruntime-node: the embedded eval transform against effnet's
 * PIL-exact pixel path (preprocessPixels) on pictures of several sizes and shapes, the finished
 * heads against softmax/top-K of the plain logits, NHWC against NCHW, --opencv against Clip, and
 * the compositions with --fold-bn, --fp16, --opset, --int8 that the pass table allows.
 */
import { describe, expect, it } from 'vitest';
import { openSession, tensor, type Tensors } from '@effnet/runtime';
import { formulaInput } from '@effnet/efficientnet';
import { serializeModel } from '@effnet/onnx-export';
import { preprocessPixels } from '@effnet/preprocess';
import { prepareModel, type PrepareOptions } from './prepare.js';
import { prepareInt8Model } from './int8.js';
import { parseOutputs } from './deploy.js';
import { onnxruntimeStatistics } from './onnxruntime-statistics.js';

const R = 64;
const base: PrepareOptions = { resolution: R, statistics: onnxruntimeStatistics };

async function run(model: Uint8Array, feeds: Tensors): Promise<Tensors> {
  const s = await openSession(model);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function picture(w: number, h: number, seed: number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  // Smooth content plus texture: what resampling filters distinguish.
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = Math.round(127.5 + 90 * Math.sin((x * (c + 1)) / 7 + seed) * Math.cos(y / 5 - c) + 30 * Math.sin(x * y * 0.37 + c));
  return px;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('--embed-preprocessing', () => {
  it('the in-graph transform matches the PIL-exact path within one grey level, downscaling and upscaling, landscape and portrait', async () => {
    const p = prepareModel('efficientnet-b0', { ...base, embedPreprocessing: true });
    // The normalized R×R tensor the network reads, as an extra output.
    const probe = { ...p.ir, outputs: [...p.ir.outputs, p.ir.values.find((v) => v.name === 'input')!] };
    const bytes = serializeModel(probe, { opset: p.opset });
    const std = p.preprocess.std;
    for (const [w, h] of [
      [500, 375],
      [375, 500],
      [97, 61],
      [40, 30],
      [73, 73],
    ] as const) {
      const px = picture(w, h, w + h);
      const y = await run(bytes, { image: tensor('uint8', px, [1, h, w, 3]) });
      const want = preprocessPixels({ data: px, width: w, height: h, channels: 3 }, { resolution: R, ...p.preprocess }).data;
      const got = y['input']!.data as Float32Array;
      // In grey levels: one level is 1 / (255 std) in the normalized tensor.
      const levels = maxDiff(got, want) * 255 * Math.min(...std);
      expect(levels, `${w}x${h}`).toBeLessThanOrEqual(1.01);
    }
  });

  it('a wrong crop rounding or resize order would show: the transform is not just any resize', async () => {
    const p = prepareModel('efficientnet-b0', { ...base, embedPreprocessing: true });
    const probe = { ...p.ir, outputs: [p.ir.values.find((v) => v.name === 'input')!] };
    const px = picture(500, 375, 1);
    const y = (await run(serializeModel(probe, { opset: p.opset }), { image: tensor('uint8', px, [1, 375, 500, 3]) }))['input']!.data as Float32Array;
    // The same picture shifted by one column (a crop off by one) differs by far more than a level.
    const shifted = new Uint8Array(px.length);
    for (let i = 0; i < px.length; i++) shifted[i] = px[Math.min(i + 3, px.length - 1)]!;
    const other = preprocessPixels({ data: shifted, width: 500, height: 375, channels: 3 }, { resolution: R, ...p.preprocess }).data;
    expect(maxDiff(y, other) * 255 * 0.225).toBeGreaterThan(5);
  });
});

describe('--outputs, --layout nhwc, --opencv, --features: the same numbers as the plain file', () => {
  const x = formulaInput([2, 3, R, R]);
  const nchw = tensor('float32', x, [2, 3, R, R]);

  it('probs = softmax(logits); topk:5 = the five largest probabilities and their classes', async () => {
    const logits = (await run(prepareModel('efficientnet-b0', base).serialize(), { input: nchw }))['logits']!.data as Float32Array;
    const probs = (await run(prepareModel('efficientnet-b0', { ...base, outputs: parseOutputs('probs') }).serialize(), { input: nchw }))['probs']!.data as Float32Array;
    const top = await run(prepareModel('efficientnet-b0', { ...base, outputs: parseOutputs('topk:5') }).serialize(), { input: nchw });
    for (let r = 0; r < 2; r++) {
      const row = logits.subarray(r * 1000, (r + 1) * 1000);
      const m = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      const want = e.map((v) => v / sum);
      expect(maxDiff(probs.subarray(r * 1000, (r + 1) * 1000), want)).toBeLessThan(1e-6);
      const order = [...want.keys()].sort((a, b) => want[b]! - want[a]!).slice(0, 5);
      expect(Array.from(top['classes']!.data as BigInt64Array, Number).slice(r * 5, r * 5 + 5)).toEqual(order);
      expect(
        maxDiff(
          (top['scores']!.data as Float32Array).subarray(r * 5, r * 5 + 5),
          order.map((i) => want[i]!),
        ),
      ).toBeLessThan(1e-6);
    }
  });

  it('--layout nhwc on the transposed batch = plain; --opencv (Relu − Relu) = Clip on Lite', async () => {
    const plain = (await run(prepareModel('efficientnet-b0', base).serialize(), { input: nchw }))['logits']!.data as Float32Array;
    const hwc = new Float32Array(x.length);
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let i = 0; i < R * R; i++) hwc[n * 3 * R * R + i * 3 + c] = x[n * 3 * R * R + c * R * R + i]!;
    const nhwc = (await run(prepareModel('efficientnet-b0', { ...base, layout: 'nhwc' }).serialize(), { input: tensor('float32', hwc, [2, R, R, 3]) }))['logits']!.data as Float32Array;
    expect(maxDiff(nhwc, plain)).toBeLessThan(1e-5);
    const lite = (await run(prepareModel('efficientnet-lite0', base).serialize(), { input: nchw }))['logits']!.data as Float32Array;
    const cv = prepareModel('efficientnet-lite0', { ...base, opencv: true });
    expect(cv.ir.nodes.some((n) => n.op === 'Clip')).toBe(false);
    const liteCv = (await run(cv.serialize(), { input: nchw }))['logits']!.data as Float32Array;
    expect(maxDiff(liteCv, lite)).toBeLessThan(1e-5);
  });

  it('--features 2,4 --head none with --fold-bn, --fp16, --opset 13, --dynamic-size and --int8: the kept outputs, close to the float32 backbone', async () => {
    const ref = await run(prepareModel('tf-efficientnet-b0', { ...base, features: [2, 4], head: 'none' }).serialize(), { input: nchw });
    expect(Object.keys(ref).sort()).toEqual(['embedding', 'features.2', 'features.4']);
    // float16 on the untrained formula weights drifts with depth (the plain logits by 28% of their
    // range too): the shallow tap is held to 1%, the deeper ones only to being float32 and finite.
    for (const [label, o, tol, keys] of [
      ['fold-bn opset 13 dynamic-size', { foldBn: true, opset: 13, dynamicSize: true }, 1e-3, Object.keys(ref)],
      ['fp16', { fp16: true }, 0.01, ['features.2']],
    ] as const) {
      const p = prepareModel('tf-efficientnet-b0', { ...base, features: [2, 4], head: 'none', ...o });
      const y = await run(p.serialize(), { input: nchw });
      for (const k of Object.keys(ref)) {
        expect(y[k]!.type, `${label} ${k}`).toBe('float32');
        expect((y[k]!.data as Float32Array).every(Number.isFinite), `${label} ${k}`).toBe(true);
      }
      for (const k of keys) {
        const a = ref[k]!.data as Float32Array;
        const b = y[k]!.data as Float32Array;
        const scale = Math.max(...Array.from(a, Math.abs));
        expect(maxDiff(a, b) / scale, `${label} ${k}`).toBeLessThan(tol);
      }
    }
    const q = await prepareInt8Model('tf-efficientnet-b0', { ...base, features: [2, 4], head: 'none', int8: { calibration: { kind: 'builtin' } } });
    expect(q.ir.outputs.map((v) => v.name)).toEqual(['features.2', 'features.4', 'embedding']);
    expect(q.metadata['effnet.precision']).toBe('int8');
    expect(JSON.parse(q.metadata['effnet.feature_info']!).map((t: { index: number }) => t.index)).toEqual([2, 4]);
  });
});
