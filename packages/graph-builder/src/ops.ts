/**
 * Operator functions. Required tensors are positional; everything optional is one options object.
 * Every op follows the same steps: validate, compute the output shape with a pure rule from
 * shapes.ts, add the node. A mismatch throws a ShapeError naming the op, its label and the shapes.
 */
import { DTYPES, isFloat, type DType } from './dtype.js';
import { Graph, ShapeError, Tensor, type Attrs } from './graph.js';
import type { AttrValue, Dim, Shape } from './ir.js';
import { formatShape } from './ir.js';
import * as rules from './shapes.js';
import { toFloat16Array } from './half.js';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const ints = (value: readonly number[]): AttrValue => ({ kind: 'ints', value: [...value] });
const float = (value: number): AttrValue => ({ kind: 'float', value });

interface Labelled {
  /** Names the node and its output; shows up in errors. */
  readonly label?: string;
}

function describe(op: string, label: string | undefined): string {
  return label ? `${op} '${label}'` : op;
}

/** Runs a shape rule, turning its complaint into a ShapeError that shows every input shape. */
function infer(op: string, label: string | undefined, named: Record<string, Tensor | undefined>, rule: () => Dim[]): Dim[] {
  try {
    return rule();
  } catch (e) {
    if (!(e instanceof rules.ShapeRuleError)) throw e;
    const shapes = Object.entries(named)
      .filter(([, t]) => t)
      .map(([k, t]) => `${k} ${formatShape(t!.shape)}`)
      .join(', ');
    throw new ShapeError(`${describe(op, label)}: ${e.message} (${shapes})`);
  }
}

function sameFloat(op: string, label: string | undefined, named: Record<string, Tensor | undefined>): DType {
  const ts = Object.entries(named).filter((e): e is [string, Tensor] => e[1] !== undefined);
  const [firstName, first] = ts[0]!;
  for (const [k, t] of ts) {
    if (!isFloat(t.dtype)) throw new ShapeError(`${describe(op, label)}: ${k} must be a float tensor, got ${t.dtype}`);
    if (t.dtype !== first.dtype)
      throw new ShapeError(`${describe(op, label)}: ${k} is ${t.dtype} but ${firstName} is ${first.dtype}`);
  }
  return first.dtype;
}

function graphOf(...ts: (Tensor | undefined)[]): Graph {
  return ts.find((t) => t)!.graph;
}

function node(op: string, inputs: (Tensor | undefined)[], dtype: DType, shape: Shape, attrs: Attrs, label?: string, sinceOpset?: number): Tensor {
  return graphOf(...inputs).addNode({ op, inputs, attrs, label, outputs: [{ dtype, shape }], ...(sinceOpset ? { sinceOpset } : {}) })[0]!;
}

function spatialDefault(x: Tensor, v: readonly number[] | undefined, fill: number, times = 1): number[] {
  return v ? [...v] : new Array<number>((x.rank - 2) * times).fill(fill);
}

// ---------------------------------------------------------------- convolution and normalization

export interface ConvOptions extends Labelled {
  readonly bias?: Tensor;
  readonly strides?: readonly number[];
  /** [begin_h, begin_w, end_h, end_w]; may be asymmetric. */
  readonly pads?: readonly number[];
  readonly dilations?: readonly number[];
  readonly group?: number;
}

export function conv(x: Tensor, w: Tensor, o: ConvOptions = {}): Tensor {
  const named = { input: x, weight: w, bias: o.bias };
  const dtype = sameFloat('Conv', o.label, named);
  const strides = spatialDefault(x, o.strides, 1);
  const pads = spatialDefault(x, o.pads, 0, 2);
  const dilations = spatialDefault(x, o.dilations, 1);
  const group = o.group ?? 1;
  const shape = infer('Conv', o.label, named, () => rules.convShape(x.shape, w.shape, o.bias?.shape, { strides, pads, dilations, group }));
  return node('Conv', [x, w, o.bias], dtype, shape, {
    kernel_shape: ints(w.shape.slice(2) as number[]),
    strides: ints(strides),
    pads: ints(pads),
    dilations: ints(dilations),
    group: int(group),
  }, o.label);
}

