/**
 * Operator functions, WebNN style: required tensors are positional, everything optional is one
 * options object (always with `label`, which names the node and its output). Each op is a thin
 * wrapper over its definition in defs.ts: {@link applyOp} checks element types, runs the pure shape
 * rule and only then adds the node, so a mismatch throws a ShapeError naming the op, its label and
 * every input shape, on the line that built it.
 */
import * as defs from './defs.js';
import type { DType, TensorData } from './dtype.js';
import { DTYPES } from './dtype.js';
import { OptionError, ShapeError } from './errors.js';
import { describeValue } from './ir.js';
import { applyOp, type NodeOptions, type Tensor } from './graph.js';
import { float32ToFloat16Bits } from './half.js';
import type { AttrValue } from './ir.js';
import type { OpDef } from './op-def.js';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const ints = (value: readonly number[]): AttrValue => ({ kind: 'ints', value: [...value] });
const float = (value: number): AttrValue => ({ kind: 'float', value });

/** Options every op takes. */
export interface Labelled extends NodeOptions {}

function one(def: OpDef, inputs: readonly (Tensor | undefined)[], attrs: Record<string, AttrValue | undefined>, o: Labelled): Tensor {
  return applyOp(def, inputs, attrs, { label: o.label, output: o.output })[0]!;
}

function spatialDefault(x: Tensor, v: readonly number[] | undefined, fill: number, times = 1): number[] {
  return v ? [...v] : new Array<number>(Math.max(x.rank - 2, 0) * times).fill(fill);
}

/** A 1-D int64 constant named `<label or op>.<what>` by the graph's naming authority. */
function int64Constant(x: Tensor, op: string, o: Labelled, what: string, values: readonly number[]): Tensor {
  return x.graph.constant(`${o.label ?? op}.${what}`, 'int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
}

/** A scalar constant of `dtype` (float16 stored as its bit pattern). */
function scalarConstant(x: Tensor, op: string, o: Labelled, what: string, dtype: DType, v: number): Tensor {
  const data: TensorData =
    dtype === 'float32'
      ? Float32Array.of(v)
      : dtype === 'float16'
        ? Uint16Array.of(float32ToFloat16Bits(v))
        : dtype === 'float64'
          ? Float64Array.of(v)
          : dtype === 'int64'
            ? BigInt64Array.of(BigInt(v))
            : dtype === 'int32'
              ? Int32Array.of(v)
              : dtype === 'int8'
                ? Int8Array.of(v)
                : dtype === 'uint8'
                  ? Uint8Array.of(v)
                  : (() => {
                      throw new ShapeError(`${op}${o.label ? ` '${o.label}'` : ''}: cannot make a ${dtype} ${what} constant`);
                    })();
  return x.graph.constant(`${o.label ?? op}.${what}`, dtype, [], data);
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

/**
 * 2-D (N-D) convolution. ONNX `Conv` (opset 1+). Input [N,C,H,W], weight [M,C/group,kH,kW],
 * optional bias [M].
 * @example conv(x, w, { bias: b, strides: [2, 2], pads: [1, 1, 1, 1], label: 'stem.conv' })
 */
export function conv(x: Tensor, w: Tensor, o: ConvOptions = {}): Tensor {
  return one(
    defs.Conv,
    [x, w, o.bias],
    {
      kernel_shape: ints(w.shape.slice(2) as number[]),
      strides: ints(spatialDefault(x, o.strides, 1)),
      pads: ints(spatialDefault(x, o.pads, 0, 2)),
      dilations: ints(spatialDefault(x, o.dilations, 1)),
      group: int(o.group ?? 1),
    },
    o,
  );
}

export interface BatchNormOptions extends Labelled {
  /** Added to the variance (default 1e-5). */
  readonly epsilon?: number;
}

/**
 * Batch normalization with running statistics (inference form, one output). ONNX
 * `BatchNormalization` (opset 9+; identical in 9, 14 and 15). scale, bias, mean, variance are [C].
 * @example batchNorm(x, gamma, beta, mean, variance, { epsilon: 1e-3, label: 'bn1' })
 */
export function batchNorm(x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, o: BatchNormOptions = {}): Tensor {
  return one(defs.BatchNormalization, [x, scale, bias, mean, variance], { epsilon: float(o.epsilon ?? 1e-5) }, o);
}

// ---------------------------------------------------------------- elementwise

/**
 * max(x, 0). ONNX `Relu` (opset 6+).
 * @example relu(conv(x, w), { label: 'stem.relu' })
 */
export function relu(x: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Relu, [x], {}, o);
}

/**
 * 1 / (1 + e^-x). ONNX `Sigmoid` (opset 6+).
 * @example mul(x, sigmoid(x))  // SiLU
 */
export function sigmoid(x: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Sigmoid, [x], {}, o);
}

