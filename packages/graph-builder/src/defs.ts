/**
 * The definitions of every standard ONNX op graph-builder builds (see op-def.ts). Rules read the
 * ONNX attributes exactly as they are stored, so the same definition checks a node built by an op
 * function and a node a pass rewrites.
 */
import { DTYPES, dtypeFromOnnx, isFloat as isFloatType, type DType } from './dtype.js';
import type { Dim, Shape as ShapeT } from './ir.js';
import { attrFloat, attrInt, attrInts, attrString, constInput, defineOp, type Attrs, type OutputType, type ValueType } from './op-def.js';
import * as rules from './shapes.js';
import { ShapeRuleError } from './shapes.js';

function fail(msg: string): never {
  throw new ShapeRuleError(msg);
}

const req = (ins: readonly (ValueType | undefined)[], i: number): ValueType => ins[i]!;
const same = (x: ValueType, shape: ShapeT = x.shape): OutputType[] => [{ dtype: x.dtype, shape }];
const ones = (n: number, v: number) => new Array<number>(n).fill(v);

/** Explicit pads from auto_pad (SAME_UPPER / SAME_LOWER / VALID) or the pads attribute. */
function windowPads(x: ShapeT, kernel: readonly number[], strides: readonly number[], dilations: readonly number[], attrs: Attrs): number[] {
  const r = kernel.length;
  const autoPad = attrString(attrs, 'auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') return [...(attrInts(attrs, 'pads') ?? ones(2 * r, 0))];
  if (autoPad === 'VALID') return ones(2 * r, 0);
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') fail(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  const begin: number[] = [],
    end: number[] = [];
  x.slice(2).forEach((d, i) => {
    if (typeof d !== 'number') fail(`spatial dimension ${i} must be static, got '${d}'`);
    const [small, large] = rules.samePadding(d, kernel[i] ?? 1, strides[i] ?? 1, dilations[i] ?? 1);
    begin.push(autoPad === 'SAME_UPPER' ? small : large);
    end.push(autoPad === 'SAME_UPPER' ? large : small);
  });
  return [...begin, ...end];
}

const spatial = (x: ValueType) => Math.max(x.shape.length - 2, 0);

export const Conv = defineOp({
  op: 'Conv',
  sinceOpset: 1,
  inputs: [{ name: 'input' }, { name: 'weight' }, { name: 'bias', optional: true }],
  infer: (ins, attrs) => {
    const x = req(ins, 0),
      w = req(ins, 1);
    const r = spatial(x);
    const kernel = attrInts(attrs, 'kernel_shape');
    if (kernel && kernel.join() !== w.shape.slice(2).join()) fail(`kernel_shape [${kernel.join(',')}] differs from the weight's [${w.shape.slice(2).join(',')}]`);
    const strides = attrInts(attrs, 'strides') ?? ones(r, 1);
    const dilations = attrInts(attrs, 'dilations') ?? ones(r, 1);
    const k = w.shape.slice(2).map((d) => (typeof d === 'number' ? d : 1));
    const pads = windowPads(x.shape, k, strides, dilations, attrs);
    return same(x, rules.convShape(x.shape, w.shape, ins[2]?.shape, { strides, pads, dilations, group: attrInt(attrs, 'group', 1) }));
  },
});

export const BatchNormalization = defineOp({
  op: 'BatchNormalization',
  // The inference form (one output, all inputs of X's type) is identical in -9, -14 and -15.
  sinceOpset: 9,
  inputs: [{ name: 'input' }, { name: 'scale' }, { name: 'bias' }, { name: 'mean' }, { name: 'var' }],
  infer: (ins, attrs) => {
    const x = req(ins, 0);
    const epsilon = attrFloat(attrs, 'epsilon', 1e-5);
    if (!(epsilon > 0)) fail(`epsilon must be > 0, got ${epsilon}`);
    return same(
      x,
      rules.batchNormShape(
        x.shape,
        ins.slice(1, 5).map((t) => t!.shape),
      ),
    );
  },
});

