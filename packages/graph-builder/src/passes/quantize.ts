/**
 * Static int8 quantization in the QDQ format: QuantizeLinear/DequantizeLinear pairs around the
 * ops to run in int8, placed the way onnxruntime's QDQ transformer fuses them into int8 kernels
 * (DQ→Conv→Q = QLinearConv, DQ→Gemm = QGemm, DQ,DQ→Add→Q = QLinearAdd, DQ→Sigmoid→Q =
 * QLinearSigmoid, …). Pure: the activation ranges come from the caller (a calibrator).
 *
 * Weights: int8, symmetric, per output channel (Conv axis 0; Gemm axis 0 with transB, 1 without);
 * biases: int32 with scale input_scale·weight_scale[c], as onnxruntime's fused kernels need.
 * Activations: uint8 (asymmetric; onnxruntime's fast x86 path is u8·s8) or int8.
 */
import { roundHalfEven } from '@effnet/preprocess';
import type { DType } from '../dtype.js';
import { GraphEditor } from '../editor.js';
import type { Tensor } from '../graph.js';
import type { GraphIR, InitializerIR, NodeIR } from '../ir.js';
import { checkGraphIR, describeValue, materialize, numel } from '../ir.js';
import { OptionError } from '../errors.js';
import { dequantizeLinear, quantizeLinear } from '../ops.js';

/** The range a calibrator measured (or chose) for one activation tensor. */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

/** Ops that get int8 kernels when wrapped in Q/DQ. */
export const QUANTIZABLE_OPS = ['Conv', 'Gemm', 'Add', 'Mul', 'Sigmoid', 'GlobalAveragePool', 'AveragePool', 'MaxPool'] as const;
export type QuantizableOp = (typeof QUANTIZABLE_OPS)[number];

/**
 * Placement policies (which nodes run in int8):
 * - `all` (default): every quantizable op, so that onnxruntime runs the whole network in int8 and
 *   NHWC (QLinearConv, QLinearSigmoid as a lookup table, QLinearMul, QLinearAdd, …) with no
 *   conversion in between: the fastest for every model measured, EfficientNet-B0 included.
 * - `compute`: Conv, Gemm, the residual Adds and the pools (MaxPool/GlobalAveragePool); SiLU
 *   (Sigmoid·Mul) and squeeze-excitation gates stay float32 (on SiLU networks every conv output
 *   then pays a Q and a DQ: slower than float32 for EfficientNet-B0).
 * - `pointwise`: only 1×1 group-1 Convs (the compute-bound ones) and Gemm; depthwise and k×k
 *   convs, SiLU, SE and adds stay float32 (onnxruntime then converts layouts between its int8
 *   NHWC and float32 NCHWc kernels around every depthwise conv).
 */
export const QUANTIZE_POLICIES = ['all', 'compute', 'pointwise'] as const;
export type QuantizePolicy = (typeof QUANTIZE_POLICIES)[number];

export interface QuantizeOptions {
  /** Which nodes run in int8 (default 'all'). */
  readonly policy?: QuantizePolicy;
  /** Further restricts the policy: a node for which this returns false stays float32. */
  readonly include?: (node: NodeIR) => boolean;
  /** Activation element type (default uint8; both asymmetric, zero point from the range). */
  readonly activationType?: 'uint8' | 'int8';
}

export interface QuantizeWithRanges extends QuantizeOptions {
  /** Calibrated range of every tensor {@link quantizationTargets} lists. */
  readonly ranges: ReadonlyMap<string, TensorRange>;
}

/** Thrown when a graph cannot be quantized as asked (no quantizable op, missing range, unfolded BatchNorm). */
export class QuantizeError extends Error {
  override name = 'QuantizeError';
}

interface Plan {
  /** Nodes that run in int8. */
  readonly nodes: ReadonlySet<NodeIR>;
  /** Activation tensors to quantize, with the tensor whose range (or same-scale source) they use. */
  readonly tensors: ReadonlyMap<string, { readonly rangeOf: string }>;
}

const FLOAT_CONSUMER_KEEPS = new Set(['Relu', 'Clip']);

function isPointwise(n: NodeIR, inits: Map<string, InitializerIR>): boolean {
  if (n.op === 'Gemm') return true;
  if (n.op !== 'Conv') return false;
  const w = inits.get(n.inputs[1] ?? '');
  const group = n.attrs.group?.kind === 'int' ? n.attrs.group.value : 1;
  return !!w && group === 1 && w.shape.slice(2).every((d) => d === 1);
}

function policyOps(policy: QuantizePolicy): ReadonlySet<string> {
  switch (policy) {
    case 'all':
      return new Set(QUANTIZABLE_OPS);
    case 'compute':
      return new Set(['Conv', 'Gemm', 'Add', 'GlobalAveragePool', 'AveragePool', 'MaxPool']);
    case 'pointwise':
      return new Set(['Conv', 'Gemm']);
  }
}

