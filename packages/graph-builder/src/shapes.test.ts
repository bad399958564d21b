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
    [
      ['N', 32, 7, 7],
      ['N', 32, 1, 1],
      ['N', 32, 7, 7],
    ],
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
    [
      [2, 3],
      [3, 4],
      [2, 4],
    ],
    [
      [7, 2, 3],
      [3, 4],
      [7, 2, 4],
    ],
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
    [
      [2, 3, 4],
      [0, -1],
      [2, 12],
    ],
    [
      ['N', 1280, 1, 1],
      [0, 1280],
      ['N', 1280],
    ],
    [
      ['N', 1280, 1, 1],
      [-1, 1280],
      ['N', 1280],
    ],
    [[6], [2, 3], [2, 3]],
  ] as const)('reshape %j to %j -> %j', (x, t, out) => expect(r.reshapeShape([...x], [...t])).toEqual(out));
  it('reshape rejects a count mismatch', () => expect(() => r.reshapeShape([2, 3], [4, 2])).toThrow(/element counts differ/));
  it.each([
    [
      [
        [1, 2, 4, 4],
        [1, 3, 4, 4],
      ],
      1,
      [1, 5, 4, 4],
    ],
    [
      [
        ['N', 2, 4, 4],
        ['N', 3, 4, 4],
      ],
      1,
      ['N', 5, 4, 4],
    ],
  ] as const)('concat %j axis %d -> %j', (xs, a, out) =>
    expect(
      r.concatShape(
        xs.map((x) => [...x]),
        a,
      ),
    ).toEqual(out),
  );
  it('concat rejects mismatched spatial size', () =>
    expect(() =>
      r.concatShape(
        [
          [1, 2, 4, 4],
          [1, 2, 5, 4],
        ],
        1,
      ),
    ).toThrow(/dimension 2: 5 vs 4/));
  it.each([
    [
      [1, 3, 4, 4],
      [0, 0, 0, 1, 0, 0, 1, 0],
      [1, 3, 5, 5],
    ],
    [
      ['N', 3, 4, 4],
      [0, 0, 1, 1, 0, 0, 1, 1],
      ['N', 3, 6, 6],
    ],
  ] as const)('pad %j by %j -> %j', (x, p, out) => expect(r.padShape([...x], [...p])).toEqual(out));
  it('pad rejects wrong pads length', () => expect(() => r.padShape([1, 2], [1, 1])).toThrow(/4 values/));
  it.each([
    [['N', 8, 7, 7], [2, 3], true, ['N', 8, 1, 1]],
    [['N', 8, 7, 7], [-1, -2], false, ['N', 8]],
  ] as const)('reduce %j axes %j keep %s -> %j', (x, a, k, out) => expect(r.reduceShape([...x], [...a], k)).toEqual(out));
  it('globalPool', () => expect(r.globalPoolShape(['N', 8, 7, 7])).toEqual(['N', 8, 1, 1]));
  it('batchNorm checks channel count', () => expect(() => r.batchNormShape([1, 8, 2, 2], [[8], [8], [4], [8]])).toThrow(/mean must be \[8\]/));
});