function unaryFloat(op: string, sinceOpset: number, check?: (attrs: Attrs) => void) {
  return defineOp({
    op,
    sinceOpset,
    inputs: [{ name: 'input' }],
    infer: (ins, attrs) => {
      check?.(attrs);
      return same(req(ins, 0));
    },
  });
}

export const Relu = unaryFloat('Relu', 6);
export const Sigmoid = unaryFloat('Sigmoid', 6);
export const HardSigmoid = unaryFloat('HardSigmoid', 6, (attrs) => {
  attrFloat(attrs, 'alpha', 0.2);
  attrFloat(attrs, 'beta', 0.5);
});
export const HardSwish = unaryFloat('HardSwish', 14);

export const Identity = defineOp({
  op: 'Identity',
  sinceOpset: 1,
  inputs: [{ name: 'input' }],
  types: { T: 'any' },
  infer: (ins) => same(req(ins, 0)),
});

function binary(op: string) {
  return defineOp({
    op,
    sinceOpset: 7,
    inputs: [{ name: 'A' }, { name: 'B' }],
    types: { T: 'numeric' },
    infer: (ins) => same(req(ins, 0), rules.broadcastShape(req(ins, 0).shape, req(ins, 1).shape)),
  });
}

export const Add = binary('Add');
export const Sub = binary('Sub');
export const Mul = binary('Mul');
export const Div = binary('Div');

export const Clip = defineOp({
  op: 'Clip',
  // min and max are inputs (scalars of the input's type) since opset 11.
  sinceOpset: 11,
  inputs: [{ name: 'input' }, { name: 'min', optional: true }, { name: 'max', optional: true }],
  types: { T: 'numeric' },
  infer: (ins) => {
    for (const [i, what] of [
      [1, 'min'],
      [2, 'max'],
    ] as const) {
      const b = ins[i];
      if (b && b.shape.length !== 0) fail(`${what} must be a scalar, got [${b.shape.join(',')}]`);
    }
    const [lo, hi] = [ins[1]?.value?.[0], ins[2]?.value?.[0]];
    if (lo !== undefined && hi !== undefined && lo > hi) fail(`min ${lo} is greater than max ${hi}`);
    return same(req(ins, 0));
  },
});

export const Cast = defineOp({
  op: 'Cast',
  sinceOpset: 6,
  inputs: [{ name: 'input' }],
  types: { T: 'any' },
  infer: (ins, attrs) => {
    const to = attrInt(attrs, 'to', -1);
    let dtype: DType;
    try {
      dtype = dtypeFromOnnx(to);
    } catch {
      fail(`'to' must be a supported ONNX data type, got ${to}`);
    }
    return [{ dtype, shape: req(ins, 0).shape }];
  },
});

function windowOf(x: ValueType, attrs: Attrs) {
  const kernel = attrInts(attrs, 'kernel_shape');
  if (!kernel) fail('kernel_shape is required');
  const r = spatial(x);
  const strides = attrInts(attrs, 'strides') ?? ones(r, 1);
  const dilations = attrInts(attrs, 'dilations') ?? ones(r, 1);
  const pads = windowPads(x.shape, kernel, strides, dilations, attrs);
  return { kernel, strides, pads, dilations, ceilMode: attrInt(attrs, 'ceil_mode', 0) === 1 };
}

export const AveragePool = defineOp({
  op: 'AveragePool',
  sinceOpset: 7,
  inputs: [{ name: 'input' }],
  infer: (ins, attrs) => same(req(ins, 0), rules.poolShape(req(ins, 0).shape, windowOf(req(ins, 0), attrs))),
  opsetFor: (_, attrs) => (attrs.ceil_mode ? 10 : attrs.dilations ? 19 : 7),
});

export const MaxPool = defineOp({
  op: 'MaxPool',
  sinceOpset: 1,
  inputs: [{ name: 'input' }],
  infer: (ins, attrs) => same(req(ins, 0), rules.poolShape(req(ins, 0).shape, windowOf(req(ins, 0), attrs))),
  opsetFor: (_, attrs) => (attrs.ceil_mode || attrs.dilations ? 10 : 1),
});