export interface HardSigmoidOptions extends Labelled {
  /** Slope (ONNX default 0.2; PyTorch's hardsigmoid uses 1/6). */
  readonly alpha?: number;
  /** Offset (default 0.5). */
  readonly beta?: number;
}

/**
 * max(0, min(1, alpha·x + beta)). ONNX `HardSigmoid` (opset 6+).
 * @example hardSigmoid(x, { alpha: 1 / 6, beta: 0.5, label: 'se.gate' })
 */
export function hardSigmoid(x: Tensor, o: HardSigmoidOptions = {}): Tensor {
  return one(defs.HardSigmoid, [x], { alpha: float(o.alpha ?? 0.2), beta: float(o.beta ?? 0.5) }, o);
}

/**
 * x · max(0, min(1, x/6 + 1/2)) (MobileNetV3's h-swish). ONNX `HardSwish` (opset 14+).
 * @example hardSwish(batchNorm(conv(x, w), g, b, m, v), { label: 'blocks.0.act' })
 */
export function hardSwish(x: Tensor, o: Labelled = {}): Tensor {
  return one(defs.HardSwish, [x], {}, o);
}

export interface ClipOptions extends Labelled {
  /** Lower bound (omit for none). */
  readonly min?: number;
  /** Upper bound (omit for none). */
  readonly max?: number;
}

/**
 * Clamps every element to [min, max] (ReLU6 is clip(x, { min: 0, max: 6 })). ONNX `Clip`
 * (opset 11+: the bounds are scalar inputs, written as constants `<label>.min` / `<label>.max`).
 * @example clip(x, { min: 0, max: 6, label: 'blocks.1.relu6' })
 */
export function clip(x: Tensor, o: ClipOptions = {}): Tensor {
  const lo = o.min === undefined ? undefined : scalarConstant(x, 'Clip', o, 'min', x.dtype, o.min);
  const hi = o.max === undefined ? undefined : scalarConstant(x, 'Clip', o, 'max', x.dtype, o.max);
  if (o.min !== undefined && o.max !== undefined && o.min > o.max) throw new ShapeError(`Clip${o.label ? ` '${o.label}'` : ''}: min ${o.min} is greater than max ${o.max}`);
  return one(defs.Clip, [x, lo, hi], {}, o);
}

/**
 * Passes x through unchanged (renames a value). ONNX `Identity` (opset 1+).
 * @example identity(x, { label: 'features' })
 */
export function identity(x: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Identity, [x], {}, o);
}

/**
 * a + b with numpy broadcasting. ONNX `Add` (opset 7+).
 * @example add(shortcut, y, { label: 'blocks.1.0.add' })
 */
export function add(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Add, [a, b], {}, o);
}

/**
 * a − b with numpy broadcasting. ONNX `Sub` (opset 7+).
 * @example sub(x, mean, { label: 'centered' })
 */
export function sub(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Sub, [a, b], {}, o);
}

/**
 * a · b with numpy broadcasting. ONNX `Mul` (opset 7+).
 * @example mul(x, sigmoid(squeezeExcite), { label: 'se.scale' })
 */
export function mul(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Mul, [a, b], {}, o);
}

/**
 * a / b with numpy broadcasting. ONNX `Div` (opset 7+).
 * @example div(x, std, { label: 'normalized' })
 */
export function div(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Div, [a, b], {}, o);
}

export interface CastOptions extends Labelled {}

/**
 * Converts the element type. ONNX `Cast` (opset 6+).
 * @example cast(x, 'float16', { label: 'input.cast_fp16' })
 */