/** Same-scale ops: int8 in, int8 out with the input's scale (onnxruntime drops their Q/DQ). */
const SAME_SCALE = new Set(['MaxPool', 'Flatten', 'Reshape']);

function plan(ir: GraphIR, o: QuantizeOptions): Plan {
  const policy = o.policy ?? 'all';
  if (!(QUANTIZE_POLICIES as readonly string[]).includes(policy)) throw new QuantizeError(`quantize: unknown policy '${String(policy)}' (expected ${QUANTIZE_POLICIES.join(', ')})`);
  const ops = policyOps(policy);
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const dtypes = new Map<string, DType>([...ir.inputs, ...ir.values, ...ir.outputs, ...ir.initializers].map((v) => [v.name, v.dtype]));
  const consumers = new Map<string, NodeIR[]>();
  for (const n of ir.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set(ir.outputs.map((v) => v.name));

  for (const n of ir.nodes) {
    if (n.op !== 'BatchNormalization') continue;
    const producer = ir.nodes.find((p) => p.outputs.includes(n.inputs[0] ?? ''));
    if (producer?.op === 'Conv') throw new QuantizeError(`quantize: Conv '${producer.name}' feeds BatchNormalization '${n.name}'; fold BatchNorm first (foldBatchNorm)`);
  }

  const isActivation = (t: string) => !!t && !inits.has(t) && dtypes.get(t) === 'float32';
  const quantized = new Set<NodeIR>();
  for (const n of ir.nodes) {
    if (!ops.has(n.op) || (o.include && !o.include(n))) continue;
    if (n.op === 'Conv' || n.op === 'Gemm') {
      const w = inits.get(n.inputs[1] ?? '');
      const b = n.inputs[2] ? inits.get(n.inputs[2]) : undefined;
      if (!w || w.dtype !== 'float32' || (n.inputs[2] && (!b || b.dtype !== 'float32'))) continue;
      if (!isActivation(n.inputs[0] ?? '')) continue;
      if (policy === 'pointwise' && !isPointwise(n, inits)) continue;
      if (n.op === 'Gemm' && n.attrs.transA?.kind === 'int' && n.attrs.transA.value !== 0) continue;
      if (n.op === 'Gemm' && ((n.attrs.alpha?.kind === 'float' && n.attrs.alpha.value !== 1) || (n.attrs.beta?.kind === 'float' && n.attrs.beta.value !== 1))) continue;
    } else if (n.op === 'Add' || n.op === 'Mul') {
      if (!n.inputs.every(isActivation)) continue;
    } else if (!isActivation(n.inputs[0] ?? '')) continue;
    quantized.add(n);
  }

  const tensors = new Map<string, { rangeOf: string }>();
  const want = (t: string, rangeOf = t) => {
    if (!tensors.has(t)) tensors.set(t, { rangeOf });
  };
  /** Where a quantized node's output is quantized: past a sole Relu/Clip(0,·) consumer (onnxruntime removes it). */
  const outputTarget = (t: string): string | undefined => {
    if (graphOutputs.has(t)) return undefined;
    const cs = consumers.get(t) ?? [];
    const c = cs[0];
    if (cs.length === 1 && c && FLOAT_CONSUMER_KEEPS.has(c.op) && !quantized.has(c) && !graphOutputs.has(c.outputs[0]!)) {
      if (c.op === 'Relu' || clipFromZero(c, inits)) return c.outputs[0]!;
    }
    return t;
  };
  for (const n of ir.nodes) {
    if (quantized.has(n)) {
      const acts = n.op === 'Conv' || n.op === 'Gemm' ? [n.inputs[0]!] : n.inputs.filter(Boolean);
      for (const a of acts) if (!tensors.has(a)) want(a);
      if (n.op === 'Gemm') continue; // QGemm may write float32: the logits stay exact float
      if (n.op === 'MaxPool') {
        const t = outputTarget(n.outputs[0]!);
        if (t) want(t, tensors.get(n.inputs[0]!)!.rangeOf);
        continue;
      }
      const t = outputTarget(n.outputs[0]!);
      if (t) want(t);
    } else if (SAME_SCALE.has(n.op) && tensors.has(n.inputs[0] ?? '') && !graphOutputs.has(n.outputs[0]!)) {
      // A Flatten/Reshape between int8 ops: keep it int8 when its consumers are quantized.
      const cs = consumers.get(n.outputs[0]!) ?? [];
      if (cs.length > 0 && cs.every((c) => quantized.has(c))) want(n.outputs[0]!, tensors.get(n.inputs[0]!)!.rangeOf);
    }
  }
  return { nodes: quantized, tensors };
}

function clipFromZero(n: NodeIR, inits: Map<string, InitializerIR>): boolean {
  const min = n.inputs[1] ? inits.get(n.inputs[1]) : undefined;
  if (!min) return n.attrs.min?.kind === 'float' && n.attrs.min.value === 0;
  const v = materialize(min.data);
  return v.length === 1 && Number(v[0]) === 0;
}

/**
 * The activation tensors whose ranges {@link quantizeQdq} needs for this graph and policy
 * (what a calibrator must measure). Throws a QuantizeError when nothing is quantizable.
 */
export function quantizationTargets(ir: GraphIR, o: QuantizeOptions = {}): string[] {
  const p = plan(ir, o);
  if (p.nodes.size === 0) throw noQuantizableOp(ir, o);
  return [...new Set([...p.tensors.values()].map((t) => t.rangeOf))];
}

function noQuantizableOp(ir: GraphIR, o: QuantizeOptions): QuantizeError {
  return new QuantizeError(
    `quantize: graph '${ir.name}' has no quantizable op for policy '${o.policy ?? 'all'}' ` +
      `(looked for ${QUANTIZABLE_OPS.join(', ')} with float32 activations and, for Conv/Gemm, float32 initializer weights)`,
  );
}

/** Scale and zero point mapping [min, max] (widened to include 0) onto the activation type. */
export function activationParams(r: TensorRange, type: 'uint8' | 'int8' = 'uint8'): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max) throw new QuantizeError(`quantize: invalid range [${r.min}, ${r.max}]`);
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  const min = Math.min(r.min, 0);
  const max = Math.max(r.max, 0);
  let scale = Math.fround((max - min) / (qmax - qmin));
  if (!(scale > 0)) scale = 1;
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - min / scale)));
  return { scale, zeroPoint: zeroPoint + 0 }; // never -0
}