export interface BatchNormOptions extends Labelled {
  readonly epsilon?: number;
}

export function batchNorm(x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, o: BatchNormOptions = {}): Tensor {
  const named = { input: x, scale, bias, mean, var: variance };
  const dtype = sameFloat('BatchNormalization', o.label, named);
  const shape = infer('BatchNormalization', o.label, named, () =>
    rules.batchNormShape(x.shape, [scale.shape, bias.shape, mean.shape, variance.shape]),
  );
  const epsilon = o.epsilon ?? 1e-5;
  if (!(epsilon > 0)) throw new ShapeError(`${describe('BatchNormalization', o.label)}: epsilon must be > 0, got ${epsilon}`);
  // Inference form (one output, all inputs of X's type): identical in BatchNormalization-9, -14 and -15,
  // so it is valid at every opset effnet writes (13+).
  return node('BatchNormalization', [x, scale, bias, mean, variance], dtype, shape, { epsilon: float(epsilon) }, o.label);
}

// ---------------------------------------------------------------- elementwise

function unary(op: string) {
  return (x: Tensor, o: Labelled = {}): Tensor => {
    const dtype = sameFloat(op, o.label, { input: x });
    return node(op, [x], dtype, [...x.shape], {}, o.label);
  };
}

export const relu = unary('Relu');
export const sigmoid = unary('Sigmoid');

export function identity(x: Tensor, o: Labelled = {}): Tensor {
  return node('Identity', [x], x.dtype, [...x.shape], {}, o.label);
}

function binary(op: string) {
  return (a: Tensor, b: Tensor, o: Labelled = {}): Tensor => {
    const named = { A: a, B: b };
    const dtype = sameFloat(op, o.label, named);
    const shape = infer(op, o.label, named, () => rules.broadcastShape(a.shape, b.shape));
    return node(op, [a, b], dtype, shape, {}, o.label);
  };
}

export const add = binary('Add');
export const mul = binary('Mul');

export interface CastOptions extends Labelled {}

export function cast(x: Tensor, to: DType, o: CastOptions = {}): Tensor {
  return node('Cast', [x], to, [...x.shape], { to: int(dtypeCode(to)) }, o.label);
}

// ---------------------------------------------------------------- pooling

export interface PoolOptions extends Labelled {
  readonly kernel: readonly number[];
  readonly strides?: readonly number[];
  readonly pads?: readonly number[];
  readonly ceilMode?: boolean;
}

export interface AveragePoolOptions extends PoolOptions {
  /** Count padded zeros in the average (ONNX count_include_pad). Default false, as TF and timm's SAME pools. */
  readonly countIncludePad?: boolean;
}

function poolCommon(op: string, x: Tensor, o: PoolOptions) {
  const dtype = sameFloat(op, o.label, { input: x });
  const strides = spatialDefault(x, o.strides, 1);
  const pads = spatialDefault(x, o.pads, 0, 2);
  const shape = infer(op, o.label, { input: x }, () =>
    rules.poolShape(x.shape, { kernel: o.kernel, strides, pads, dilations: spatialDefault(x, undefined, 1), ceilMode: o.ceilMode ?? false }),
  );
  const attrs: Attrs = { kernel_shape: ints(o.kernel), strides: ints(strides), pads: ints(pads) };
  if (o.ceilMode) attrs.ceil_mode = int(1);
  return { dtype, shape, attrs };
}

export function averagePool(x: Tensor, o: AveragePoolOptions): Tensor {
  const { dtype, shape, attrs } = poolCommon('AveragePool', x, o);
  if (o.countIncludePad) attrs.count_include_pad = int(1);
  return node('AveragePool', [x], dtype, shape, attrs, o.label);
}

