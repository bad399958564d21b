/**
 * BatchNorm calibration of the default (formula) weights: statistics consistent with the batch they
 * were measured on, outputs that depend on the input for every family, bit-identical exports.
 */
import { describe, expect, it } from 'vitest';
import { openSession, tensor, type TensorData } from '@effnet/runtime';
import { defaultWeights, formulaInput } from '@effnet/efficientnet';
import { materialize, OptionError, type GraphIR } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { calibrateBatchNorm, calibrationBatchFor, MIN_BN_SAMPLES, type StatisticsProvider } from './calibrate.js';
import { prepareModel, type PrepareOptions } from './prepare.js';
import { batchNormStatistics, onnxruntimeStatistics } from './onnxruntime-statistics.js';

/** Calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics of the default weights. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

const SLOW = !!process.env.EFFNET_SLOW;

async function run(bytes: Uint8Array, feeds: { data: Float32Array; dims: number[] }, outputs?: string[]): Promise<Record<string, TensorData>> {
  const s = await openSession(bytes);
  try {
    return await s.run({ [s.inputs[0]!.name]: tensor('float32', feeds.data, feeds.dims) }, outputs ?? s.outputs.map((o) => o.name));
  } finally {
    await s.release();
  }
}

describe('calibrateBatchNorm', () => {
  it('each BatchNorm normalizes the calibration batch to mean 0, variance V/(V+eps) (eval mode, all BNs at once)', async () => {
    const p = prepareModel('efficientnet-b0', { ...WITH_ORT, resolution: 64, numClasses: 10, batch: 'dynamic' });
    const bns = p.built.ir.nodes.filter((n) => n.op === 'BatchNormalization');
    const calibrated = calibrateBatchNorm(p.built.ir, onnxruntimeStatistics);
    const inits = new Map(calibrated.initializers.map((i) => [i.name, i]));
    const values = new Map(calibrated.values.map((v) => [v.name, v]));
    // Expose every BN output; the calibrated graph runs in inference mode.
    const probe: GraphIR = {
      ...calibrated,
      outputs: [...calibrated.outputs, ...bns.map((n) => ({ ...values.get(n.outputs[0]!)!, shape: values.get(n.outputs[0]!)!.shape.map((d, i) => (i === 0 ? 'N' : d)) }))],
    };
    // B0 at 64 px ends on a 2×2 map: 32 images give its BatchNorms at least MIN_BN_SAMPLES values per channel.
    expect(calibrationBatchFor(p.built.ir)).toBe(Math.ceil(MIN_BN_SAMPLES / 4));
    const dims = [calibrationBatchFor(p.built.ir), 3, 64, 64];
    const out = await run(
      serializeModel(probe),
      { data: formulaInput(dims), dims },
      bns.map((n) => n.outputs[0]!),
    );
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
    const stats = (batch: PrepareOptions['batch']) =>
      batchNormStatistics(prepareModel('efficientnet-b0', { ...WITH_ORT, resolution: 64, numClasses: 10, ...(batch !== undefined ? { batch } : {}) }).built.ir);
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
    const p = prepareModel('efficientnet-b0', { ...WITH_ORT, resolution: 64, numClasses: 10 });
    // 64 px: the smallest map is 2×2, so 32 images (MIN_BN_SAMPLES values per channel); at 224 px (7×7) the fixtures' 2.
    expect(p.metadata['effnet.weights']).toMatch(/calibrated on formulaInput\(\[32,3,R,R\]\)/);
    expect(prepareModel('efficientnet-b0', WITH_ORT).metadata['effnet.weights']).toMatch(/calibrated on formulaInput\(\[2,3,R,R\]\)/);
    expect(prepareModel('efficientnet-b0', { ...WITH_ORT, calibrate: false }).metadata['effnet.weights']).toMatch(/identity/);
    const mean = p.ir.initializers.find((i) => i.name === 'bn1.running_mean')!;
    expect(typeof mean.data).toBe('function');
    // AmoebaNet-B(18,512): 2.2 GB of weights, over the 2 GiB protobuf limit: identity statistics, said so.
    expect(prepareModel('amoebanet-b', { ...WITH_ORT, ...WITH_ORT }).metadata['effnet.weights']).toMatch(/identity .*over 2 GiB, not calibrated/);
  });
});

describe('injected statistics provider', () => {
  /** onnxruntimeStatistics, counting its runs and optionally altering what it returns. */
  function counting(alter?: (m: Map<string, Float32Array>) => void): StatisticsProvider & { runs: number } {
    const p = {
      name: 'counting onnxruntime-node',
      runs: 0,
      batchNormStatistics(ir: GraphIR, o: { readonly batch: number }) {
        p.runs++;
        const m = onnxruntimeStatistics.batchNormStatistics(ir, o);
        alter?.(m);
        return m;
      },
    };
    return p;
  }

  it('without a provider the default weights keep identity statistics, and the metadata says why', () => {
    const p = prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10 });
    expect(p.metadata['effnet.weights']).toBe('formula; BatchNorm identity (gamma 1, beta 0, mean 0, var 1): no statistics provider, not calibrated');
    const mean = p.ir.initializers.find((i) => i.name === 'bn1.running_mean')!;
    expect(Array.from(materialize(mean.data) as Float32Array).every((v) => v === 0)).toBe(true);
  });

  it('the provider runs once, at the first materialization, and its statistics are what the file holds', () => {
    const provider = counting();
    const p = prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10, statistics: provider });
    expect(provider.runs).toBe(0);
    const a = p.serialize();
    const b = p.serialize();
    expect(provider.runs).toBe(1);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10, ...WITH_ORT }).serialize()))).toBe(true);
    // Given weights are never calibrated: the provider is not asked.
    prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10, weights: defaultWeights, statistics: provider }).serialize();
    expect(provider.runs).toBe(1);
  });

  it('what a provider returns is checked: a missing statistic, a wrong length or a non-finite value fails the write with one line', () => {
    const o = { resolution: 64, numClasses: 10 } as const;
    const missing = counting((m) => m.delete('bn1.running_var'));
    expect(() => prepareModel('efficientnet-b0', { ...o, statistics: missing }).serialize()).toThrow(/counting onnxruntime-node returned no statistics for 'bn1.running_var'/);
    const short = counting((m) => m.set('bn1.running_mean', new Float32Array(3)));
    expect(() => prepareModel('efficientnet-b0', { ...o, statistics: short }).serialize()).toThrow(/returned 3 values for 'bn1.running_mean', expected 32/);
    const nan = counting((m) => m.get('bn1.running_mean')!.fill(NaN));
    expect(() => prepareModel('efficientnet-b0', { ...o, statistics: nan }).serialize()).toThrow(/'bn1.running_mean' is not finite/);
  });

  it('a calibration batch that is not a positive integer is an OptionError naming batch', () => {
    const ir = prepareModel('efficientnet-b0', { resolution: 64, numClasses: 10 }).built.ir;
    for (const batch of [0, 1.5, -2]) {
      expect(() => calibrateBatchNorm(ir, onnxruntimeStatistics, { batch })).toThrow(OptionError);
      expect(() => batchNormStatistics(ir, { batch })).toThrow(`calibration batch must be a positive integer, got ${batch}`);
    }
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
    it.skipIf(c.slow && !SLOW)(
      `${c.id}: finite, 0.1 < max|y| < 1000, |y(x) - y(-x)| > 1% of max|y| for two inputs; identical bytes twice`,
      async () => {
        const p = prepareModel(c.id, { ...WITH_ORT, batch: 1, ...c.options });
        const bytes = p.serialize();
        const again = prepareModel(c.id, { ...WITH_ORT, batch: 1, ...c.options }).serialize();
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
        const R = p.resolution;
        const dims = [1, 3, R, R];
        const s = await openSession(bytes);
        try {
          for (const make of [formulaInput, stripes]) {
            const x = make(dims);
            const y = (await s.run({ input: tensor('float32', x, dims) })).logits!.data as Float32Array;
            const yn = (
              await s.run({
                input: tensor(
                  'float32',
                  x.map((v) => -v),
                  dims,
                ),
              })
            ).logits!.data as Float32Array;
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
      },
      300_000,
    );
  }
});