export const GlobalAveragePool = defineOp({
  op: 'GlobalAveragePool',
  sinceOpset: 1,
  inputs: [{ name: 'input' }],
  infer: (ins) => same(req(ins, 0), rules.globalPoolShape(req(ins, 0).shape)),
});

export const ReduceMean = defineOp({
  op: 'ReduceMean',
  // The attribute form (axes as an attribute), valid through opset 17; onnx-export moves axes to
  // an input when it writes opset 18 or later.
  sinceOpset: 1,
  inputs: [{ name: 'input' }, { name: 'axes', type: 'I', optional: true }],
  types: { I: ['int64'] },
  infer: (ins, attrs) => {
    const x = req(ins, 0);
    const axes = ins[1] ? constInput(ins[1], 'axes') : (attrInts(attrs, 'axes') ?? x.shape.map((_, i) => i));
    return same(x, rules.reduceShape(x.shape, axes, attrInt(attrs, 'keepdims', 1) === 1));
  },
  opsetFor: (ins) => (ins[1] ? 18 : 1),
});

export const Gemm = defineOp({
  op: 'Gemm',
  // Unidirectional broadcasting of C since opset 7; C optional since 11.
  sinceOpset: 7,
  opsetFor: (ins) => (ins[2] ? 7 : 11),
  inputs: [{ name: 'A' }, { name: 'B' }, { name: 'C', optional: true }],
  infer: (ins, attrs) => {
    attrFloat(attrs, 'alpha', 1);
    attrFloat(attrs, 'beta', 1);
    const a = req(ins, 0);
    return same(a, rules.gemmShape(a.shape, req(ins, 1).shape, ins[2]?.shape, attrInt(attrs, 'transA', 0) === 1, attrInt(attrs, 'transB', 0) === 1));
  },
});

export const MatMul = defineOp({
  op: 'MatMul',
  sinceOpset: 1,
  inputs: [{ name: 'A' }, { name: 'B' }],
  infer: (ins) => same(req(ins, 0), rules.matMulShape(req(ins, 0).shape, req(ins, 1).shape)),
});

export const Flatten = defineOp({
  op: 'Flatten',
  sinceOpset: 1,
  opsetFor: (_, attrs) => (attrInt(attrs, 'axis', 1) < 0 ? 11 : 1),
  inputs: [{ name: 'input' }],
  types: { T: 'any' },
  infer: (ins, attrs) => same(req(ins, 0), rules.flattenShape(req(ins, 0).shape, attrInt(attrs, 'axis', 1))),
});

export const Reshape = defineOp({
  op: 'Reshape',
  sinceOpset: 5,
  inputs: [{ name: 'input' }, { name: 'shape', type: 'I' }],
  types: { T: 'any', I: ['int64'] },
  infer: (ins, attrs) => {
    if (attrInt(attrs, 'allowzero', 0) !== 0) fail('allowzero = 1 is not supported');
    return same(req(ins, 0), rules.reshapeShape(req(ins, 0).shape, constInput(ins[1], 'shape')));
  },
});

export const Concat = defineOp({
  op: 'Concat',
  sinceOpset: 4,
  inputs: [{ name: 'input', variadic: true }],
  types: { T: 'any' },
  infer: (ins, attrs) => {
    const xs = ins.filter((t): t is ValueType => t !== undefined);
    if (xs.length === 0) fail('needs at least one input');
    const axis = attrs.axis;
    if (axis?.kind !== 'int') fail('axis is required');
    return same(
      xs[0]!,
      rules.concatShape(
        xs.map((t) => t.shape),
        axis.value,
      ),
    );
  },
});