export function maxPool(x: Tensor, o: PoolOptions): Tensor {
  const { dtype, shape, attrs } = poolCommon('MaxPool', x, o);
  return node('MaxPool', [x], dtype, shape, attrs, o.label);
}

export function globalAveragePool(x: Tensor, o: Labelled = {}): Tensor {
  const dtype = sameFloat('GlobalAveragePool', o.label, { input: x });
  const shape = infer('GlobalAveragePool', o.label, { input: x }, () => rules.globalPoolShape(x.shape));
  return node('GlobalAveragePool', [x], dtype, shape, {}, o.label);
}

export interface ReduceOptions extends Labelled {
  readonly keepDims?: boolean;
}

/** ReduceMean in its attribute form; onnx-export moves `axes` to an input for opset >= 18. */
export function reduceMean(x: Tensor, axes: readonly number[], o: ReduceOptions = {}): Tensor {
  const dtype = sameFloat('ReduceMean', o.label, { input: x });
  const keep = o.keepDims ?? true;
  const shape = infer('ReduceMean', o.label, { input: x }, () => rules.reduceShape(x.shape, axes, keep));
  return node('ReduceMean', [x], dtype, shape, { axes: ints(axes), keepdims: int(keep ? 1 : 0) }, o.label);
}

// ---------------------------------------------------------------- dense

