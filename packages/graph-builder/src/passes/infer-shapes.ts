/**
 * Shape inference for graphs read from any ONNX file: the shapes of intermediate values a file
 * does not list (value_info; torch.onnx.export writes few), so that MACs can be counted from the
 * graph itself (`graphStats(inferShapes(ir))`) for other exporters' files too — `effnet inspect`
 * and `effnet bench` both count this way. Covers the operators of CNN classifiers, in the forms
 * of opsets 7–21 (auto_pad SAME_UPPER/SAME_LOWER/VALID; axes, pads and shapes as attributes or
 * as constant inputs, opset 13/18 style); an operator it does not know leaves its outputs
 * unknown, and the MAC count stays a lower bound (GraphStats.macsComplete false).
 */
import '../defs.js';
import { materialize, type AttrValue, type GraphIR, type NodeIR, type Shape, type ValueInfo } from '../ir.js';
import { inferOp, opDefinition, type Attrs, type OutputType, type ValueType } from '../op-def.js';
import { broadcastShape, reduceShape } from '../shapes.js';

/**
 * Ops graph-builder does not define but CNN files carry, whose only shape rule is "as the first
 * input" or "broadcast of all inputs". Every op graph-builder defines (defs.ts: Conv, pools,
 * Gemm, Reshape, Pad, Squeeze, ...) gets its output types from its definition: one shape authority.
 */
const SAME_AS_INPUT = new Set([
  'Tanh',
  'LeakyRelu',
  'Elu',
  'Selu',
  'PRelu',
  'LogSoftmax',
  'Dropout',
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
  'InstanceNormalization',
  'LRN',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
]);
const BROADCAST = new Set(['Pow', 'Max', 'Min', 'Sum', 'Mean']);
/** Reductions other than ReduceMean (defined): the same rule, axes as attribute or constant input. */
const REDUCE = new Set(['ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2']);

const ints = (a: AttrValue | undefined): number[] | undefined => (a?.kind === 'ints' ? [...a.value] : undefined);
const int64 = (values: readonly number[]): ValueType => ({ dtype: 'int64', shape: [values.length], value: values });

function constInts(ir: GraphIR, name: string | undefined): number[] | undefined {
  if (!name) return undefined;
  const init = ir.initializers.find((i) => i.name === name);
  if (!init || (init.dtype !== 'int64' && init.dtype !== 'int32') || init.shape.length > 1) return undefined;
  return Array.from(materialize(init.data) as ArrayLike<number | bigint>, Number);
}

/**
 * A node of another exporter's file in the form graph-builder's definition takes: the same op in
 * its opset-13+ form (older opsets kept axes and pads in attributes; Pad-18 may name its axes).
 * Constant int inputs carry their values, as the definitions' rules need.
 */
function normalize(ir: GraphIR, n: NodeIR, type: (name: string | undefined) => ValueType | undefined): { inputs: (ValueType | undefined)[]; attrs: Attrs } | undefined {
  const inputs = n.inputs.map((name) => {
    const t = type(name);
    const v = t && constInts(ir, name);
    return t && v ? { ...t, dtype: 'int64' as const, value: v } : t;
  });
  const attrs: Record<string, AttrValue> = { ...n.attrs };
  const x = inputs[0];
  if (!x) return undefined;
  switch (n.op) {
    case 'Squeeze':
    case 'Unsqueeze': {
      const axes = ints(attrs.axes);
      delete attrs.axes;
      return { inputs: axes ? [x, int64(axes)] : inputs, attrs };
    }
    case 'Pad': {
      const given = ints(attrs.pads) ?? inputs[1]?.value;
      delete attrs.pads;
      delete attrs.value;
      if (!given) return undefined;
      const rank = x.shape.length;
      const axes = n.inputs[3] ? inputs[3]?.value : x.shape.map((_, i) => i);
      if (!axes || given.length !== 2 * axes.length) return undefined;
      const pads = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        const axis = a < 0 ? a + rank : a;
        pads[axis] = given[i]!;
        pads[axis + rank] = given[i + axes.length]!;
      });
      return { inputs: [x, int64(pads), inputs[2]], attrs };
    }
    case 'Clip': // opset < 11: min/max attributes, no inputs (the definition checks the input form)
      delete attrs.min;
      delete attrs.max;
      return { inputs, attrs };
    case 'BatchNormalization': // training-mode extras of old opsets: the inference outputs' rule
      delete attrs.spatial;
      delete attrs.momentum;
      delete attrs.training_mode;
      return { inputs, attrs };
    case 'Softmax': // before opset 13 it flattened from `axis`: the same output shape either way
      delete attrs.axis;
      return { inputs, attrs };
    default:
      return { inputs, attrs };
  }
}

function outputTypes(ir: GraphIR, n: NodeIR, type: (name: string | undefined) => ValueType | undefined): readonly OutputType[] | undefined {
  const def = opDefinition(n.op);
  if (def) {
    const node = normalize(ir, n, type);
    return node && inferOp(def, node.inputs, node.attrs, n.name).outputs;
  }
  const x = type(n.inputs[0]);
  if (!x) return undefined;
  if (SAME_AS_INPUT.has(n.op)) return [{ dtype: x.dtype, shape: x.shape }];
  if (BROADCAST.has(n.op)) {
    let out: Shape = x.shape;
    for (const name of n.inputs.slice(1)) {
      const s = type(name);
      if (!s) return undefined;
      out = broadcastShape(out, s.shape);
    }
    return [{ dtype: x.dtype, shape: out }];
  }
  if (REDUCE.has(n.op)) {
    const axes = ints(n.attrs.axes) ?? constInts(ir, n.inputs[1]) ?? x.shape.map((_, i) => i);
    const keep = n.attrs.keepdims?.kind === 'int' ? n.attrs.keepdims.value : 1;
    return [{ dtype: x.dtype, shape: reduceShape(x.shape, axes, keep === 1) }];
  }
  return undefined;
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
  const type = (name: string | undefined): ValueType | undefined => {
    const v = name ? known.get(name) : undefined;
    return v && { dtype: v.dtype, shape: v.shape };
  };
  for (const n of ir.nodes) {
    if (n.outputs.every((o) => !o || known.has(o))) continue;
    let outs: readonly OutputType[] | undefined;
    try {
      outs = outputTypes(ir, n, type);
    } catch {
      outs = undefined; // an inconsistent file, or a form no definition takes: unknown, the count stays a lower bound
    }
    outs?.forEach((t, i) => {
      const name = n.outputs[i];
      if (!name || known.has(name)) return;
      const v: ValueInfo = { name, dtype: t.dtype, shape: [...t.shape] };
      known.set(name, v);
      added.push(v);
    });
  }
  return added.length ? { ...ir, values: [...ir.values, ...added] } : ir;
}