/** Symmetric per-channel int8 weights along `axis` ([-127, 127], zero point 0). */
export function quantizeWeights(w: Float32Array, shape: readonly number[], axis: number): { data: Int8Array; scales: Float32Array } {
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const absMax = new Float64Array(channels);
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) for (let i = 0, at = (o * channels + c) * inner; i < inner; i++) absMax[c] = Math.max(absMax[c]!, Math.abs(w[at + i]!));
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = absMax[c]! > 0 ? absMax[c]! / 127 : 1;
  const data = new Int8Array(w.length);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++) for (let i = 0, at = (o * channels + c) * inner; i < inner; i++) data[at + i] = Math.max(-127, Math.min(127, roundHalfEven(w[at + i]! / scales[c]!)));
  return { data, scales };
}

/**
 * `ir` with Q/DQ pairs inserted (see the module comment). Run foldBatchNorm first, calibrate the
 * tensors {@link quantizationTargets} lists on that same graph, and pass their ranges here.
 * Requires opset >= 13 (per-channel QuantizeLinear/DequantizeLinear); the result is valid for 13–21.
 */
export function quantizeQdq(ir: GraphIR, o: QuantizeWithRanges): GraphIR {
  checkGraphIR(ir, 'quantizeQdq');
  if (!(o?.ranges instanceof Map)) throw new OptionError('ranges', `quantizeQdq: ranges: expected a Map of tensor name → { min, max } (calibrateActivations' result), got ${describeValue(o?.ranges)}`);
  const p = plan(ir, o);
  if (p.nodes.size === 0) throw noQuantizableOp(ir, o);
  const actType = o.activationType ?? 'uint8';
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  // Names as before: `<base>`, else `<base>_2`, … avoiding every name of the source and of this pass
  // (node and value names alike); the editor's naming authority then takes them as given.
  const used = new Set([...ir.inputs, ...ir.values, ...ir.outputs, ...ir.initializers].map((v) => v.name));
  for (const n of ir.nodes) {
    used.add(n.name);
    for (const out of n.outputs) used.add(out);
  }
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const ed = new GraphEditor(ir);
  const scalar = (base: string, dtype: 'float32' | 'uint8' | 'int8', value: number): Tensor =>
    ed.constant(fresh(base), dtype, [], dtype === 'float32' ? Float32Array.of(value) : dtype === 'uint8' ? Uint8Array.of(value) : Int8Array.of(value));

  // Activation parameters.
  const params = new Map<string, { scale: number; zeroPoint: number; scaleT: Tensor; zpT: Tensor }>();
  for (const [t, { rangeOf }] of p.tensors) {
    const r = o.ranges.get(rangeOf);
    if (!r) throw new QuantizeError(`quantize: no calibration range for tensor '${rangeOf}' (calibrate quantizationTargets(ir) on this graph)`);
    const same = params.get(rangeOf);
    if (same) {
      params.set(t, same);
      continue;
    }
    const { scale, zeroPoint } = activationParams(r, actType);
    const entry = { scale, zeroPoint, scaleT: scalar(`${rangeOf}.scale`, 'float32', scale), zpT: scalar(`${rangeOf}.zero_point`, actType, zeroPoint) };
    params.set(rangeOf, entry);
    params.set(t, entry);
  }

  // Weights and biases of quantized Conv/Gemm: int8/int32 initializers + DequantizeLinear whose
  // output keeps the float initializer's name. These come first, before any node reads them.
  const replacedInits = new Set<string>();
  const weightScales = new Map<string, () => Float32Array>();
  const quantizeWeight = (n: NodeIR): void => {
    const w = inits.get(n.inputs[1]!)!;
    if (replacedInits.has(w.name)) return;
    const axis = n.op === 'Gemm' && !(n.attrs.transB?.kind === 'int' && n.attrs.transB.value !== 0) ? 1 : 0;
    const channels = w.shape[axis]!;
    let cache: { data: Int8Array; scales: Float32Array } | undefined;
    const get = () => (cache ??= quantizeWeights(materialize(w.data) as Float32Array, w.shape, axis));
    const q = ed.constant(fresh(`${w.name}.int8`), 'int8', w.shape, () => get().data);
    const s = ed.constant(fresh(`${w.name}.scale`), 'float32', [channels], () => get().scales);
    const z = ed.constant(fresh(`${w.name}.zero_point`), 'int8', [channels], new Int8Array(channels));
    ed.removeInitializer(w.name);
    dequantizeLinear(q, s, z, { axis, label: fresh(`${w.name}.dequantize`), output: w.name });
    replacedInits.add(w.name);
    weightScales.set(w.name, () => get().scales);
  };
  const quantizeBias = (n: NodeIR): void => {
    const bName = n.inputs[2];
    if (!bName || replacedInits.has(bName)) return;
    const b = inits.get(bName)!;
    const x = params.get(n.inputs[0]!)!;
    const ws = weightScales.get(n.inputs[1]!)!;
    const channels = numel(b.shape);
    let cache: { data: Int32Array; scales: Float32Array } | undefined;
    const get = () => {
      if (cache) return cache;
      const src = materialize(b.data) as Float32Array;
      const w = ws();
      if (w.length !== channels) throw new QuantizeError(`quantize: bias '${bName}' has ${channels} values for ${w.length} output channels`);
      const scales = new Float32Array(channels);
      const data = new Int32Array(channels);
      for (let c = 0; c < channels; c++) {
        scales[c] = x.scale * w[c]!;
        data[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(src[c]! / scales[c]!)));
      }
      return (cache = { data, scales });
    };
    const q = ed.constant(fresh(`${bName}.int32`), 'int32', b.shape, () => get().data);
    const s = ed.constant(fresh(`${bName}.scale`), 'float32', [channels], () => get().scales);
    ed.removeInitializer(bName);
    dequantizeLinear(q, s, undefined, { axis: 0, label: fresh(`${bName}.dequantize`), output: bName });
    replacedInits.add(bName);
  };
  // Bias needs the weight's scales and the input's scale: shared biases with different inputs are kept float.
  for (const n of ir.nodes) {
    if (!p.nodes.has(n) || (n.op !== 'Conv' && n.op !== 'Gemm')) continue;
    quantizeWeight(n);
    quantizeBias(n);
  }

  // Q→DQ after each quantized tensor (graph inputs: first of all); consumers read the DQ output.
  const dqOf = new Map<string, string>();
  const qdq = (t: string): void => {
    const q = params.get(t)!;
    if (!ed.has(t)) throw new QuantizeError(`quantize: tensor '${t}' has no known shape`);
    const qName = fresh(`${t}.q`);
    const dqName = fresh(`${t}.dq`);
    const qt = quantizeLinear(ed.value(t), q.scaleT, q.zpT, { label: fresh(`${t}.quantize`), output: qName });
    dqOf.set(t, dequantizeLinear(qt, q.scaleT, q.zpT, { label: fresh(`${t}.dequantize`), output: dqName }).name);
  };
  const graphInputs = new Set(ir.inputs.map((i) => i.name));
  for (const t of p.tensors.keys()) if (graphInputs.has(t)) qdq(t);
  for (const n of ir.nodes) {
    const inputs = n.inputs.map((i) => dqOf.get(i) ?? i);
    if (inputs.some((i, k) => i !== n.inputs[k])) ed.keep(n, { inputs });
    else ed.keep(n);
    for (const out of n.outputs) if (p.tensors.has(out) && !graphInputs.has(out)) qdq(out);
  }
  const out = ed.build();
  return { ...out, minOpset: Math.max(out.minOpset, 13) };
}