export interface GemmOptions extends Labelled {
  readonly c?: Tensor;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

export function gemm(a: Tensor, b: Tensor, o: GemmOptions = {}): Tensor {
  const named = { A: a, B: b, C: o.c };
  const dtype = sameFloat('Gemm', o.label, named);
  const shape = infer('Gemm', o.label, named, () => rules.gemmShape(a.shape, b.shape, o.c?.shape, !!o.transA, !!o.transB));
  const attrs: Attrs = {};
  if (o.transA) attrs.transA = int(1);
  if (o.transB) attrs.transB = int(1);
  if (o.alpha !== undefined && o.alpha !== 1) attrs.alpha = float(o.alpha);
  if (o.beta !== undefined && o.beta !== 1) attrs.beta = float(o.beta);
  return node('Gemm', [a, b, o.c], dtype, shape, attrs, o.label);
}

export function matMul(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  const named = { A: a, B: b };
  const dtype = sameFloat('MatMul', o.label, named);
  const shape = infer('MatMul', o.label, named, () => rules.matMulShape(a.shape, b.shape));
  return node('MatMul', [a, b], dtype, shape, {}, o.label);
}

// ---------------------------------------------------------------- shape manipulation

export interface AxisOptions extends Labelled {
  readonly axis?: number;
}

export function flatten(x: Tensor, o: AxisOptions = {}): Tensor {
  const axis = o.axis ?? 1;
  const shape = infer('Flatten', o.label, { input: x }, () => rules.flattenShape(x.shape, axis));
  return node('Flatten', [x], x.dtype, shape, { axis: int(axis) }, o.label);
}

function int64Constant(g: Graph, base: string, values: readonly number[]): Tensor {
  return g.initializer(`${base}`, 'int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
}

function constName(g: Graph, op: string, label: string | undefined, what: string): string {
  return g.freshName(`${label ?? op}.${what}`);
}

/** Reshape to `target` (ONNX semantics: 0 copies a dimension, -1 is inferred). */
export function reshape(x: Tensor, target: readonly number[], o: Labelled = {}): Tensor {
  const shape = infer('Reshape', o.label, { input: x }, () => rules.reshapeShape(x.shape, target));
  const s = int64Constant(x.graph, constName(x.graph, 'Reshape', o.label, 'shape'), target);
  return node('Reshape', [x, s], x.dtype, shape, {}, o.label, 5);
}

export function concat(xs: readonly Tensor[], axis: number, o: Labelled = {}): Tensor {
  if (xs.length === 0) throw new ShapeError(`${describe('Concat', o.label)}: needs at least one input`);
  const named = Object.fromEntries(xs.map((t, i) => [`input${i}`, t]));
  const dtype = xs[0]!.dtype;
  xs.forEach((t, i) => {
    if (t.dtype !== dtype) throw new ShapeError(`${describe('Concat', o.label)}: input${i} is ${t.dtype}, input0 is ${dtype}`);
  });
  const shape = infer('Concat', o.label, named, () => rules.concatShape(xs.map((t) => t.shape), axis));
  return node('Concat', [...xs], dtype, shape, { axis: int(axis) }, o.label);
}

export interface PadOptions extends Labelled {
  readonly mode?: 'constant' | 'reflect' | 'edge';
}

/** Pad with zeros (or reflect/edge). `pads` = [begin per axis..., end per axis...]. */
export function pad(x: Tensor, pads: readonly number[], o: PadOptions = {}): Tensor {
  const shape = infer('Pad', o.label, { input: x }, () => rules.padShape(x.shape, pads));
  const p = int64Constant(x.graph, constName(x.graph, 'Pad', o.label, 'pads'), pads);
  return node('Pad', [x, p], x.dtype, shape, { mode: { kind: 'string', value: o.mode ?? 'constant' } }, o.label, 11);
}

export function softmax(x: Tensor, o: AxisOptions = {}): Tensor {
  const axis = o.axis ?? -1;
  const dtype = sameFloat('Softmax', o.label, { input: x });
  const shape = infer('Softmax', o.label, { input: x }, () => rules.softmaxShape(x.shape, axis));
  return node('Softmax', [x], dtype, shape, { axis: int(axis) }, o.label, 13);
}

function dtypeCode(d: DType): number {
  return DTYPES[d].onnx;
}

// ---------------------------------------------------------------- provisional; C's op registry replaces it

export interface ClipOptions extends Labelled {
  readonly min: number;
  readonly max: number;
}

/** Clip (opset 11+ form: min/max as scalar initializers of x's type); relu6 is `clip(x, { min: 0, max: 6 })`. */
export function clip(x: Tensor, o: ClipOptions): Tensor {
  const dtype = sameFloat('Clip', o.label, { input: x });
  if (!(o.min <= o.max)) throw new ShapeError(`${describe('Clip', o.label)}: min ${o.min} must be <= max ${o.max}`);
  const scalar = (v: number) => (dtype === 'float32' ? new Float32Array([v]) : toFloat16Array(new Float32Array([v])));
  const lo = x.graph.initializer(constName(x.graph, 'Clip', o.label, 'min'), dtype, [], scalar(o.min));
  const hi = x.graph.initializer(constName(x.graph, 'Clip', o.label, 'max'), dtype, [], scalar(o.max));
  return node('Clip', [x, lo, hi], dtype, [...x.shape], {}, o.label, 11);
}

/** HardSwish (opset 14): x · max(0, min(1, x/6 + 1/2)). */
export function hardSwish(x: Tensor, o: Labelled = {}): Tensor {
  const dtype = sameFloat('HardSwish', o.label, { input: x });
  return node('HardSwish', [x], dtype, [...x.shape], {}, o.label, 14);
}

export interface HardSigmoidOptions extends Labelled {
  readonly alpha?: number;
  readonly beta?: number;
}

/** HardSigmoid (opset 6): max(0, min(1, alpha·x + beta)); defaults alpha 0.2, beta 0.5 as ONNX. */
export function hardSigmoid(x: Tensor, o: HardSigmoidOptions = {}): Tensor {
  const dtype = sameFloat('HardSigmoid', o.label, { input: x });
  return node('HardSigmoid', [x], dtype, [...x.shape], { alpha: float(o.alpha ?? 0.2), beta: float(o.beta ?? 0.5) }, o.label, 6);
}