describe('transpose / slice / unsqueeze / squeeze', () => {
  it.each([
    [
      ['N', 3, 8, 6],
      [0, 2, 3, 1],
      ['N', 8, 6, 3],
    ],
    [[2, 3, 4], undefined, [4, 3, 2]],
    [[5], [0], [5]],
  ] as const)('transpose %j perm %j -> %j', (x, p, out) => expect(r.transposeShape([...x], p && [...p])).toEqual(out));
  it.each([
    [
      [1, 2, 3],
      [0, 2, 3],
    ],
    [
      [1, 2, 3],
      [0, 0, 1],
    ],
  ] as const)('transpose rejects %j perm %j', (x, p) => expect(() => r.transposeShape([...x], [...p])).toThrow(/not a permutation/));

  it.each([
    // x, starts, ends, axes, steps, out
    [['N', 4, 9, 8], [1, 1], [9, 8], [2, 3], undefined, ['N', 4, 8, 7]],
    [[10], [-3], [2 ** 62], undefined, undefined, [3]],
    [[10], [0], [100], undefined, [3], [4]],
    [[10], [9], [-100], [0], [-2], [5]],
    [[4, 6], [1], [-1], [-1], undefined, [4, 4]],
    [['N', 6], [0], [2 ** 62], [0], undefined, ['N', 6]],
    [[5], [4], [2], undefined, undefined, [0]],
  ] as const)('slice %j [%j, %j) axes %j steps %j -> %j', (x, s, e, a, st, out) => expect(r.sliceShape([...x], [...s], [...e], a && [...a], st && [...st])).toEqual(out));
  it.each([
    [['N', 4], [0], [1], [0], undefined, /symbolic dimension 0/],
    [[4, 4], [0], [1], [0], [0], /step 0 on axis 0/],
    [[4, 4], [0, 0], [1], undefined, undefined, /starts has 2 values, ends 1/],
    [[4, 4], [0], [1], [2], undefined, /axis 2 out of range for rank 2/],
    [[4, 4], [0, 0], [1, 1], [1, -1], undefined, /duplicate axes/],
  ] as const)('slice rejects %j [%j, %j) axes %j steps %j', (x, s, e, a, st, msg) => expect(() => r.sliceShape([...x], [...s], [...e], a && [...a], st && [...st])).toThrow(msg));

  it.each([
    [[4], [0, 2, 3], [1, 4, 1, 1]],
    [['N', 4], [-1], ['N', 4, 1]],
    [[2, 3], [1], [2, 1, 3]],
  ] as const)('unsqueeze %j axes %j -> %j', (x, a, out) => expect(r.unsqueezeShape([...x], [...a])).toEqual(out));
  it('unsqueeze rejects duplicate and out-of-range axes', () => {
    expect(() => r.unsqueezeShape([4], [0, 0])).toThrow(/duplicate axes/);
    expect(() => r.unsqueezeShape([4], [2])).toThrow(/axis 2 out of range for rank 2/);
  });
  it.each([
    [
      ['N', 8, 1, 1],
      [2, 3],
      ['N', 8],
    ],
    [[1, 8, 1], undefined, [8]],
    [[1, 8, 1], [-1], [1, 8]],
  ] as const)('squeeze %j axes %j -> %j', (x, a, out) => expect(r.squeezeShape([...x], a && [...a])).toEqual(out));
  it('squeeze rejects an axis that is not 1, and missing axes with symbols', () => {
    expect(() => r.squeezeShape([1, 8], [1])).toThrow(/axis 1 has size 8, not 1/);
    expect(() => r.squeezeShape(['N', 1], undefined)).toThrow(/axes are needed/);
  });
});

describe('quantParamsShape', () => {
  it.each([
    // x, scale, zero point, axis, normalized axis (undefined = per tensor)
    [['N', 8, 4, 4], [], [], undefined, undefined],
    [['N', 8, 4, 4], [], undefined, undefined, undefined],
    [['N', 8, 4, 4], [8], [8], undefined, 1],
    [[16, 8, 3, 3], [16], [16], 0, 0],
    [[16, 8, 3, 3], [8], undefined, -3, 1],
  ] as const)('x %j scale %j zp %j axis %j -> %j', (x, s, z, a, out) => expect(r.quantParamsShape([...x], [...s], z && [...z], a)).toEqual(out));
  it.each([
    [[1, 8, 4, 4], [4], [4], undefined, /per-channel scale \[4\] must match input dimension 1 \(8\)/],
    [[1, 8, 4, 4], [], [], 1, /axis 1 needs a 1-D scale/],
    [[1, 8, 4, 4], [8], [], undefined, /zero point \[\] must have the shape of scale \[8\]/],
    [[1, 8, 4, 4], [1, 8], undefined, undefined, /scalar \(per-tensor\) or 1-D/],
    [[8, 4], [8], undefined, 2, /axis 2 out of range/],
  ] as const)('rejects x %j scale %j zp %j axis %j', (x, s, z, a, msg) => expect(() => r.quantParamsShape([...x], [...s], z && [...z], a)).toThrow(msg));
});

describe('samePadding (TF "SAME" / auto_pad SAME_UPPER)', () => {
  it('gives output ceil(size / stride), the larger half at the end, at most one apart', () => {
    expect(r.samePadding(15, 3, 2, 1)).toEqual([1, 1]);
    expect(r.samePadding(16, 3, 2, 1)).toEqual([0, 1]); // TF's asymmetric case
    expect(r.samePadding(7, 1, 2, 1)).toEqual([0, 0]);
    for (let size = 1; size <= 20; size++)
      for (const kernel of [1, 2, 3, 5, 7])
        for (const stride of [1, 2, 3])
          for (const dilation of [1, 2]) {
            const [b, e] = r.samePadding(size, kernel, stride, dilation);
            expect(e - b === 0 || e - b === 1).toBe(true);
            const out = r.windowOutput([size], { kernel: [kernel], strides: [stride], dilations: [dilation], pads: [b, e] });
            expect(out, `${size} k${kernel} s${stride} d${dilation}`).toEqual([Math.ceil(size / stride)]);
          }
  });
});