export const Pad = defineOp({
  op: 'Pad',
  // pads (and the fill value) are inputs since opset 11.
  sinceOpset: 11,
  inputs: [{ name: 'input' }, { name: 'pads', type: 'I' }, { name: 'value', optional: true }],
  types: { T: 'any', I: ['int64'] },
  infer: (ins, attrs) => {
    const mode = attrString(attrs, 'mode', 'constant');
    if (!['constant', 'reflect', 'edge'].includes(mode)) fail(`mode '${mode}' is not one of constant, reflect, edge`);
    const v = ins[2];
    if (v && v.shape.length !== 0 && !(v.shape.length === 1 && v.shape[0] === 1)) fail(`value must be a scalar, got [${v.shape.join(',')}]`);
    return same(req(ins, 0), rules.padShape(req(ins, 0).shape, constInput(ins[1], 'pads')));
  },
});

export const Softmax = defineOp({
  op: 'Softmax',
  // Softmax-13 normalizes along one axis (earlier versions flattened from it).
  sinceOpset: 13,
  inputs: [{ name: 'input' }],
  infer: (ins, attrs) => same(req(ins, 0), rules.softmaxShape(req(ins, 0).shape, attrInt(attrs, 'axis', -1))),
});

export const Transpose = defineOp({
  op: 'Transpose',
  sinceOpset: 1,
  inputs: [{ name: 'input' }],
  types: { T: 'any' },
  infer: (ins, attrs) => same(req(ins, 0), rules.transposeShape(req(ins, 0).shape, attrInts(attrs, 'perm'))),
});

export const Slice = defineOp({
  op: 'Slice',
  // starts/ends/axes/steps are inputs since opset 10.
  sinceOpset: 10,
  inputs: [{ name: 'input' }, { name: 'starts', type: 'I' }, { name: 'ends', type: 'I' }, { name: 'axes', type: 'I', optional: true }, { name: 'steps', type: 'I', optional: true }],
  types: { T: 'any', I: ['int64'] },
  infer: (ins) => {
    const x = req(ins, 0);
    const axes = ins[3] ? constInput(ins[3], 'axes') : undefined;
    const steps = ins[4] ? constInput(ins[4], 'steps') : undefined;
    // Computed starts/ends (a crop whose place depends on the input's size): the sliced axes
    // become symbolic; axes and steps must still be constants, starts and ends 1-D int64 of one length.
    if (!ins[1]?.value || !ins[2]?.value) {
      const [s, e] = [req(ins, 1), req(ins, 2)];
      for (const [t, what] of [
        [s, 'starts'],
        [e, 'ends'],
      ] as const)
        if (t.shape.length !== 1) fail(`${what} must be 1-D, got [${t.shape.join(',')}]`);
      const n = s.shape[0];
      if (n !== e.shape[0]) fail(`starts has ${String(n)} values, ends ${String(e.shape[0])}`);
      const ax = axes ?? (typeof n === 'number' ? Array.from({ length: n }, (_, i) => i) : fail('computed starts of unknown length need constant axes'));
      if (typeof n === 'number' && ax.length !== n) fail(`axes has ${ax.length} values, starts ${n}`);
      if (steps && steps.some((v) => v !== 1)) fail('computed starts/ends need steps of 1');
      const out: Dim[] = [...x.shape];
      for (const a of ax) {
        const k = a < 0 ? a + x.shape.length : a;
        if (k < 0 || k >= x.shape.length) fail(`axis ${a} is out of range for rank ${x.shape.length}`);
        out[k] = `slice_${k}`;
      }
      return same(x, out);
    }
    return same(x, rules.sliceShape(x.shape, constInput(ins[1], 'starts'), constInput(ins[2], 'ends'), axes, steps));
  },
});

export const Shape = defineOp({
  op: 'Shape',
  sinceOpset: 1,
  inputs: [{ name: 'data' }],
  types: { T: 'any' },
  infer: (ins) => [{ dtype: 'int64', shape: [req(ins, 0).shape.length] }],
});

