import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.js';
import type { GraphIR, InitializerIR, NodeIR } from '../ir.js';
import { add, batchNorm, conv, flatten, gemm, globalAveragePool, maxPool, mul, reduceMean, relu, reshape, sigmoid } from '../ops.js';
import { graphStats } from '../stats.js';
import { inferShapes } from './infer-shapes.js';

/** A graph as another exporter writes it: no intermediate shapes. */
const bare = (ir: GraphIR): GraphIR => ({ ...ir, values: [] });
const f32 = (name: string, shape: number[]): InitializerIR => ({ name, dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const i64 = (name: string, values: number[]): InitializerIR => ({ name, dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
const node = (op: string, inputs: string[], outputs: string[], attrs: NodeIR['attrs'] = {}): NodeIR => ({ op, name: outputs[0]!, inputs, outputs, attrs });

/** An MBConv-like CNN built with the graph builder: strided/depthwise convs, BN, SE gate, residual, pooling, classifier. */
function smallCnn(): GraphIR {
  const g = new Graph('cnn');
  const w = (name: string, shape: number[]) => g.initializer(name, 'float32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01));
  const x = g.input('input', 'float32', ['N', 3, 33, 33]);
  const bn = (t: ReturnType<typeof relu>, c: number, p: string) => batchNorm(t, w(`${p}.g`, [c]), w(`${p}.b`, [c]), w(`${p}.m`, [c]), w(`${p}.v`, [c]));
  const stem = relu(bn(conv(x, w('stem', [16, 3, 3, 3]), { strides: [2, 2], pads: [1, 1, 1, 1] }), 16, 'bn0'));
  const dw = relu(bn(conv(stem, w('dw', [16, 1, 3, 3]), { pads: [1, 1, 1, 1], group: 16 }), 16, 'bn1'));
  const se = sigmoid(conv(relu(conv(reduceMean(dw, [2, 3], { keepDims: true }), w('se1', [4, 16, 1, 1]))), w('se2', [16, 4, 1, 1])));
  const block = add(conv(mul(dw, se), w('pw', [16, 16, 1, 1])), stem);
  const pooled = maxPool(block, { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] });
  const head = flatten(globalAveragePool(conv(pooled, w('head', [32, 16, 1, 1]))));
  g.output(gemm(reshape(head, [-1, 32]), w('fc', [10, 32]), { transB: true }), 'logits');
  return g.build();
}

describe('inferShapes', () => {
  it('a graph without value_info gets back every shape the builder knew, and the full MAC count', () => {
    const ir = smallCnn();
    const full = graphStats(ir);
    expect(full.macsComplete).toBe(true);
    expect(graphStats(bare(ir)).macsComplete).toBe(false);
    const inferred = inferShapes(bare(ir));
    expect(graphStats(inferred)).toMatchObject({ macs: full.macs, params: full.params, macsComplete: true });
    const shapes = new Map(inferred.values.map((v) => [v.name, v.shape]));
    for (const v of ir.values) expect([v.name, shapes.get(v.name)]).toEqual([v.name, v.shape]);
    expect(inferShapes(ir)).toBe(ir); // nothing to add: the same graph
  });

  it('auto_pad SAME_UPPER, attribute-less defaults, and an unknown op (lower bound)', () => {
    const ir: GraphIR = {
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 15, 15] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: ['N', 4, 8, 8] }],
      nodes: [
        node('Conv', ['x', 'w'], ['y'], { auto_pad: { kind: 'string', value: 'SAME_UPPER' }, strides: { kind: 'ints', value: [2, 2] } }),
        node('Mystery', ['y'], ['m']),
        node('Conv', ['m', 'w2'], ['c']),
        node('Relu', ['c'], ['z']),
      ],
      initializers: [f32('w', [8, 3, 3, 3]), f32('w2', [4, 8, 1, 1])],
      values: [],
      minOpset: 13,
    };
    const shapes = new Map(inferShapes(ir).values.map((v) => [v.name, v.shape]));
    expect(shapes.get('y')).toEqual(['N', 8, 8, 8]); // ceil(15 / 2)
    expect(shapes.has('m')).toBe(false);
    const s = graphStats(inferShapes(ir));
    expect(s.macsComplete).toBe(false); // the second Conv's shapes are unknown: a lower bound
    expect(s.macs).toBe(8 * 8 * 8 * 27);
  });

  it('torch forms: SAME_LOWER/VALID pools, axes as inputs (ReduceMean opset 18, Squeeze/Unsqueeze 13), Pad with axes (18), Reshape from a constant', () => {
    const ir: GraphIR = {
      name: 'torch',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 8, 10, 10] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 5] }],
      nodes: [
        node('MaxPool', ['x'], ['p'], { auto_pad: { kind: 'string', value: 'SAME_LOWER' }, kernel_shape: { kind: 'ints', value: [3, 3] }, strides: { kind: 'ints', value: [3, 3] } }), // ceil(10/3) = 4
        node('AveragePool', ['x'], ['v'], { auto_pad: { kind: 'string', value: 'VALID' }, kernel_shape: { kind: 'ints', value: [3, 3] }, strides: { kind: 'ints', value: [3, 3] } }), // floor(7/3)+1 = 3
        node('Pad', ['p', 'pads', '', 'pad_axes'], ['pp']), // H,W: +1 before, +2 after → 7x7
        node('ReduceMean', ['pp', 'axes'], ['r'], { keepdims: { kind: 'int', value: 1 } }), // [batch,8,1,1]
        node('Squeeze', ['r', 'sq_axes'], ['s']), // [batch,8]
        node('Unsqueeze', ['s', 'unsq_axes'], ['u']), // [batch,8,1]
        node('Reshape', ['u', 'shape'], ['flat']), // [batch,8]
        node('Gemm', ['flat', 'fc', 'fc_b'], ['logits'], { transB: { kind: 'int', value: 1 } }),
      ],
      initializers: [
        i64('pads', [1, 1, 2, 2]),
        i64('pad_axes', [-2, -1]),
        i64('axes', [2, 3]),
        i64('sq_axes', [-1, -2]),
        i64('unsq_axes', [-1]),
        i64('shape', [0, -1]),
        f32('fc', [5, 8]),
        f32('fc_b', [5]),
      ],
      values: [],
      minOpset: 18,
    };
    const shapes = new Map(inferShapes(ir).values.map((v) => [v.name, v.shape]));
    expect(Object.fromEntries(shapes)).toEqual({
      p: ['batch', 8, 4, 4],
      v: ['batch', 8, 3, 3],
      pp: ['batch', 8, 7, 7],
      r: ['batch', 8, 1, 1],
      s: ['batch', 8],
      u: ['batch', 8, 1],
      flat: ['batch', 8],
    });
    expect(graphStats(inferShapes(ir))).toMatchObject({ macs: 40, macsComplete: true });
  });

  it('an inconsistent file leaves the value unknown instead of throwing', () => {
    const ir: GraphIR = {
      name: 'bad',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 8] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 8, 8] }],
      nodes: [node('Conv', ['x', 'w'], ['y0']), node('Relu', ['y0'], ['y'])],
      initializers: [f32('w', [4, 5, 1, 1])], // 5 input channels for a 3-channel input
      values: [],
      minOpset: 13,
    };
    expect(inferShapes(ir)).toBe(ir);
    expect(graphStats(inferShapes(ir)).macsComplete).toBe(false);
  });
});

