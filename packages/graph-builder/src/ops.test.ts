import { describe, expect, it } from 'vitest';
import { Graph, ShapeError } from './graph.js';
import { add, batchNorm, concat, conv, gemm, globalAveragePool, flatten, reshape, sigmoid } from './ops.js';
import { graphStats } from './stats.js';

const zeros = (n: number) => new Float32Array(n);

describe('ops validate and infer at build time', () => {
  it('a wrong conv fails on the line that built it, naming the op, label and both shapes', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['N', 16, 56, 56]);
    const w = g.initializer('w', 'float32', [24, 32, 1, 1], zeros(24 * 32));
    let err: unknown;
    try {
      conv(x, w, { label: 'blocks.1.0.conv_pw' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    const msg = (err as Error).message;
    expect(msg).toContain("Conv 'blocks.1.0.conv_pw'");
    expect(msg).toContain('input [N,16,56,56]');
    expect(msg).toContain('weight [24,32,1,1]');
    expect((err as Error).stack).toContain('ops.test.ts');
  });

  it('rejects mixed dtypes', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 2]);
    const b = g.input('b', 'float16', [2, 2]);
    expect(() => add(a, b)).toThrow(/B is float16 but A is float32/);
  });

  it('rejects tensors from another graph', () => {
    const g1 = new Graph('one'),
      g2 = new Graph('two');
    const a = g1.input('a', 'float32', [2]);
    const b = g2.input('b', 'float32', [2]);
    expect(() => add(a, b)).toThrow(/tensor 'b' belongs to graph 'two', not 'one'/);
  });

  it('rejects a BatchNorm with the wrong channel count', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 8, 4, 4]);
    const p = (n: string, c: number) => g.initializer(n, 'float32', [c], zeros(c));
    expect(() => batchNorm(x, p('s', 8), p('b', 8), p('m', 8), p('v', 4), { label: 'bn1' })).toThrow(/BatchNormalization 'bn1': var must be \[8\].*input \[1,8,4,4\]/);
  });

  it('rejects duplicate names and initializer data of the wrong size', () => {
    const g = new Graph();
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/);
    expect(() => g.initializer('w', 'float32', [2, 2], zeros(3))).toThrow(/3 values for shape \[2,2\]/);
  });

  it('builds a small classifier and counts params and MACs', () => {
    const g = new Graph('tiny');
    const x = g.input('input', 'float32', ['N', 3, 8, 8]);
    const w = g.initializer('conv.weight', 'float32', [4, 3, 3, 3], zeros(108));
    let y = conv(x, w, { pads: [1, 1, 1, 1], label: 'conv' });
    y = add(y, sigmoid(y));
    y = flatten(globalAveragePool(y));
    const fw = g.initializer('fc.weight', 'float32', [10, 4], zeros(40));
    const fb = g.initializer('fc.bias', 'float32', [10], zeros(10));
    const out = gemm(y, fw, { c: fb, transB: true });
    expect(out.shape).toEqual(['N', 10]);
    g.output(out, 'logits');
    const ir = g.build();
    expect(ir.outputs[0]).toMatchObject({ name: 'logits', shape: ['N', 10] });
    const s = graphStats(ir);
    expect(s.params).toBe(108 + 40 + 10);
    expect(s.macs).toBe(4 * 8 * 8 * 27 + 40);
  });

  it('counts MACs per image when the batch is fixed', () => {
    const build = (n: number | 'N') => {
      const g = new Graph('tiny');
      const x = g.input('input', 'float32', [n, 3, 8, 8]);
      const w = g.initializer('conv.weight', 'float32', [4, 3, 3, 3], zeros(108));
      g.output(conv(x, w, { pads: [1, 1, 1, 1] }), 'y');
      return graphStats(g.build()).macs;
    };
    expect(build(8)).toBe(4 * 8 * 8 * 27);
    expect(build(1)).toBe(build(8));
    expect(build('N')).toBe(build(8));
  });

  it('reshape and concat create their constants deterministically', () => {
    const build = () => {
      const g = new Graph();
      const x = g.input('x', 'float32', [2, 3, 4]);
      const a = reshape(x, [0, -1]);
      const b = reshape(x, [2, 12]);
      g.output(concat([a, b], 1));
      return g.build();
    };
    const one = build(),
      two = build();
    expect(one.initializers.map((i) => i.name)).toEqual(['Reshape.shape', 'Reshape.shape_2']);
    expect(two.initializers.map((i) => i.name)).toEqual(one.initializers.map((i) => i.name));
    expect(one.outputs[0]!.shape).toEqual([2, 24]);
  });
});