export const ReduceMin = defineOp({
  op: 'ReduceMin',
  // axes as an input: the opset-18 form (the only one graph-builder writes).
  sinceOpset: 18,
  inputs: [{ name: 'data' }, { name: 'axes', type: 'I', optional: true }],
  types: { T: 'numeric', I: ['int64'] },
  infer: (ins, attrs) => {
    const x = req(ins, 0);
    const axes = ins[1] ? constInput(ins[1], 'axes') : x.shape.map((_, i) => i);
    return same(x, rules.reduceShape(x.shape, axes, attrInt(attrs, 'keepdims', 1) === 1));
  },
});

export const Mod = defineOp({
  op: 'Mod',
  sinceOpset: 10,
  inputs: [{ name: 'A' }, { name: 'B' }],
  types: { T: 'numeric' },
  infer: (ins, attrs) => {
    const fmod = attrInt(attrs, 'fmod', 0);
    if (fmod !== 0 && fmod !== 1) fail(`fmod must be 0 or 1, got ${fmod}`);
    if (fmod === 0 && isFloatType(req(ins, 0).dtype)) fail('fmod must be 1 for floating-point inputs');
    return same(req(ins, 0), rules.broadcastShape(req(ins, 0).shape, req(ins, 1).shape));
  },
});

const RESIZE_MODES = ['nearest', 'linear', 'cubic'];
const RESIZE_COORDINATES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];

export const Resize = defineOp({
  op: 'Resize',
  // antialias and axes: opset 18.
  sinceOpset: 18,
  inputs: [{ name: 'X' }, { name: 'roi', type: 'F', optional: true }, { name: 'scales', type: 'S', optional: true }, { name: 'sizes', type: 'I', optional: true }],
  types: { T: 'any', F: 'float', S: ['float32'], I: ['int64'] },
  infer: (ins, attrs) => {
    const x = req(ins, 0);
    const mode = attrString(attrs, 'mode', 'nearest');
    if (!RESIZE_MODES.includes(mode)) fail(`mode '${mode}' is not one of ${RESIZE_MODES.join(', ')}`);
    const ct = attrString(attrs, 'coordinate_transformation_mode', 'half_pixel');
    if (!RESIZE_COORDINATES.includes(ct)) fail(`coordinate_transformation_mode '${ct}' is not one of ${RESIZE_COORDINATES.join(', ')}`);
    for (const flag of ['antialias', 'exclude_outside']) {
      const v = attrInt(attrs, flag, 0);
      if (v !== 0 && v !== 1) fail(`${flag} must be 0 or 1, got ${v}`);
    }
    attrFloat(attrs, 'cubic_coeff_a', -0.75);
    const r = x.shape.length;
    const axes = (attrInts(attrs, 'axes') ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
    if (axes.some((a) => a < 0 || a >= r) || new Set(axes).size !== axes.length) fail(`axes [${axes.join(',')}] must be distinct axes of a rank-${r} input`);
    const [scales, sizes] = [ins[2], ins[3]];
    if (!!scales === !!sizes) fail('give exactly one of scales and sizes');
    const v = sizes ?? scales!;
    if (v.shape.length !== 1 || (typeof v.shape[0] === 'number' && v.shape[0] !== axes.length))
      fail(`${sizes ? 'sizes' : 'scales'} must be 1-D with one value per resized axis (${axes.length}), got [${v.shape.join(',')}]`);
    const out: Dim[] = [...x.shape];
    if (sizes?.value) {
      if (sizes.value.some((d) => !Number.isInteger(d) || d < 1)) fail(`sizes must be positive, got [${sizes.value.join(',')}]`);
      axes.forEach((a, i) => (out[a] = sizes.value![i]!));
    } else {
      // Computed sizes (or scales): the resized axes become symbolic, the others keep their size.
      for (const a of axes) out[a] = `resized_${a}`;
    }
    return same(x, out);
  },
});

export const TopK = defineOp({
  op: 'TopK',
  // K as an input; `largest` and `sorted` since opset 11.
  sinceOpset: 11,
  inputs: [{ name: 'X' }, { name: 'K', type: 'I' }],
  types: { T: 'numeric', I: ['int64'] },
  infer: (ins, attrs) => {
    const x = req(ins, 0);
    const [k] = constInput(ins[1], 'K');
    if (ins[1]!.value!.length !== 1) fail(`K must hold one value, got ${ins[1]!.value!.length}`);
    const axis = attrInt(attrs, 'axis', -1);
    const a = axis < 0 ? axis + x.shape.length : axis;
    if (a < 0 || a >= x.shape.length) fail(`axis ${axis} is out of range for rank ${x.shape.length}`);
    const d = x.shape[a]!;
    if (!Number.isInteger(k) || k! < 1) fail(`K must be a positive integer, got ${k}`);
    if (typeof d === 'number' && k! > d) fail(`K ${k} is larger than axis ${a} (${d})`);
    const shape = x.shape.map((v, i) => (i === a ? k! : v));
    return [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape },
    ];
  },
});

