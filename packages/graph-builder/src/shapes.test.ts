import { describe, expect, it } from 'vitest';
import * as r from './shapes.js';

const conv = (x: r.WindowOptions['kernel'] extends never ? never : (number | string)[], w: number[], o: Partial<r.ConvShapeOptions> = {}) =>
  r.convShape(x, w, undefined, { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, ...o });

describe('convShape', () => {
  it.each([
    // input, weight, options, expected
    [['N', 3, 224, 224], [32, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, ['N', 32, 112, 112]],
    [['N', 3, 224, 224], [32, 3, 3, 3], { strides: [2, 2], pads: [0, 0, 1, 1] }, ['N', 32, 112, 112]], // TF SAME
    [[1, 3, 225, 225], [32, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, [1, 32, 113, 113]],
    [[1, 96, 56, 56], [96, 1, 5, 5], { strides: [2, 2], pads: [2, 2, 2, 2], group: 96 }, [1, 96, 28, 28]],
    [[2, 8, 10, 10], [4, 8, 3, 3], { dilations: [2, 2] }, [2, 4, 6, 6]],
    [[1, 3, 7, 5], [2, 3, 3, 3], { pads: [0, 1, 2, 1] }, [1, 2, 7, 5]],
  ] as const)('%j * %j %j -> %j', (x, w, o, out) => {
    expect(conv([...x], [...w], o as Partial<r.ConvShapeOptions>)).toEqual(out);
  });

  it.each([
    [[1, 16, 8, 8], [24, 32, 1, 1], {}, /weight expects 32 input channels per group, input gives 16/],
    [[1, 6, 8, 8], [6, 1, 3, 3], { group: 4 }, /not divisible by group 4/],
    [[1, 3, 2, 2], [4, 3, 3, 3], {}, /larger than padded size 2/],
    [[1, 3, 8], [4, 3, 3, 3], {}, /weight rank 4 must equal input rank 3/],
    [[1, 3, 8, 8], [4, 3, 3, 3], { strides: [0, 1] }, /strides must be positive/],
  ] as const)('rejects %j * %j %j', (x, w, o, msg) => {
    expect(() => conv([...x], [...w], o as Partial<r.ConvShapeOptions>)).toThrow(msg);
  });
});

describe('poolShape', () => {
  it.each([
    [[1, 64, 112, 112], { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] }, [1, 64, 56, 56]],
    [[1, 8, 7, 7], { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: true }, [1, 8, 3, 3]],
    [[1, 8, 8, 8], { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: true }, [1, 8, 4, 4]],
  ] as const)('%j %j -> %j', (x, o, out) => expect(r.poolShape([...x], o)).toEqual(out));
});

describe('broadcastShape', () => {
  it.each([
    [['N', 32, 7, 7], ['N', 32, 1, 1], ['N', 32, 7, 7]],
    [[5], [3, 1], [3, 5]],
    [[1], ['N', 4], ['N', 4]],
  ] as const)('%j, %j -> %j', (a, b, out) => expect(r.broadcastShape([...a], [...b])).toEqual(out));
  it('rejects incompatible dims', () => expect(() => r.broadcastShape([2, 3], [4, 3])).toThrow(/dimension 0: 2 vs 4/));
});

describe('gemmShape / matMulShape', () => {
  it('Gemm with transB and bias', () => expect(r.gemmShape(['N', 1280], [1000, 1280], [1000], false, true)).toEqual(['N', 1000]));
  it('Gemm rejects inner mismatch', () => expect(() => r.gemmShape([2, 3], [4, 5], undefined, false, false)).toThrow(/K=3.*K=4/));
  it('Gemm rejects bad C', () => expect(() => r.gemmShape([2, 3], [3, 5], [4], false, false)).toThrow(/C \[4\]/));
  it.each([
    [[2, 3], [3, 4], [2, 4]],
    [[7, 2, 3], [3, 4], [7, 2, 4]],
    [[3], [3, 4], [4]],
    [[2, 3], [3], [2]],
  ] as const)('MatMul %j x %j -> %j', (a, b, out) => expect(r.matMulShape([...a], [...b])).toEqual(out));
});

describe('shape manipulation', () => {
  it.each([
    [['N', 1280, 1, 1], 1, ['N', 1280]],
    [[2, 3, 4], 0, [1, 24]],
    [[2, 3, 4], 3, [24, 1]],
  ] as const)('flatten %j axis %d -> %j', (x, a, out) => expect(r.flattenShape([...x], a)).toEqual(out));
  it.each([
    [[2, 3, 4], [0, -1], [2, 12]],
    [['N', 1280, 1, 1], [0, 1280], ['N', 1280]],
    [['N', 1280, 1, 1], [-1, 1280], ['N', 1280]],
    [[6], [2, 3], [2, 3]],
  ] as const)('reshape %j to %j -> %j', (x, t, out) => expect(r.reshapeShape([...x], [...t])).toEqual(out));
  it('reshape rejects a count mismatch', () => expect(() => r.reshapeShape([2, 3], [4, 2])).toThrow(/element counts differ/));
  it.each([
    [[[1, 2, 4, 4], [1, 3, 4, 4]], 1, [1, 5, 4, 4]],
    [[['N', 2, 4, 4], ['N', 3, 4, 4]], 1, ['N', 5, 4, 4]],
  ] as const)('concat %j axis %d -> %j', (xs, a, out) => expect(r.concatShape(xs.map((x) => [...x]), a)).toEqual(out));
  it('concat rejects mismatched spatial size', () => expect(() => r.concatShape([[1, 2, 4, 4], [1, 2, 5, 4]], 1)).toThrow(/dimension 2: 5 vs 4/));
  it.each([
    [[1, 3, 4, 4], [0, 0, 0, 1, 0, 0, 1, 0], [1, 3, 5, 5]],
    [['N', 3, 4, 4], [0, 0, 1, 1, 0, 0, 1, 1], ['N', 3, 6, 6]],
  ] as const)('pad %j by %j -> %j', (x, p, out) => expect(r.padShape([...x], [...p])).toEqual(out));
  it('pad rejects wrong pads length', () => expect(() => r.padShape([1, 2], [1, 1])).toThrow(/4 values/));
  it.each([
    [['N', 8, 7, 7], [2, 3], true, ['N', 8, 1, 1]],
    [['N', 8, 7, 7], [-1, -2], false, ['N', 8]],
  ] as const)('reduce %j axes %j keep %s -> %j', (x, a, k, out) => expect(r.reduceShape([...x], [...a], k)).toEqual(out));
  it('globalPool', () => expect(r.globalPoolShape(['N', 8, 7, 7])).toEqual(['N', 8, 1, 1]));
  it('batchNorm checks channel count', () =>
    expect(() => r.batchNormShape([1, 8, 2, 2], [[8], [8], [4], [8]])).toThrow(/mean must be \[8\]/));
});
