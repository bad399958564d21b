import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.js';
import { materialize, type GraphIR, type NodeIR } from '../ir.js';
import { add, batchNorm, conv, flatten, gemm, globalAveragePool, mul, relu, sigmoid } from '../ops.js';
import { roundHalfEven } from '@effnet/preprocess';
import { activationParams, quantizationTargets, quantizeQdq, QuantizeError, quantizeWeights, type TensorRange } from './quantize.js';

/** x → Conv 3×3 → SiLU → depthwise Conv → Add(residual) → Relu → GAP → Flatten → Gemm. */
function model(): GraphIR {
  const g = new Graph('tiny');
  const x = g.input('input', 'float32', ['N', 2, 6, 6]);
  const w1 = g.initializer(
    'c1.weight',
    'float32',
    [4, 2, 3, 3],
    Float32Array.from({ length: 72 }, (_, i) => ((i % 7) - 3) / 10),
  );
  const b1 = g.initializer('c1.bias', 'float32', [4], Float32Array.of(0.1, -0.2, 0.3, 0));
  const c1 = conv(x, w1, { bias: b1, pads: [1, 1, 1, 1], label: 'c1' });
  const s = mul(c1, sigmoid(c1, { label: 'c1.sig' }), { label: 'c1.silu' });
  const wdw = g.initializer(
    'dw.weight',
    'float32',
    [4, 1, 3, 3],
    Float32Array.from({ length: 36 }, (_, i) => ((i % 5) - 2) / 4),
  );
  const dw = conv(s, wdw, { pads: [1, 1, 1, 1], group: 4, label: 'dw' });
  const r = relu(add(dw, s, { label: 'res' }), { label: 'res.relu' });
  const f = flatten(globalAveragePool(r, { label: 'gap' }), { label: 'flat' });
  const fc = g.initializer('fc.weight', 'float32', [3, 4], Float32Array.of(1, 2, 3, 4, -1, 0.5, 0, 2, 0, 0, 0, 0));
  g.output(gemm(f, fc, { transB: true, label: 'fc' }), 'logits');
  return g.build();
}

const ranges = (ir: GraphIR, policy?: 'all' | 'compute' | 'pointwise'): Map<string, TensorRange> =>
  new Map(quantizationTargets(ir, policy ? { policy } : {}).map((t, i) => [t, { min: -1 - i / 10, max: 2 + i / 10 }]));
const byOp = (ir: GraphIR, op: string): NodeIR[] => ir.nodes.filter((n) => n.op === op);
const init = (ir: GraphIR, name: string) => ir.initializers.find((i) => i.name === name)!;

