/**
 * BatchNorm calibration of the default (formula) weights: statistics consistent with the batch they
 * were measured on, outputs that depend on the input for every family, bit-identical exports.
 */
import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { formulaInput } from '@effnet/efficientnet';
import { materialize, type GraphIR } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { batchNormStatistics, calibrateBatchNorm, CALIBRATION_BATCH } from './calibrate.js';
import { prepareModel, type PrepareOptions } from './prepare.js';

const SLOW = !!process.env.EFFNET_SLOW;

async function run(bytes: Uint8Array, feeds: { data: Float32Array; dims: number[] }, outputs?: string[]): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', feeds.data, feeds.dims) }, outputs ?? [...s.outputNames]);
  } finally {
    await s.release();
  }
}

describe('calibrateBatchNorm', () => {
  it('each BatchNorm normalizes the calibration batch to mean 0, variance V/(V+eps) (eval mode, all BNs at once)', async () => {
    const p = prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10, batch: 'dynamic' });
    const bns = p.built.ir.nodes.filter((n) => n.op === 'BatchNormalization');
    const calibrated = calibrateBatchNorm(p.built.ir);
    const inits = new Map(calibrated.initializers.map((i) => [i.name, i]));
    const values = new Map(calibrated.values.map((v) => [v.name, v]));
    // Expose every BN output; the calibrated graph runs in inference mode.
    const probe: GraphIR = { ...calibrated, outputs: [...calibrated.outputs, ...bns.map((n) => ({ ...values.get(n.outputs[0]!)!, shape: values.get(n.outputs[0]!)!.shape.map((d, i) => (i === 0 ? 'N' : d)) }))] };
    const dims = [CALIBRATION_BATCH, 3, 64, 64];
    const out = await run(serializeModel(probe), { data: formulaInput(dims), dims }, bns.map((n) => n.outputs[0]!));
    let worstMean = 0;
    let worstVar = 0;
    for (const bn of bns) {
      const y = out[bn.outputs[0]!]!;
      const [n, c, h, w] = y.dims as [number, number, number, number];
      const data = y.data as Float32Array;
      const V = materialize(inits.get(bn.inputs[4]!)!.data) as Float32Array;
      const eps = bn.attrs.epsilon?.kind === 'float' ? bn.attrs.epsilon.value : 1e-5;
      const count = n * h * w;
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        let s2 = 0;
        for (let b = 0; b < n; b++)
          for (let i = 0; i < h * w; i++) {
            const v = data[(b * c + ch) * h * w + i]!;
            s += v;
            s2 += v * v;
          }
        const mean = s / count;
        const variance = s2 / count - mean * mean;
        const expected = V[ch]! / (V[ch]! + eps);
        worstMean = Math.max(worstMean, Math.abs(mean));
        worstVar = Math.max(worstVar, Math.abs(variance - expected) / Math.max(expected, 1e-3));
      }
    }
    expect(bns.length).toBe(49);
    expect(worstMean).toBeLessThan(1e-3);
    expect(worstVar).toBeLessThan(1e-3);
  });

  it('statistics do not depend on the model batch (fixed 1, 3 or dynamic) and are identical run to run', () => {
    const stats = (batch: PrepareOptions['batch']) => batchNormStatistics(prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10, ...(batch !== undefined ? { batch } : {}) }).built.ir);
    const a = stats(1);
    const b = stats(3);
    const d = stats('dynamic');
    expect(a.size).toBe(98);
    for (const [name, v] of a) {
      expect(Buffer.from(b.get(name)!.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
      expect(Buffer.from(d.get(name)!.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
    }
  });

  it('lazy: nothing runs until a running statistic is materialized; opt-out and over-2-GiB models keep identity statistics', () => {
    const p = prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10 });
    expect(p.metadata['effnet.weights']).toMatch(/calibrated on formulaInput\(\[2,3,R,R\]\)/);
    expect(prepareModel('efficientnet-b0', { calibrate: false }).metadata['effnet.weights']).toMatch(/identity/);
    const mean = p.ir.initializers.find((i) => i.name === 'bn1.running_mean')!;
    expect(typeof mean.data).toBe('function');
    // AmoebaNet-B(18,512): 2.2 GB of weights, over the 2 GiB protobuf limit: identity statistics, said so.
    expect(prepareModel('amoebanet-b').metadata['effnet.weights']).toMatch(/identity .*over 2 GiB, not calibrated/);
  });
});

/** A second deterministic input, unlike the formula's uniform noise: smooth stripes. */
function stripes(dims: number[]): Float32Array {
  return new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => 1.5 * Math.sin(i * 0.37) * Math.cos(i * 0.0011));
}

interface Case {
  readonly id: string;
  readonly options?: PrepareOptions;
  readonly slow?: boolean;
}

describe('default weights give input-dependent logits', () => {
  const cases: Case[] = [
    { id: 'efficientnet-b0' },
    { id: 'tf-efficientnet-b3' },
    { id: 'efficientnet-b7', slow: true },
    { id: 'resnet50' },
    { id: 'amoebanet-b', options: { cells: 3, filters: 32, resolution: 96 } },
  ];
  for (const c of cases) {
    it.skipIf(c.slow && !SLOW)(`${c.id}: finite, 0.1 < max|y| < 1000, |y(x) - y(-x)| > 1% of max|y| for two inputs; identical bytes twice`, async () => {
      const p = prepareModel(c.id, { batch: 1, ...c.options });
      const bytes = p.serialize();
      const again = prepareModel(c.id, { batch: 1, ...c.options }).serialize();
      expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      const R = p.resolution;
      const dims = [1, 3, R, R];
      const s = await ort.InferenceSession.create(bytes);
      try {
        for (const make of [formulaInput, stripes]) {
          const x = make(dims);
          const y = (await s.run({ input: new ort.Tensor('float32', x, dims) })).logits!.data as Float32Array;
          const yn = (await s.run({ input: new ort.Tensor('float32', x.map((v) => -v), dims) })).logits!.data as Float32Array;
          let max = 0;
          let diff = 0;
          for (let i = 0; i < y.length; i++) {
            max = Math.max(max, Math.abs(y[i]!));
            diff = Math.max(diff, Math.abs(y[i]! - yn[i]!));
          }
          expect(y.every(Number.isFinite) && yn.every(Number.isFinite)).toBe(true);
          expect(max, `${make.name} max|y|`).toBeGreaterThan(0.1);
          expect(max, `${make.name} max|y|`).toBeLessThan(1000);
          expect(diff / max, `${make.name} |y(x)-y(-x)|/max|y| (max|y| ${max})`).toBeGreaterThan(1e-2);
          console.log(`${c.id} ${make.name}: max|y| ${max.toFixed(3)}, max|y(x)-y(-x)| ${diff.toFixed(3)}`);
        }
      } finally {
        await s.release();
      }
    }, 300_000);
  }
});