describe('inferShapes reads the op definitions (one shape authority)', () => {
  it('opset 1–10 forms: axes and pads as attributes, Clip bounds as attributes, Cast to its own type', () => {
    const ir: GraphIR = {
      name: 'old',
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4, 6, 6] }],
      outputs: [{ name: 'i', dtype: 'int64', shape: [2, 4, 9, 9] }],
      nodes: [
        node('Pad', ['x'], ['p'], { pads: { kind: 'ints', value: [0, 0, 1, 2, 0, 0, 2, 1] } }), // opset 2–10
        node('Clip', ['p'], ['c'], { min: { kind: 'float', value: 0 }, max: { kind: 'float', value: 6 } }), // opset 6–10
        node('Unsqueeze', ['c'], ['u'], { axes: { kind: 'ints', value: [0] } }), // opset 1–12
        node('Squeeze', ['u'], ['s'], { axes: { kind: 'ints', value: [0] } }),
        node('Cast', ['s'], ['i'], { to: { kind: 'int', value: 7 } }),
      ],
      initializers: [],
      values: [],
      minOpset: 9,
    };
    const types = new Map(inferShapes(ir).values.map((v) => [v.name, [v.dtype, v.shape]]));
    expect(Object.fromEntries(types)).toEqual({
      p: ['float32', [2, 4, 9, 9]],
      c: ['float32', [2, 4, 9, 9]],
      u: ['float32', [1, 2, 4, 9, 9]],
      s: ['float32', [2, 4, 9, 9]],
    });
    // 'i' is a graph output already (its declared type kept); a Cast inside the graph gets the type it casts to.
    const inner = inferShapes({ ...ir, outputs: [{ name: 'z', dtype: 'int64', shape: [2, 4, 9, 9] }], nodes: [...ir.nodes, node('Identity', ['i'], ['z'])] });
    expect(inner.values.find((v) => v.name === 'i')).toMatchObject({ dtype: 'int64', shape: [2, 4, 9, 9] });
  });

  it('a node its definition rejects stays unknown (a Conv whose kernel_shape contradicts its weight)', () => {
    const ir: GraphIR = {
      name: 'contradiction',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 8] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: [1, 4, 8, 8] }],
      nodes: [node('Conv', ['x', 'w'], ['y'], { kernel_shape: { kind: 'ints', value: [1, 1] } }), node('Relu', ['y'], ['z'])],
      initializers: [f32('w', [4, 3, 3, 3])],
      values: [],
      minOpset: 13,
    };
    expect(inferShapes(ir)).toBe(ir);
  });
});