describe('quantizeQdq', () => {
  const ir = model();

  it('lists the tensors to calibrate: inputs of int8 ops and outputs, past a Relu', () => {
    const t = quantizationTargets(ir);
    expect(t).toEqual(expect.arrayContaining(['input', 'c1', 'c1.sig', 'c1.silu', 'dw', 'res.relu', 'gap']));
    expect(t).not.toContain('res'); // the Add's output is quantized after its Relu (onnxruntime removes the Relu)
    expect(t).not.toContain('logits'); // Gemm writes float32
    expect(quantizationTargets(ir, { policy: 'pointwise' })).toEqual(['flat']); // only the Gemm (no 1×1 conv here)
  });

  it('quantizes weights per output channel (Conv axis 0, Gemm transB axis 0) and biases to int32', () => {
    const r = ranges(ir);
    const q = quantizeQdq(ir, { ranges: r });
    const dq = new Map(byOp(q, 'DequantizeLinear').map((n) => [n.outputs[0]!, n]));
    const w = dq.get('c1.weight')!;
    expect(w.attrs.axis).toEqual({ kind: 'int', value: 0 });
    expect(init(q, w.inputs[0]!).dtype).toBe('int8');
    expect(init(q, w.inputs[0]!).shape).toEqual([4, 2, 3, 3]);
    expect(init(q, w.inputs[1]!).shape).toEqual([4]);
    expect(dq.get('fc.weight')!.attrs.axis).toEqual({ kind: 'int', value: 0 });
    const bias = dq.get('c1.bias')!;
    expect(init(q, bias.inputs[0]!).dtype).toBe('int32');
    // bias scale = input scale × weight scale[c]
    const xs = activationParams(r.get('input')!).scale;
    const ws = materialize(init(q, w.inputs[1]!).data) as Float32Array;
    const bs = materialize(init(q, bias.inputs[1]!).data) as Float32Array;
    for (let c = 0; c < 4; c++) expect(bs[c]).toBe(Math.fround(xs * ws[c]!));
    const bq = materialize(init(q, bias.inputs[0]!).data) as Int32Array;
    expect(bq[0]).toBe(roundHalfEven(0.1 / bs[0]!));
    // No float weight initializers are left for quantized ops; the names now are DQ outputs.
    expect(q.initializers.some((i) => i.name === 'c1.weight' || i.name === 'fc.weight')).toBe(false);
    expect(q.minOpset).toBeGreaterThanOrEqual(13);
  });

  it('puts one Q→DQ pair after every quantized tensor, with value shapes and types', () => {
    const q = quantizeQdq(ir, { ranges: ranges(ir) });
    const qs = byOp(q, 'QuantizeLinear');
    expect(qs.map((n) => n.inputs[0]).sort()).toEqual(['c1', 'c1.sig', 'c1.silu', 'dw', 'flat', 'gap', 'input', 'res.relu']);
    const values = new Map(q.values.map((v) => [v.name, v]));
    for (const n of qs) {
      expect(values.get(n.outputs[0]!)).toMatchObject({ dtype: 'uint8' });
      expect(values.get(n.outputs[0]!)!.shape).toEqual(values.get(n.inputs[0]!)?.shape ?? q.inputs[0]!.shape);
    }
    // Consumers read the DQ output; the Conv reads DQ(input).
    const c1 = q.nodes.find((n) => n.name === 'c1')!;
    expect(c1.inputs[0]).toBe('input.dq');
    // Flatten between GAP and Gemm stays int8 with GAP's scale (same-scale op).
    const flatQ = qs.find((n) => n.inputs[0] === 'flat')!;
    const gapQ = qs.find((n) => n.inputs[0] === 'gap')!;
    expect(flatQ.inputs[1]).toBe(gapQ.inputs[1]);
    // Topological order: every input is produced before it is used.
    const known = new Set([...q.inputs.map((i) => i.name), ...q.initializers.map((i) => i.name)]);
    for (const n of q.nodes) {
      for (const i of n.inputs) if (i) expect(known.has(i), `${n.name} reads ${i}`).toBe(true);
      n.outputs.forEach((o) => known.add(o));
    }
  });

  it("policy 'compute' keeps SiLU and SE gates float32; 'pointwise' keeps depthwise convs float32", () => {
    const c = quantizeQdq(ir, { policy: 'compute', ranges: ranges(ir, 'compute') });
    expect(byOp(c, 'QuantizeLinear').map((n) => n.inputs[0])).not.toContain('c1.sig');
    const pw = quantizeQdq(ir, { policy: 'pointwise', ranges: ranges(ir, 'pointwise') });
    expect(byOp(pw, 'DequantizeLinear').map((n) => n.outputs[0])).not.toContain('dw.weight');
    const include = (n: NodeIR) => n.name !== 'dw';
    const some = quantizeQdq(ir, { include, ranges: new Map(quantizationTargets(ir, { include }).map((t) => [t, { min: 0, max: 1 }])) });
    expect(byOp(some, 'DequantizeLinear').map((n) => n.outputs[0])).toEqual(expect.arrayContaining(['c1.weight', 'fc.weight']));
    expect(byOp(some, 'DequantizeLinear').map((n) => n.outputs[0])).not.toContain('dw.weight');
  });

  it('uses the Gemm weight axis 1 without transB', () => {
    const g = new Graph('gemm');
    const x = g.input('x', 'float32', [1, 3]);
    const w = g.initializer('w', 'float32', [3, 2], Float32Array.of(1, -2, 3, 4, -5, 6));
    g.output(gemm(x, w, { label: 'fc' }), 'y');
    const ir2 = g.build();
    const q = quantizeQdq(ir2, { ranges: new Map([['x', { min: 0, max: 1 }]]) });
    const dq = q.nodes.find((n) => n.op === 'DequantizeLinear' && n.outputs[0] === 'w')!;
    expect(dq.attrs.axis).toEqual({ kind: 'int', value: 1 });
    expect(Array.from(materialize(init(q, dq.inputs[1]!).data) as Float32Array)).toEqual([5 / 127, 6 / 127].map(Math.fround));
  });

  it('fails clearly: no quantizable op, a missing range, unfolded BatchNorm, an unknown policy', () => {
    const g = new Graph('plain');
    g.output(relu(g.input('x', 'float32', [1, 4]), { label: 'r' }), 'y');
    const plain = g.build();
    expect(() => quantizationTargets(plain)).toThrow(QuantizeError);
    expect(() => quantizeQdq(plain, { ranges: new Map() })).toThrow(/graph 'plain' has no quantizable op/);
    expect(() => quantizeQdq(ir, { ranges: new Map() })).toThrow(/no calibration range for tensor 'input'/);

    const h = new Graph('bn');
    const x = h.input('x', 'float32', [1, 2, 4, 4]);
    const w = h.initializer('w', 'float32', [2, 2, 1, 1], new Float32Array(4).fill(1));
    const p = (n: string) => h.initializer(n, 'float32', [2], Float32Array.of(1, 1));
    h.output(batchNorm(conv(x, w, { label: 'c' }), p('g'), p('b'), p('m'), p('v'), { label: 'bn' }), 'y');
    expect(() => quantizationTargets(h.build())).toThrow(/Conv 'c' feeds BatchNormalization 'bn'; fold BatchNorm first/);
    expect(() => quantizationTargets(ir, { policy: 'most' as never })).toThrow(/unknown policy 'most'/);
  });
});

describe('quantization arithmetic', () => {
  it('maps a range onto uint8/int8 with 0 exactly representable', () => {
    expect(activationParams({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = activationParams({ min: -1, max: 3 });
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64); // round(1 / (4/255)) = round(63.75)
    expect(activationParams({ min: 1, max: 2 }).zeroPoint).toBe(0); // widened to [0, 2]
    const s8 = activationParams({ min: -1.28, max: 1.27 }, 'int8');
    expect(s8.scale).toBeCloseTo(0.01, 9);
    expect(s8.zeroPoint).toBe(0);
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
    expect(() => activationParams({ min: 2, max: 1 })).toThrow(/invalid range/);
  });

  it('rounds half to even as QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, -3]);
  });

  it('quantizes weights symmetrically per channel', () => {
    const { data, scales } = quantizeWeights(Float32Array.of(1, -0.5, 0.25, 0, 0, 0, -2, 1), [4, 2], 0);
    expect(Array.from(scales)).toEqual([1 / 127, 0.25 / 127, 1, 2 / 127].map(Math.fround));
    expect(Array.from(data)).toEqual([127, -64, 127, 0, 0, 0, -127, 64]);
  });
});