export function cast(x: Tensor, to: DType, o: CastOptions = {}): Tensor {
  if (!Object.hasOwn(DTYPES, to)) throw new OptionError('to', `cast: type ${describeValue(to)}: expected one of ${Object.keys(DTYPES).join(', ')}`);
  return one(defs.Cast, [x], { to: int(defs.dtypeCode(to)) }, o);
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

function poolAttrs(x: Tensor, o: PoolOptions): Record<string, AttrValue | undefined> {
  return {
    kernel_shape: ints(o.kernel),
    strides: ints(spatialDefault(x, o.strides, 1)),
    pads: ints(spatialDefault(x, o.pads, 0, 2)),
    ceil_mode: o.ceilMode ? int(1) : undefined,
  };
}

/**
 * Average over sliding windows. ONNX `AveragePool` (opset 7+; 10+ with ceilMode).
 * @example averagePool(x, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], label: 'pool' })
 */
export function averagePool(x: Tensor, o: AveragePoolOptions): Tensor {
  return one(defs.AveragePool, [x], { ...poolAttrs(x, o), count_include_pad: o.countIncludePad ? int(1) : undefined }, o);
}

/**
 * Maximum over sliding windows. ONNX `MaxPool` (opset 1+; 10+ with ceilMode).
 * @example maxPool(x, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], label: 'maxpool' })
 */
export function maxPool(x: Tensor, o: PoolOptions): Tensor {
  return one(defs.MaxPool, [x], poolAttrs(x, o), o);
}

/**
 * Mean over all spatial positions: [N,C,H,W] → [N,C,1,1]. ONNX `GlobalAveragePool` (opset 1+).
 * @example flatten(globalAveragePool(x))  // [N,C]
 */
export function globalAveragePool(x: Tensor, o: Labelled = {}): Tensor {
  return one(defs.GlobalAveragePool, [x], {}, o);
}

export interface ReduceOptions extends Labelled {
  /** Keep reduced axes as size 1 (default true). */
  readonly keepDims?: boolean;
}

/**
 * Mean over `axes`. ONNX `ReduceMean` in its attribute form (opset 1–17); onnx-export moves `axes`
 * to an input when it writes opset 18 or later.
 * @example reduceMean(x, [2, 3], { label: 'se.pool' })  // [N,C,H,W] → [N,C,1,1]
 */
export function reduceMean(x: Tensor, axes: readonly number[], o: ReduceOptions = {}): Tensor {
  return one(defs.ReduceMean, [x], { axes: ints(axes), keepdims: int((o.keepDims ?? true) ? 1 : 0) }, o);
}

// ---------------------------------------------------------------- dense

export interface GemmOptions extends Labelled {
  readonly c?: Tensor;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

/**
 * alpha·A'·B' + beta·C for 2-D A, B. ONNX `Gemm` (opset 7+; 11+ without C).
 * @example gemm(x, w, { c: b, transB: true, label: 'classifier' })  // PyTorch Linear, w stored [out, in]
 */
export function gemm(a: Tensor, b: Tensor, o: GemmOptions = {}): Tensor {
  return one(
    defs.Gemm,
    [a, b, o.c],
    {
      transA: o.transA ? int(1) : undefined,
      transB: o.transB ? int(1) : undefined,
      alpha: o.alpha !== undefined && o.alpha !== 1 ? float(o.alpha) : undefined,
      beta: o.beta !== undefined && o.beta !== 1 ? float(o.beta) : undefined,
    },
    o,
  );
}

/**
 * Matrix product with numpy semantics (batched, 1-D operands promoted). ONNX `MatMul` (opset 1+).
 * @example matMul(q, k, { label: 'attn.scores' })
 */
export function matMul(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  return one(defs.MatMul, [a, b], {}, o);
}

// ---------------------------------------------------------------- shape manipulation

export interface AxisOptions extends Labelled {
  readonly axis?: number;
}

/**
 * Flattens to 2-D: [d0…d(axis−1), d(axis)…]. ONNX `Flatten` (opset 1+; 11+ for a negative axis).
 * @example flatten(globalAveragePool(x))  // [N,C,1,1] → [N,C]
 */
export function flatten(x: Tensor, o: AxisOptions = {}): Tensor {
  return one(defs.Flatten, [x], { axis: int(o.axis ?? 1) }, o);
}

/**
 * Reshape to `target` (0 copies a dimension, −1 is inferred). ONNX `Reshape` (opset 5+). A number
 * list becomes the constant `<label>.shape`; a Tensor must be an int64 initializer given as data.
 * @example reshape(x, [0, -1], { label: 'head.flat' })
 */
export function reshape(x: Tensor, target: readonly number[] | Tensor, o: Labelled = {}): Tensor {
  const shape = Array.isArray(target) ? int64Constant(x, 'Reshape', o, 'shape', target as readonly number[]) : (target as Tensor);
  return one(defs.Reshape, [x, shape], {}, o);
}

/**
 * Joins tensors along `axis`. ONNX `Concat` (opset 4+).
 * @example concat([a, b], 1, { label: 'cell.cat' })
 */
export function concat(xs: readonly Tensor[], axis: number, o: Labelled = {}): Tensor {
  if (xs.length === 0) throw new ShapeError(`Concat${o.label ? ` '${o.label}'` : ''}: needs at least one input`);
  return one(defs.Concat, xs, { axis: int(axis) }, o);
}

export interface PadOptions extends Labelled {
  readonly mode?: 'constant' | 'reflect' | 'edge';
  /** Fill value for mode 'constant' (default 0): a number, or a scalar Tensor of x's type. */
  readonly value?: number | Tensor;
}

/**
 * Pads (or, with negative amounts, crops). `pads` = [begin per axis..., end per axis...]. ONNX
 * `Pad` (opset 11+: pads is the int64 constant `<label>.pads`).
 * @example pad(x, [0, 0, 0, 0, 0, 0, 1, 1], { label: 'same_pad' })
 */
export function pad(x: Tensor, pads: readonly number[], o: PadOptions = {}): Tensor {
  const p = int64Constant(x, 'Pad', o, 'pads', pads);
  const v = typeof o.value === 'number' ? scalarConstant(x, 'Pad', o, 'value', x.dtype, o.value) : o.value;
  return one(defs.Pad, [x, p, v], { mode: { kind: 'string', value: o.mode ?? 'constant' } }, o);
}

/**
 * exp(x) normalized along `axis` (default −1). ONNX `Softmax` (opset 13+).
 * @example softmax(logits, { label: 'probs' })
 */
export function softmax(x: Tensor, o: AxisOptions = {}): Tensor {
  return one(defs.Softmax, [x], { axis: int(o.axis ?? -1) }, o);
}

export interface TransposeOptions extends Labelled {
  /** Output axis i is input axis perm[i] (default: reversed). */
  readonly perm?: readonly number[];
}

/**
 * Permutes axes. ONNX `Transpose` (opset 1+).
 * @example transpose(x, { perm: [0, 2, 3, 1], label: 'to_nhwc' })
 */
export function transpose(x: Tensor, o: TransposeOptions = {}): Tensor {
  return one(defs.Transpose, [x], { perm: o.perm ? ints(o.perm) : undefined }, o);
}

export interface SliceOptions extends Labelled {
  /** Axes `starts`/`ends` refer to (default 0, 1, …). */
  readonly axes?: readonly number[];
  /** Step per axis (default 1). */
  readonly steps?: readonly number[];
}

/**
 * Takes [start, end) along each axis, numpy style (negative indices count from the end, bounds
 * are clamped). ONNX `Slice` (opset 10+: starts/ends/axes/steps are int64 constants `<label>.starts`, …).
 * @example slice(x, [1, 1], [9, 8], { axes: [2, 3], label: 'crop' })
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], o: SliceOptions = {}): Tensor {
  const s = int64Constant(x, 'Slice', o, 'starts', starts);
  const e = int64Constant(x, 'Slice', o, 'ends', ends);
  const a = o.axes ? int64Constant(x, 'Slice', o, 'axes', o.axes) : undefined;
  const st = o.steps ? int64Constant(x, 'Slice', o, 'steps', o.steps) : undefined;
  return one(defs.Slice, [x, s, e, a, st], {}, o);
}

/**
 * Inserts size-1 axes at `axes` (positions in the output). ONNX `Unsqueeze` (opset 13+: axes is
 * the int64 constant `<label>.axes`).
 * @example unsqueeze(v, [0, 2, 3], { label: 'bias4d' })  // [C] → [1,C,1,1]
 */
export function unsqueeze(x: Tensor, axes: readonly number[], o: Labelled = {}): Tensor {
  return one(defs.Unsqueeze, [x, int64Constant(x, 'Unsqueeze', o, 'axes', axes)], {}, o);
}

export interface SqueezeOptions extends Labelled {
  /** Size-1 axes to remove (default: every size-1 axis). */
  readonly axes?: readonly number[];
}

/**
 * Removes size-1 axes. ONNX `Squeeze` (opset 13+: axes is the int64 constant `<label>.axes`).
 * @example squeeze(x, { axes: [2, 3], label: 'pooled' })  // [N,C,1,1] → [N,C]
 */
export function squeeze(x: Tensor, o: SqueezeOptions = {}): Tensor {
  const a = o.axes ? int64Constant(x, 'Squeeze', o, 'axes', o.axes) : undefined;
  return one(defs.Squeeze, [x, a], {}, o);
}

export interface QuantizeOptions extends Labelled {
  /** Channel axis of a per-channel (1-D) scale; default 1. Leave unset for a scalar scale. */
  readonly axis?: number;
}

/**
 * float32 → int8/uint8: saturate(round(x / scale) + zeroPoint). Scalar scale and zero point
 * quantize per tensor (opset 10+); 1-D ones of size x[axis] per channel (opset 13+). The output
 * type is the zero point's (uint8 when it is omitted). ONNX `QuantizeLinear`.
 * @example quantizeLinear(x, scale, zeroPoint, { label: 'conv1.input.q' })
 */
export function quantizeLinear(x: Tensor, scale: Tensor, zeroPoint: Tensor | undefined, o: QuantizeOptions = {}): Tensor {
  return one(defs.QuantizeLinear, [x, scale, zeroPoint], { axis: o.axis === undefined ? undefined : int(o.axis) }, o);
}

/**
 * int8/uint8/int32 → float32: (x − zeroPoint) · scale, per tensor (scalar scale, opset 10+) or per
 * channel along `axis` (1-D scale, opset 13+). ONNX `DequantizeLinear`.
 * @example dequantizeLinear(wq, wScale, wZero, { axis: 0, label: 'conv1.weight.dq' })
 */
export function dequantizeLinear(x: Tensor, scale: Tensor, zeroPoint: Tensor | undefined, o: QuantizeOptions = {}): Tensor {
  return one(defs.DequantizeLinear, [x, scale, zeroPoint], { axis: o.axis === undefined ? undefined : int(o.axis) }, o);
}

// ---------------------------------------------------------------- size-dependent graphs (computed shapes)

/**
 * The shape of `x` as a 1-D int64 tensor. ONNX `Shape` (opset 1+).
 * @example shape(image, { label: 'image.shape' })  // [4]
 */
export function shape(x: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Shape, [x], {}, o);
}

/**
 * Minimum over `axes`. ONNX `ReduceMin` in its opset-18 form (axes the int64 constant `<label>.axes`).
 * @example reduceMin(hw, [0], { label: 'short_side' })  // [2] → [1]
 */
export function reduceMin(x: Tensor, axes: readonly number[], o: ReduceOptions = {}): Tensor {
  return one(defs.ReduceMin, [x, int64Constant(x, 'ReduceMin', o, 'axes', axes)], { keepdims: int((o.keepDims ?? true) ? 1 : 0) }, o);
}

/**
 * Integer remainder with the sign of the divisor (Python's %). ONNX `Mod` (opset 10+, fmod 0).
 * @example mod(d, two, { label: 'crop.odd' })
 */
export function mod(a: Tensor, b: Tensor, o: Labelled = {}): Tensor {
  return one(defs.Mod, [a, b], {}, o);
}

/**
 * Slice with computed bounds: `starts` and `ends` are int64 tensors (e.g. from Shape), `axes` constants;
 * the sliced axes become symbolic. ONNX `Slice` (opset 10+).
 * @example sliceAt(image, left, right, [2], { label: 'crop.columns' })
 */
export function sliceAt(x: Tensor, starts: Tensor, ends: Tensor, axes: readonly number[], o: Labelled = {}): Tensor {
  return one(defs.Slice, [x, starts, ends, int64Constant(x, 'Slice', o, 'axes', axes)], {}, o);
}

export interface ResizeOptions extends Labelled {
  readonly mode?: 'nearest' | 'linear' | 'cubic';
  readonly antialias?: boolean;
  readonly cubicCoeffA?: number;
  readonly excludeOutside?: boolean;
  readonly coordinateTransformationMode?: 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
  /** The axes `sizes` gives (default all). */
  readonly axes?: readonly number[];
}

/**
 * Resizes `x` to `sizes` (an int64 tensor, one value per axis, possibly computed). ONNX `Resize`
 * (opset 18: antialias).
 * @example resize(image, sizes, { mode: 'cubic', antialias: true, cubicCoeffA: -0.5, excludeOutside: true })
 */
export function resize(x: Tensor, sizes: Tensor, o: ResizeOptions = {}): Tensor {
  return one(
    defs.Resize,
    [x, undefined, undefined, sizes],
    {
      mode: { kind: 'string', value: o.mode ?? 'nearest' },
      antialias: o.antialias ? int(1) : undefined,
      cubic_coeff_a: o.cubicCoeffA !== undefined ? float(o.cubicCoeffA) : undefined,
      exclude_outside: o.excludeOutside ? int(1) : undefined,
      coordinate_transformation_mode: o.coordinateTransformationMode ? { kind: 'string', value: o.coordinateTransformationMode } : undefined,
      axes: o.axes ? ints(o.axes) : undefined,
    },
    o,
  );
}

/**
 * The `k` largest values along the last axis and their indices. ONNX `TopK` (opset 11+, K the
 * int64 constant `<label>.k`).
 * @example const [scores, classes] = topK(probs, 5, { label: 'top5' })
 */
export function topK(x: Tensor, k: number, o: Labelled = {}): [Tensor, Tensor] {
  const [values, indices] = applyOp(defs.TopK, [x, int64Constant(x, 'TopK', o, 'k', [k])], { axis: int(-1) }, { label: o.label });
  return [values!, indices!];
}
