/**
 * Shape inference for graphs read from any ONNX file: the shapes of intermediate values a file
 * does not list (value_info; torch.onnx.export writes few), so that MACs can be counted from the
 * graph itself (`graphStats(inferShapes(ir))`) for other exporters' files too — `effnet inspect`
 * and `effnet bench` both count this way. Covers the operators of CNN classifiers, in the forms
 * of opsets 7–21 (auto_pad SAME_UPPER/SAME_LOWER/VALID; axes, pads and shapes as attributes or
 * as constant inputs, opset 13/18 style); an operator it does not know leaves its outputs
 * unknown, and the MAC count stays a lower bound (GraphStats.macsComplete false).
 */
import { materialize, type AttrValue, type Dim, type GraphIR, type NodeIR, type Shape, type ValueInfo } from '../ir.js';
import * as rules from '../shapes.js';

const UNARY = new Set([
  'Identity',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'LeakyRelu',
  'Elu',
  'Selu',
  'PRelu',
  'Softmax',
  'LogSoftmax',
  'Dropout',
  'Cast',
  'Erf',
  'Sqrt',
  'Exp',
  'Log',
  'Neg',
  'Abs',
  'Reciprocal',
  'Gelu',
  'Mish',
  'Softplus',
  'BatchNormalization',
  'InstanceNormalization',
  'LRN',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2']);

const ints = (a: AttrValue | undefined): number[] | undefined => (a?.kind === 'ints' ? [...a.value] : undefined);
const int = (a: AttrValue | undefined): number | undefined => (a?.kind === 'int' ? a.value : undefined);
const str = (a: AttrValue | undefined): string | undefined => (a?.kind === 'string' ? a.value : undefined);

/** Pads for auto_pad SAME_UPPER/SAME_LOWER/VALID; explicit pads (default 0) otherwise. */
function windowPads(n: NodeIR, spatial: readonly Dim[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): number[] {
  const auto = str(n.attrs.auto_pad) ?? 'NOTSET';
  const r = spatial.length;
  if (auto === 'NOTSET') return ints(n.attrs.pads) ?? new Array<number>(2 * r).fill(0);
  if (auto === 'VALID') return new Array<number>(2 * r).fill(0);
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((size, i) => {
    if (typeof size !== 'number') throw new Error('symbolic spatial size');
    const out = Math.ceil(size / strides[i]!);
    const total = Math.max(0, (out - 1) * strides[i]! + dilations[i]! * (kernel[i]! - 1) + 1 - size);
    const small = Math.floor(total / 2);
    begin.push(auto === 'SAME_UPPER' ? small : total - small);
    end.push(auto === 'SAME_UPPER' ? total - small : small);
  });
  return [...begin, ...end];
}

function constInts(ir: GraphIR, name: string | undefined): number[] | undefined {
  if (!name) return undefined;
  const init = ir.initializers.find((i) => i.name === name);
  if (!init || (init.dtype !== 'int64' && init.dtype !== 'int32')) return undefined;
  return Array.from(materialize(init.data) as ArrayLike<number | bigint>, Number);
}

function outputShape(ir: GraphIR, n: NodeIR, shape: (name: string | undefined) => Shape | undefined): Dim[] | undefined {
  const x = shape(n.inputs[0]);
  if (!x) return undefined;
  const spatial = x.slice(2);
  if (UNARY.has(n.op)) return [...x];
  if (BINARY.has(n.op)) {
    let out: Shape = x;
    for (const name of n.inputs.slice(1)) {
      const s = shape(name);
      if (!s) return undefined;
      out = rules.broadcastShape(out, s);
    }
    return [...out];
  }
  if (REDUCE.has(n.op)) {
    const axes = ints(n.attrs.axes) ?? constInts(ir, n.inputs[1]) ?? x.map((_, i) => i);
    return rules.reduceShape(x, axes, (int(n.attrs.keepdims) ?? 1) === 1);
  }
  switch (n.op) {
    case 'Conv': {
      const w = shape(n.inputs[1]);
      if (!w) return undefined;
      const kernel = (ints(n.attrs.kernel_shape) ?? w.slice(2)) as number[];
      const strides = ints(n.attrs.strides) ?? kernel.map(() => 1);
      const dilations = ints(n.attrs.dilations) ?? kernel.map(() => 1);
      const pads = windowPads(n, spatial, kernel, strides, dilations);
      return rules.convShape(x, w, undefined, { strides, pads, dilations, group: int(n.attrs.group) ?? 1 });
    }
    case 'MaxPool':
    case 'AveragePool': {
      const kernel = ints(n.attrs.kernel_shape);
      if (!kernel) return undefined;
      const strides = ints(n.attrs.strides) ?? kernel.map(() => 1);
      const dilations = ints(n.attrs.dilations) ?? kernel.map(() => 1);
      const pads = windowPads(n, spatial, kernel, strides, dilations);
      return rules.poolShape(x, { kernel, strides, pads, dilations, ceilMode: int(n.attrs.ceil_mode) === 1 });
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return rules.globalPoolShape(x);
    case 'Gemm': {
      const b = shape(n.inputs[1]);
      return b ? rules.gemmShape(x, b, undefined, int(n.attrs.transA) === 1, int(n.attrs.transB) === 1) : undefined;
    }
    case 'MatMul': {
      const b = shape(n.inputs[1]);
      return b ? rules.matMulShape(x, b) : undefined;
    }
    case 'Flatten':
      return rules.flattenShape(x, int(n.attrs.axis) ?? 1);
    case 'Reshape': {
      const target = constInts(ir, n.inputs[1]);
      return target ? rules.reshapeShape(x, target) : undefined;
    }
    case 'Concat': {
      const all = n.inputs.map(shape);
      return all.every((s): s is Shape => !!s) ? rules.concatShape(all, int(n.attrs.axis) ?? 0) : undefined;
    }
    case 'Pad': {
      const given = ints(n.attrs.pads) ?? constInts(ir, n.inputs[1]);
      if (!given) return undefined;
      // opset 18: optional axes input; pads then hold begin/end for those axes only.
      const axes = n.inputs[3] ? constInts(ir, n.inputs[3]) : x.map((_, i) => i);
      if (!axes || given.length !== 2 * axes.length) return undefined;
      const pads = new Array<number>(2 * x.length).fill(0);
      axes.forEach((a, i) => {
        const axis = a < 0 ? a + x.length : a;
        pads[axis] = given[i]!;
        pads[axis + x.length] = given[i + axes.length]!;
      });
      return rules.padShape(x, pads);
    }
    case 'Transpose': {
      const perm = ints(n.attrs.perm) ?? x.map((_, i) => x.length - 1 - i);
      return perm.map((p) => x[p]!);
    }
    case 'Squeeze': {
      const axes = (ints(n.attrs.axes) ?? constInts(ir, n.inputs[1]))?.map((a) => (a < 0 ? a + x.length : a));
      return axes ? x.filter((_, i) => !axes.includes(i)) : x.filter((d) => d !== 1);
    }
    case 'Unsqueeze': {
      const axes = ints(n.attrs.axes) ?? constInts(ir, n.inputs[1]);
      if (!axes) return undefined;
      const rank = x.length + axes.length;
      const at = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const out: Dim[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : x[k++]!);
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * The graph with the shapes it can infer added to `values`; shapes the graph already records are
 * kept as given, and the same graph object comes back when nothing was added.
 */
export function inferShapes(ir: GraphIR): GraphIR {
  const known = new Map<string, ValueInfo>();
  for (const v of [...ir.inputs, ...ir.values, ...ir.outputs]) known.set(v.name, v);
  for (const i of ir.initializers) known.set(i.name, { name: i.name, dtype: i.dtype, shape: i.shape });
  const added: ValueInfo[] = [];
  const shape = (name: string | undefined) => (name ? known.get(name)?.shape : undefined);
  for (const n of ir.nodes) {
    const out = n.outputs[0];
    if (!out || known.has(out)) continue;
    let s: Dim[] | undefined;
    try {
      s = outputShape(ir, n, shape);
    } catch {
      s = undefined; // an inconsistent file: leave it unknown, the count stays a lower bound
    }
    if (!s) continue;
    const v: ValueInfo = { name: out, dtype: known.get(n.inputs[0] ?? '')?.dtype ?? 'float32', shape: s };
    known.set(out, v);
    added.push(v);
  }
  return added.length ? { ...ir, values: [...ir.values, ...added] } : ir;
}
