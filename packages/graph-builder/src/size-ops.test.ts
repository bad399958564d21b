/** The ops of size-dependent graphs (embedded preprocessing, finished heads): Shape, ReduceMin, Mod, Resize, TopK, Slice with computed bounds. */
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { clipAsRelu } from './passes/clip-as-relu.js';
import { inferShapes } from './passes/infer-shapes.js';
import { clip, concat, mod, reduceMin, resize, shape, slice, sliceAt, softmax, topK } from './ops.js';

const str = (t: { toString(): string }) => `${t}`;

describe('size-dependent ops', () => {
  it('Shape → int64 [rank]; ReduceMin keeps or drops the axis; Mod broadcasts and refuses floats without fmod', () => {
    const g = new Graph();
    const x = g.input('image', 'uint8', ['N', 'H', 'W', 3]);
    const s = shape(x, { label: 's' });
    expect(str(s)).toBe('s: int64[4]');
    const hw = slice(s, [1], [3], { axes: [0], label: 'hw' });
    expect(str(hw)).toBe('hw: int64[2]');
    expect(str(reduceMin(hw, [0], { label: 'short' }))).toBe('short: int64[1]');
    expect(str(reduceMin(hw, [0], { keepDims: false, label: 'short0' }))).toBe('short0: int64[]');
    expect(str(mod(hw, g.constant('two', 'int64', [1], BigInt64Array.of(2n)), { label: 'odd' }))).toBe('odd: int64[2]');
    const f = g.input('f', 'float32', [2]);
    expect(() => mod(f, f, { label: 'fm' })).toThrow(/fmod must be 1 for floating-point inputs/);
  });

  it('Resize: constant sizes give the shape; computed sizes make only the resized axes symbolic; bad attributes and sizes are refused', () => {
    const g = new Graph();
    const x = g.input('image', 'uint8', ['N', 'H', 'W', 3]);
    const newW = slice(shape(x), [2], [3], { axes: [0], label: 'w' });
    const y = resize(x, newW, { mode: 'cubic', antialias: true, cubicCoeffA: -0.5, excludeOutside: true, axes: [2], label: 'rw' });
    expect(str(y)).toBe('rw: uint8[N,H,resized_2,3]');
    const z = g.input('z', 'float32', [1, 3, 8, 8]);
    expect(str(resize(z, g.constant('sz', 'int64', [4], BigInt64Array.from([1n, 3n, 4n, 6n])), { mode: 'linear', label: 'r2' }))).toBe('r2: float32[1,3,4,6]');
    expect(() => resize(z, g.constant('bad', 'int64', [3], BigInt64Array.from([1n, 3n, 4n])), { label: 'r3' })).toThrow(/one value per resized axis \(4\)/);
    expect(() => resize(z, g.constant('zero', 'int64', [4], BigInt64Array.from([1n, 3n, 0n, 6n])), { label: 'r4' })).toThrow(/sizes must be positive/);
    expect(() => resize(z, newW, { mode: 'area' as never, axes: [2], label: 'r5' })).toThrow(/mode 'area'/);
  });

  it('Slice with computed starts/ends: the sliced axis becomes symbolic, axes must be constant', () => {
    const g = new Graph();
    const x = g.input('image', 'uint8', ['N', 'H', 'W', 3]);
    const s = shape(x);
    const a = slice(s, [1], [2], { axes: [0], label: 'a' });
    const b = slice(s, [2], [3], { axes: [0], label: 'b' });
    expect(str(sliceAt(x, a, b, [2], { label: 'crop' }))).toBe('crop: uint8[N,H,slice_2,3]');
    expect(() => sliceAt(x, concat([a, b], 0), b, [2], { label: 'bad' })).toThrow(/axes has 1 values, starts 2|starts has 2 values, ends 1/);
  });

  it('TopK: values and int64 indices with K along the last axis; K above the axis or 0 refused', () => {
    const g = new Graph();
    const p = softmax(g.input('logits', 'float32', ['N', 10]), { axis: -1 });
    const [v, i] = topK(p, 3, { label: 'top' });
    expect([v!.dtype, v!.shape, i!.dtype, i!.shape]).toEqual(['float32', ['N', 3], 'int64', ['N', 3]]);
    expect(() => topK(p, 11, { label: 'top11' })).toThrow(/K 11 is larger than axis 1 \(10\)/);
    expect(() => topK(p, 0, { label: 'top0' })).toThrow(/K must be a positive integer/);
  });

  it('infer-shapes uses the same definitions for a file with these ops', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 3, 8, 8]);
    g.output(resize(x, g.constant('sz', 'int64', [2], BigInt64Array.from([4n, 6n])), { axes: [2, 3], mode: 'linear', label: 'r' }));
    const ir = g.build();
    const inferred = inferShapes({ ...ir, values: [] });
    expect(inferred.outputs[0]!.shape).toEqual([1, 3, 4, 6]);
  });

  it('clipAsRelu: Clip(0, M) → Relu(x) − Relu(x − M) with M read from the Clip (not 6); other Clips kept', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 4]);
    g.output(clip(clip(x, { min: 0, max: 5.5, label: 'relu55' }), { min: -1, max: 1, label: 'other' }), 'y');
    const ir = clipAsRelu(g.build());
    expect(ir.nodes.map((n) => n.op)).toEqual(['Sub', 'Relu', 'Relu', 'Sub', 'Clip', 'Identity']);
    const bound = ir.initializers.find((t) => t.name === ir.nodes[0]!.inputs[1]);
    expect(Array.from(bound!.data as Float32Array)).toEqual([5.5]);
  });
});
