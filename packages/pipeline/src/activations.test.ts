/**
 * What each calibration method returns on known distributions (through onnxruntime-node, a graph
 * whose calibrated tensor is its input), outlier images left out of every method's range, the
 * default method end to end, each quantized Add's input scales, and the memory plan of a run
 * (batches and tensor groups sized by bytes, the peak estimated and refused when it cannot fit).
 */
import { describe, expect, it } from 'vitest';
import { activationParams, Graph, materialize, quantizationTargets, relu, type GraphIR, type TensorRange } from '@effnet/graph-builder';
import {
  calibrateActivations,
  calibrationBytesPerImage,
  calibrationGroups,
  CalibrationMemoryError,
  planCalibration,
  prepareInt8Model,
  prepareModel,
  robustExtreme,
  type CalibrationSource,
} from './index.js';

const K = 4096; // values per image

/** input [N, 1, 1, K] → Relu: the calibrated tensor is the input itself. */
function identityGraph(): GraphIR {
  const g = new Graph('probe');
  const x = g.input('input', 'float32', ['N', 1, 1, K]);
  g.output(relu(x, { label: 'r' }), 'out');
  return g.build();
}

/** Deterministic standard normal samples (Box–Muller over a fixed LCG). */
function normal(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** Deterministic Laplace(0, 1) samples: heavier tails than the normal, where clipping pays. */
function laplace(n: number, seed: number): Float32Array {
  return normal(n, seed).map((_, i, a) => {
    const u = (Math.abs(Math.sin((i + 1) * 12.9898 + seed * 78.233)) * 43758.5453) % 1 || 0.5;
    return (a[i]! < 0 ? -1 : 1) * -Math.log(u);
  });
}

/** `images` one-image batches of `make(i)`. */
function source(images: number, make: (i: number) => Float32Array): CalibrationSource {
  return {
    batches: images,
    *read() {
      for (let i = 0; i < images; i++) yield { data: make(i), dims: [1, 1, 1, K] };
    },
  };
}

const ir = identityGraph();
const range = async (src: CalibrationSource, method: 'minmax' | 'percentile' | 'entropy', percentile?: number): Promise<TensorRange> =>
  (await calibrateActivations(ir, ['input'], src, { method, ...(percentile ? { percentile } : {}) })).get('input')!;

describe('what each method returns on a known distribution', () => {
  // 20 images of K standard normal values each: 81,920 values, extremes near ±4.3.
  const gauss = source(20, (i) => normal(K, i + 1));
  const all = new Float32Array(20 * K);
  for (let i = 0; i < 20; i++) all.set(normal(K, i + 1), i * K);
  const sorted = Float32Array.from(all).sort();

  it('minmax: the exact extremes', async () => {
    expect(await range(gauss, 'minmax')).toEqual({ min: sorted[0], max: sorted[sorted.length - 1] });
  });

  it('percentile: the percentiles of the values (to a histogram bin), not the extremes', async () => {
    const r = await range(gauss, 'percentile', 99);
    const bin = (sorted[sorted.length - 1]! - sorted[0]!) / 2048;
    const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
    expect(Math.abs(r.max - at(0.99))).toBeLessThanOrEqual(2 * bin); // 2.33 for N(0,1)
    expect(Math.abs(r.min - at(0.01))).toBeLessThanOrEqual(2 * bin);
    expect(r.max).toBeGreaterThan(2.2);
    expect(r.max).toBeLessThan(2.45);
  });

  it('entropy: the KL threshold of a Laplace distribution lies well inside its extremes, differently from percentile', async () => {
    const heavy = source(20, (i) => laplace(K, i + 1));
    const e = await range(heavy, 'entropy');
    const m = await range(heavy, 'minmax');
    // Measured: entropy [-9.59, 8.99] of extremes [-10.26, 10.87]; the 99th percentile is 3.9.
    expect(e.max).toBeGreaterThan(6);
    expect(e.max).toBeLessThan(0.9 * m.max);
    expect(e.min).toBeLessThan(-6);
    expect(e.min).toBeGreaterThan(m.min + 0.25);
    expect(e).not.toEqual(await range(heavy, 'percentile'));
  });

  it('an outlier image (one of 20, 300× the others) is left out of every method; a moderately larger one is kept', async () => {
    const withOutlier = source(20, (i) => (i === 7 ? normal(K, 99).map((v) => v * 300) : normal(K, i + 1)));
    for (const method of ['minmax', 'percentile', 'entropy'] as const) {
      const r = await range(withOutlier, method);
      expect(r.max, method).toBeLessThan(5);
      expect(r.min, method).toBeGreaterThan(-5);
      expect(r.max, method).toBeGreaterThan(2);
    }
    const larger = source(20, (i) => (i === 7 ? normal(K, 99).map((v) => v * 3) : normal(K, i + 1)));
    expect((await range(larger, 'minmax')).max).toBeGreaterThan(10); // 3× is within the outlier factor: kept
  });

  it('robustExtreme: an image beyond 4× the 90th percentile extreme is left out; with under 10 images every image counts', () => {
    const base = Array.from({ length: 19 }, (_, i) => 1 + i / 100);
    expect(robustExtreme([...base, 500])).toBe(1.18);
    expect(robustExtreme([...base, 4])).toBe(4);
    expect(robustExtreme([1, 1.1, 500])).toBe(500);
    expect(robustExtreme(Array.from({ length: 20 }, () => -1))).toBe(-1);
  });
});

const SMALL = { resolution: 32, numClasses: 10 } as const;

describe('the default method, end to end', () => {
  it('prepareInt8Model without a method writes the entropy file, which differs from the minmax one', async () => {
    const make = (method?: 'entropy' | 'minmax') => prepareInt8Model('efficientnet-lite0', { ...SMALL, int8: { calibration: { kind: 'builtin' }, ...(method ? { method } : {}) } });
    const [byDefault, entropy, minmax] = await Promise.all([make(), make('entropy'), make('minmax')]);
    expect(byDefault.metadata['effnet.int8.calibration_method']).toBe('entropy');
    expect(Buffer.from(byDefault.serialize()).equals(Buffer.from(entropy.serialize()))).toBe(true);
    // Entropy clips: some activation scale is smaller than minmax's for the same tensor.
    const scales = (q: { ir: GraphIR }) => new Map(q.ir.initializers.filter((i) => i.name.endsWith('.scale') && i.shape.length === 0).map((i) => [i.name, Number(materialize(i.data)[0])]));
    const e = scales(entropy),
      m = scales(minmax);
    expect(e.size).toBe(m.size);
    const smaller = [...e].filter(([n, s]) => s < m.get(n)! * 0.99);
    expect(smaller.length).toBeGreaterThan(e.size / 4);
    for (const [n, s] of e) expect(s, n).toBeLessThanOrEqual(m.get(n)! * (1 + 1e-6));
  }, 60_000);
});

describe('quantized Add', () => {
  it("each residual Add input is dequantized with its own tensor's scale and zero point", async () => {
    const folded = prepareModel('efficientnet-b0', { ...SMALL, foldBn: true }).ir;
    const targets = quantizationTargets(folded, { policy: 'all' });
    // A distinct range per tensor: any scale taken from the wrong tensor shows.
    const ranges = new Map<string, TensorRange>(targets.map((t, i) => [t, { min: -(1 + i / 7), max: 2 + i / 3 }]));
    const q = await prepareInt8Model('efficientnet-b0', { ...SMALL, int8: { calibration: { kind: 'builtin' }, ranges: async () => ranges } });
    const producer = new Map(q.ir.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const init = new Map(q.ir.initializers.map((i) => [i.name, Number(materialize(i.data)[0])]));
    const adds = q.ir.nodes.filter((n) => n.op === 'Add');
    expect(adds.length).toBe(9); // B0's residual blocks
    for (const add of adds) {
      const seen: number[] = [];
      for (const input of add.inputs) {
        const dq = producer.get(input)!;
        expect(dq.op, `${add.name} ${input}`).toBe('DequantizeLinear');
        const qn = producer.get(dq.inputs[0]!)!;
        expect(qn.op).toBe('QuantizeLinear');
        const tensor = qn.inputs[0]!;
        const want = activationParams(ranges.get(tensor)!);
        expect(init.get(dq.inputs[1]!), `${add.name}: scale of ${tensor}`).toBe(want.scale);
        expect(init.get(dq.inputs[2]!), `${add.name}: zero point of ${tensor}`).toBe(want.zeroPoint);
        expect(init.get(qn.inputs[1]!), `${add.name}: Q scale of ${tensor}`).toBe(want.scale);
        seen.push(want.scale);
      }
      expect(new Set(seen).size, add.name).toBe(2);
    }
  });
});

describe('memory plan', () => {
  const b0 = (resolution: number) => {
    const p = prepareModel('efficientnet-b0', { resolution, foldBn: true, calibrate: false });
    return { ir: p.ir, tensors: quantizationTargets(p.ir, { policy: 'all' }) };
  };

  it('bytes per image are the input and every calibrated tensor (B0: 245 MB at 384 px, 43 MB at 160)', () => {
    const { ir, tensors } = b0(384);
    expect(calibrationBytesPerImage(ir, tensors) / 2 ** 20).toBeCloseTo(245.3, 0);
    const small = b0(160);
    expect(calibrationBytesPerImage(small.ir, small.tensors) / 2 ** 20).toBeCloseTo(42.7, 0);
  });

  it('batches shrink as images grow; tensor groups stay within the run budget', () => {
    const big = b0(384);
    expect(planCalibration(big.ir, big.tensors, { label: 'b0', resolution: 384, available: 1e12 }).batch).toBe(1);
    const small = b0(160);
    expect(planCalibration(small.ir, small.tensors, { label: 'b0', resolution: 160, available: 1e12 }).batch).toBe(5);
    const budget = 64 * 2 ** 20;
    const groups = calibrationGroups(big.ir, big.tensors, 1, budget);
    expect(groups.flat()).toEqual(big.tensors);
    expect(groups.length).toBeGreaterThan(3);
    const known = new Map([...big.ir.inputs, ...big.ir.values].map((v) => [v.name, v]));
    for (const g of groups) {
      const bytes = g.reduce((n, t) => n + 4 * (known.get(t)!.shape.slice(1) as number[]).reduce((a, d) => a * d, 1), 0);
      expect(g.length === 1 || bytes <= budget).toBe(true);
    }
  });

  it('refuses, with the figure, a calibration that cannot fit', () => {
    const big = b0(384);
    const plan = planCalibration(big.ir, big.tensors, { label: 'efficientnet-b0', resolution: 384, available: 5e8 });
    expect(plan.refusal).toBeInstanceOf(CalibrationMemoryError);
    expect(plan.refusal!.message).toMatch(/^int8 calibration of efficientnet-b0 at 384 px needs about \d+\.\d GB \(257 MB of activations per image\); 0\.5 GB is available: lower --resolution/);
    expect(planCalibration(big.ir, big.tensors, { label: 'b0', resolution: 384, available: 1e11 }).refusal).toBeUndefined();
  });

  it('tensors measured in groups give the same ranges as in one run', async () => {
    const src = source(12, (i) => normal(K, i + 3));
    const two = identityTwo();
    const one = await calibrateActivations(two, ['input', 'r'], src, { method: 'minmax' });
    const split = await calibrateActivations(two, ['input', 'r'], src, { method: 'minmax', runBytes: 4 * K });
    expect(split).toEqual(one);
  });
});

function identityTwo(): GraphIR {
  const g = new Graph('probe2');
  const x = g.input('input', 'float32', ['N', 1, 1, K]);
  g.output(relu(relu(x, { label: 'r' }), { label: 'r2' }), 'out');
  return g.build();
}
