/**
 * Output-shape rules, one small pure function per op family. Each returns the output shape or
 * throws a ShapeRuleError whose message says what disagrees; the op functions add the op name,
 * label and input shapes around it.
 */
import type { Dim, Shape } from './ir.js';

export class ShapeRuleError extends Error {}

function fail(msg: string): never {
  throw new ShapeRuleError(msg);
}

export function isStatic(d: Dim): d is number {
  return typeof d === 'number';
}

/** Sizes are equal when both are the same number or the same symbol. */
export function sameDim(a: Dim, b: Dim): boolean {
  return a === b;
}

export function expectRank(shape: Shape, rank: number, what: string): void {
  if (shape.length !== rank) fail(`${what} must have rank ${rank}, got rank ${shape.length}`);
}

export interface WindowOptions {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[]; // [begin..., end...] as ONNX orders them
  readonly dilations: readonly number[];
  readonly ceilMode?: boolean;
}

/**
 * TensorFlow "SAME" / ONNX auto_pad SAME_UPPER padding of one spatial dimension: output
 * ceil(size / stride), the total padding that needs, split with the larger half at the end
 * ([begin, end]; SAME_LOWER swaps them). The one place this rule is written.
 */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** Spatial output sizes of a sliding window (Conv, pooling). */
export function windowOutput(spatial: readonly Dim[], o: WindowOptions): Dim[] {
  const r = spatial.length;
  for (const [name, arr, len] of [
    ['kernel', o.kernel, r],
    ['strides', o.strides, r],
    ['dilations', o.dilations, r],
    ['pads', o.pads, 2 * r],
  ] as const) {
    if (arr.length !== len) fail(`${name} must have ${len} values for ${r} spatial dims, got [${arr.join(',')}]`);
    if (arr.some((v) => !Number.isInteger(v) || (name === 'pads' ? v < 0 : v < 1))) fail(`${name} must be ${name === 'pads' ? 'non-negative' : 'positive'} integers, got [${arr.join(',')}]`);
  }
  return spatial.map((size, i) => {
    if (!isStatic(size)) fail(`spatial dimension ${i} must be static, got '${size}'`);
    const k = o.kernel[i]!,
      s = o.strides[i]!,
      d = o.dilations[i]!;
    const padded = size + o.pads[i]! + o.pads[i + r]!;
    const effective = d * (k - 1) + 1;
    if (padded < effective) fail(`window ${effective} (kernel ${k}, dilation ${d}) is larger than padded size ${padded} in spatial dim ${i}`);
    const span = padded - effective;
    return (o.ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  });
}

export interface ConvShapeOptions {
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  readonly group: number;
}

export function convShape(x: Shape, w: Shape, bias: Shape | undefined, o: ConvShapeOptions): Dim[] {
  if (x.length < 3) fail(`input must be [N,C,spatial...], got rank ${x.length}`);
  if (w.length !== x.length) fail(`weight rank ${w.length} must equal input rank ${x.length}`);
  const [n, c] = x as [Dim, Dim];
  const [m, cPerGroup] = w as [Dim, Dim];
  if (!isStatic(c) || !isStatic(m) || !isStatic(cPerGroup)) fail('channel dimensions must be static');
  if (!Number.isInteger(o.group) || o.group < 1) fail(`group must be a positive integer, got ${o.group}`);
  if (c % o.group !== 0) fail(`input channels ${c} not divisible by group ${o.group}`);
  if (m % o.group !== 0) fail(`output channels ${m} not divisible by group ${o.group}`);
  if (cPerGroup !== c / o.group) fail(`weight expects ${cPerGroup} input channels per group, input gives ${c / o.group} (${c} channels, group ${o.group})`);
  if (bias && (bias.length !== 1 || bias[0] !== m)) fail(`bias must be [${m}], got [${bias.join(',')}]`);
  const kernel = w.slice(2);
  if (!kernel.every(isStatic)) fail('kernel dimensions must be static');
  return [n, m, ...windowOutput(x.slice(2), { kernel, strides: o.strides, pads: o.pads, dilations: o.dilations })];
}

export function poolShape(x: Shape, o: WindowOptions): Dim[] {
  if (x.length < 3) fail(`input must be [N,C,spatial...], got rank ${x.length}`);
  return [x[0]!, x[1]!, ...windowOutput(x.slice(2), o)];
}

export function globalPoolShape(x: Shape): Dim[] {
  if (x.length < 3) fail(`input must be [N,C,spatial...], got rank ${x.length}`);
  return [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
}

/** Per-channel parameters (BatchNormalization scale/bias/mean/var). */
export function batchNormShape(x: Shape, params: readonly Shape[]): Dim[] {
  if (x.length < 2) fail(`input must be [N,C,...], got rank ${x.length}`);
  const c = x[1]!;
  const names = ['scale', 'bias', 'mean', 'var'];
  params.forEach((p, i) => {
    if (p.length !== 1 || !sameDim(p[0]!, c)) fail(`${names[i]} must be [${c}] (input channels), got [${p.join(',')}]`);
  });
  return [...x];
}

/** Numpy-style multidirectional broadcasting. */
export function broadcastShape(a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (sameDim(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else fail(`cannot broadcast dimension ${i}: ${da} vs ${db}`);
  }
  return out;
}

export function gemmShape(a: Shape, b: Shape, c: Shape | undefined, transA: boolean, transB: boolean): Dim[] {
  expectRank(a, 2, 'A');
  expectRank(b, 2, 'B');
  const [m, ka] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = transB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (!sameDim(ka, kb)) fail(`inner dimensions differ: A gives K=${ka}, B gives K=${kb}`);
  if (c) {
    try {
      const bc = broadcastShape([m, n], c);
      if (bc.length !== 2 || !sameDim(bc[0]!, m) || !sameDim(bc[1]!, n)) throw new ShapeRuleError('');
    } catch {
      fail(`C [${c.join(',')}] is not unidirectionally broadcastable to [${m},${n}]`);
    }
  }
  return [m, n];
}

export function matMulShape(a: Shape, b: Shape): Dim[] {
  if (a.length < 1 || b.length < 1) fail('MatMul inputs must have rank >= 1');
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const k1 = a2[a2.length - 1]!,
    k2 = b2[b2.length - 2]!;
  if (!sameDim(k1, k2)) fail(`inner dimensions differ: ${k1} vs ${k2}`);
  const batch = broadcastShape(a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function normAxis(axis: number, rank: number, allowEnd = false): number {
  const lim = allowEnd ? rank + 1 : rank;
  if (!Number.isInteger(axis) || axis < -lim || axis >= lim) fail(`axis ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + lim : axis;
}

function product(dims: readonly Dim[]): Dim {
  if (!dims.every(isStatic)) return dims.length === 1 ? dims[0]! : dims.join('*');
  return (dims as number[]).reduce((p, d) => p * d, 1);
}

export function flattenShape(x: Shape, axis: number): Dim[] {
  const a = normAxis(axis, x.length, true);
  return [product(x.slice(0, a)), product(x.slice(a))];
}

/** Reshape with ONNX semantics: 0 copies the input dimension, -1 is inferred. */
export function reshapeShape(x: Shape, target: readonly number[]): Dim[] {
  const out: Dim[] = target.map((t, i) => {
    if (t === 0) {
      if (i >= x.length) fail(`target dim ${i} is 0 (copy) but input has rank ${x.length}`);
      return x[i]!;
    }
    if (t < -1 || !Number.isInteger(t)) fail(`invalid target dim ${t}`);
    return t;
  });
  const inferred = out.filter((d) => d === -1).length;
  if (inferred > 1) fail('at most one target dim may be -1');
  const known = out.filter((d) => d !== -1);
  // Symbols may only pass through unchanged (a dynamic batch), everything else is counted.
  const symIn = x.filter((d) => !isStatic(d));
  const symOut = known.filter((d) => !isStatic(d));
  if (symIn.join() !== symOut.join() && !(inferred === 1 && symOut.length === 0 && symIn.length <= 1)) fail(`cannot reshape [${x.join(',')}] to [${target.join(',')}] with symbolic dimensions`);
  const total = (x.filter(isStatic) as number[]).reduce((p, d) => p * d, 1);
  const knownProd = (known.filter(isStatic) as number[]).reduce((p, d) => p * d, 1);
  if (inferred === 1) {
    if (symIn.length === 1 && symOut.length === 0) {
      if (total % knownProd !== 0) fail(`cannot reshape [${x.join(',')}] to [${target.join(',')}]`);
      return out.map((d) => (d === -1 ? (total / knownProd === 1 ? symIn[0]! : `${symIn[0]}*${total / knownProd}`) : d));
    }
    if (knownProd === 0 || total % knownProd !== 0) fail(`cannot reshape [${x.join(',')}] to [${target.join(',')}]`);
    return out.map((d) => (d === -1 ? total / knownProd : d));
  }
  if (knownProd !== total) fail(`element counts differ: [${x.join(',')}] has ${total}, target [${target.join(',')}] has ${knownProd}`);
  return out;
}

export function concatShape(inputs: readonly Shape[], axis: number): Dim[] {
  if (inputs.length === 0) fail('Concat needs at least one input');
  const first = inputs[0]!;
  const a = normAxis(axis, first.length);
  let sum: Dim = 0;
  inputs.forEach((s, k) => {
    if (s.length !== first.length) fail(`input ${k} has rank ${s.length}, input 0 has rank ${first.length}`);
    s.forEach((d, i) => {
      if (i !== a && !sameDim(d, first[i]!)) fail(`input ${k} differs from input 0 in dimension ${i}: ${d} vs ${first[i]}`);
    });
    const d = s[a]!;
    sum = isStatic(sum) && isStatic(d) ? sum + d : `${sum}+${d}`;
  });
  const out = [...first];
  out[a] = sum;
  return out;
}

export function padShape(x: Shape, pads: readonly number[]): Dim[] {
  if (pads.length !== 2 * x.length) fail(`pads must have ${2 * x.length} values for rank ${x.length}, got ${pads.length}`);
  return x.map((d, i) => {
    const p = pads[i]! + pads[i + x.length]!;
    if (p === 0) return d;
    if (!isStatic(d)) fail(`cannot pad symbolic dimension ${i} ('${d}')`);
    const r = d + p;
    if (r < 1) fail(`padding makes dimension ${i} empty (${d} + ${p})`);
    return r;
  });
}

export function reduceShape(x: Shape, axes: readonly number[], keepDims: boolean): Dim[] {
  const norm = axes.map((a) => normAxis(a, x.length));
  if (new Set(norm).size !== norm.length) fail(`duplicate axes [${axes.join(',')}]`);
  return keepDims ? x.map((d, i) => (norm.includes(i) ? 1 : d)) : x.filter((_, i) => !norm.includes(i));
}

export function softmaxShape(x: Shape, axis: number): Dim[] {
  normAxis(axis, x.length);
  return [...x];
}

/** Transpose: `perm` (default: reversed axes) must be a permutation of 0..rank-1. */
export function transposeShape(x: Shape, perm: readonly number[] | undefined): Dim[] {
  const p = perm ?? x.map((_, i) => x.length - 1 - i);
  if (p.length !== x.length || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) fail(`perm [${p.join(',')}] is not a permutation of the ${x.length} axes`);
  return p.map((a) => x[a]!);
}

/** Slice with ONNX semantics: negative indices count from the end, out-of-range ones are clamped. */
export function sliceShape(x: Shape, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Dim[] {
  if (starts.length !== ends.length) fail(`starts has ${starts.length} values, ends ${ends.length}`);
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.length));
  if (ax.length !== starts.length) fail(`axes has ${ax.length} values, starts ${starts.length}`);
  if (new Set(ax).size !== ax.length) fail(`duplicate axes [${(axes ?? []).join(',')}]`);
  const st = steps ?? starts.map(() => 1);
  if (st.length !== starts.length) fail(`steps has ${st.length} values, starts ${starts.length}`);
  const out = [...x];
  ax.forEach((a, i) => {
    const d = x[a]!;
    const step = st[i]!;
    if (!Number.isInteger(step) || step === 0) fail(`step ${step} on axis ${a} must be a non-zero integer`);
    let s = starts[i]!,
      e = ends[i]!;
    if (!isStatic(d)) {
      if (s === 0 && step === 1 && e >= 2 ** 31 - 1) return; // the whole symbolic axis
      fail(`cannot slice symbolic dimension ${a} ('${d}')`);
    }
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    out[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  return out;
}

/** Unsqueeze: inserts size-1 axes at `axes` (positions in the output, may be negative). */
export function unsqueezeShape(x: Shape, axes: readonly number[]): Dim[] {
  const rank = x.length + axes.length;
  const norm = axes.map((a) => normAxis(a, rank));
  if (new Set(norm).size !== norm.length) fail(`duplicate axes [${axes.join(',')}]`);
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : x[k++]!);
  return out;
}

/** Squeeze: removes the size-1 `axes` (all size-1 axes when omitted). */
export function squeezeShape(x: Shape, axes: readonly number[] | undefined): Dim[] {
  if (!axes) {
    if (!x.every(isStatic)) fail(`axes are needed when the input has symbolic dimensions [${x.join(',')}]`);
    return x.filter((d) => d !== 1);
  }
  const norm = axes.map((a) => normAxis(a, x.length));
  if (new Set(norm).size !== norm.length) fail(`duplicate axes [${axes.join(',')}]`);
  for (const a of norm) if (x[a] !== 1) fail(`axis ${a} has size ${x[a]}, not 1`);
  return x.filter((_, i) => !norm.includes(i));
}

/**
 * QuantizeLinear / DequantizeLinear parameters: a scalar scale (and zero point) quantizes per
 * tensor; a 1-D one of size x[axis] quantizes per channel along `axis`. Returns the normalized
 * axis, or undefined for per-tensor.
 */
export function quantParamsShape(x: Shape, scale: Shape, zeroPoint: Shape | undefined, axis: number | undefined): number | undefined {
  if (zeroPoint && (zeroPoint.length !== scale.length || zeroPoint.some((d, i) => !sameDim(d, scale[i]!))))
    fail(`zero point [${zeroPoint.join(',')}] must have the shape of scale [${scale.join(',')}]`);
  if (scale.length === 0) {
    if (axis !== undefined) fail(`axis ${axis} needs a 1-D scale, got a scalar (per-tensor)`);
    return undefined;
  }
  if (scale.length !== 1) fail(`scale must be a scalar (per-tensor) or 1-D (per-channel), got rank ${scale.length}`);
  const a = normAxis(axis ?? 1, x.length);
  if (!sameDim(scale[0]!, x[a]!)) fail(`per-channel scale [${scale[0]}] must match input dimension ${a} (${x[a]})`);
  return a;
}