export const Unsqueeze = defineOp({
  op: 'Unsqueeze',
  // axes is an input since opset 13.
  sinceOpset: 13,
  inputs: [{ name: 'input' }, { name: 'axes', type: 'I' }],
  types: { T: 'any', I: ['int64'] },
  infer: (ins) => same(req(ins, 0), rules.unsqueezeShape(req(ins, 0).shape, constInput(ins[1], 'axes'))),
});

export const Squeeze = defineOp({
  op: 'Squeeze',
  // axes is an (optional) input since opset 13.
  sinceOpset: 13,
  inputs: [{ name: 'input' }, { name: 'axes', type: 'I', optional: true }],
  types: { T: 'any', I: ['int64'] },
  infer: (ins) => same(req(ins, 0), rules.squeezeShape(req(ins, 0).shape, ins[1] ? constInput(ins[1], 'axes') : undefined)),
});

function quantAxis(ins: readonly (ValueType | undefined)[], attrs: Attrs): number | undefined {
  const axis = attrs.axis ? attrInt(attrs, 'axis', 1) : undefined;
  return rules.quantParamsShape(req(ins, 0).shape, req(ins, 1).shape, ins[2]?.shape, req(ins, 1).shape.length === 1 ? (axis ?? 1) : axis);
}

export const QuantizeLinear = defineOp({
  op: 'QuantizeLinear',
  // Per-tensor since opset 10; per-channel (1-D scale, `axis`) since 13.
  sinceOpset: 10,
  inputs: [
    { name: 'input', type: 'T1' },
    { name: 'scale', type: 'T1' },
    { name: 'zero_point', type: 'T2', optional: true },
  ],
  types: { T1: ['float32'], T2: 'int8' },
  infer: (ins, attrs) => {
    quantAxis(ins, attrs);
    const dtype: DType = ins[2]?.dtype ?? 'uint8';
    return [{ dtype, shape: req(ins, 0).shape }];
  },
  opsetFor: (ins) => (ins[1]?.shape.length === 1 ? 13 : 10),
});

export const DequantizeLinear = defineOp({
  op: 'DequantizeLinear',
  // Per-tensor since opset 10; per-channel (1-D scale, `axis`) since 13.
  sinceOpset: 10,
  inputs: [
    { name: 'input', type: 'T1' },
    { name: 'scale', type: 'T2' },
    { name: 'zero_point', type: 'T1', optional: true },
  ],
  // int32 input: a bias quantized with scale input_scale·weight_scale (zero point 0 or omitted).
  types: { T1: ['int8', 'uint8', 'int32'], T2: ['float32'] },
  infer: (ins, attrs) => {
    quantAxis(ins, attrs);
    return [{ dtype: 'float32', shape: req(ins, 0).shape }];
  },
  opsetFor: (ins) => (ins[1]?.shape.length === 1 ? 13 : 10),
});

/** ONNX TensorProto data type code of a dtype (Cast's `to`). */
export function dtypeCode(d: DType): number {
  return DTYPES[d].onnx;
}
