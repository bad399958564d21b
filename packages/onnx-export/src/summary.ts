/**
 * What `effnet inspect` shows about any ONNX file, effnet's or another tool's: format versions,
 * inputs/outputs, operator histogram, parameter and weight counts, metadata. Computed from the
 * decoded graph alone; tensor data is never materialized.
 */
import { DTYPES, graphStats, inferShapes, numel, type DType, type Dim, type GraphIR, type ValueInfo } from '@effnet/graph-builder';
import type { LoadedModel } from './read.js';

export interface TensorSummary {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export interface ModelSummary {
  readonly path: string;
  /** .onnx file plus external data files. */
  readonly fileBytes: number;
  readonly irVersion: number;
  /** Default-domain (ai.onnx) opset; 0 when the file imports none. */
  readonly opset: number;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly producer: { readonly name: string; readonly version: string };
  readonly graphName: string;
  readonly docString: string;
  readonly inputs: readonly TensorSummary[];
  readonly outputs: readonly TensorSummary[];
  readonly nodes: number;
  /** Node count per operator (domain-qualified outside ai.onnx), most frequent first. */
  readonly ops: readonly { readonly op: string; readonly count: number }[];
  /** Trainable parameters as PyTorch counts them: float initializers, BatchNorm running stats excluded. */
  readonly params: number;
  readonly initializers: number;
  /** Elements and bytes of all initializers, per element type. */
  readonly weights: readonly { readonly dtype: DType; readonly elements: number; readonly bytes: number }[];
  readonly weightBytes: number;
  /** Multiply-adds of Conv/Gemm/MatMul per image, from the value shapes the file records or inferShapes infers. */
  readonly macs: number;
  /** False when some of those shapes are unknown (an operator inferShapes does not cover): macs is then a lower bound. */
  readonly macsComplete: boolean;
  readonly externalData: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** The image input's H and W are symbolic (an `--dynamic-size` or embedded-preprocessing file). */
  readonly dynamicSize: boolean;
  /** The H×W the MACs were counted at, when the input's size is symbolic and a size was stated. */
  readonly macsAt?: readonly [number, number];
}

export interface SummaryOptions {
  /** Count MACs for this input size (H, W) when the image input's size is symbolic (batch 1). */
  readonly size?: readonly [number, number];
}

/** The image input's spatial axes: [1,2] for NHWC (channels last, 3), else [2,3]. */
function spatialAxes(v: { readonly shape: readonly (number | string)[] }): [number, number] {
  return v.shape.length === 4 && v.shape[3] === 3 && v.shape[1] !== 3 ? [1, 2] : [2, 3];
}

function isDynamicImage(ir: GraphIR): boolean {
  const x = ir.inputs[0];
  if (!x || x.shape.length !== 4) return false;
  const [a, b] = spatialAxes(x);
  return typeof x.shape[a] === 'string' && typeof x.shape[b] === 'string';
}

/** The graph with its image input fixed at `size` (batch 1) and the recorded shapes that depended on it dropped. */
function atSize(ir: GraphIR, size: readonly [number, number]): GraphIR {
  const batch = ir.inputs[0]?.shape[0];
  const fix = (v: ValueInfo): ValueInfo => ({ ...v, shape: v.shape.map((d) => (typeof batch === 'string' && d === batch ? 1 : d)) });
  const inputs = ir.inputs.map((v, i) => {
    if (i !== 0) return fix(v);
    const shape = [...fix(v).shape];
    const [a, b] = spatialAxes(v);
    shape[a] = size[0];
    shape[b] = size[1];
    return { ...v, shape };
  });
  const values = ir.values.map(fix).filter((v) => v.shape.every((d) => typeof d === 'number'));
  return { ...ir, inputs, values, outputs: ir.outputs.map(fix) };
}

const tensor = (v: TensorSummary): TensorSummary => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] });

export function summarizeModel(m: LoadedModel, o: SummaryOptions = {}): ModelSummary {
  const { ir } = m;
  const dynamicSize = isDynamicImage(ir);
  const measured = dynamicSize && o.size ? atSize(ir, o.size) : ir;
  // Other exporters' files list few intermediate shapes (value_info): infer them to count MACs.
  const given = graphStats(measured);
  const stats = given.macsComplete ? given : graphStats(inferShapes(measured));
  const ops = new Map<string, number>();
  for (const n of ir.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  const weights = new Map<DType, { elements: number; bytes: number }>();
  for (const i of ir.initializers) {
    const w = weights.get(i.dtype) ?? { elements: 0, bytes: 0 };
    const n = numel(i.shape);
    w.elements += n;
    w.bytes += n * DTYPES[i.dtype].bytes;
    weights.set(i.dtype, w);
  }
  const weightList = [...weights].map(([dtype, w]) => ({ dtype, ...w })).sort((a, b) => b.bytes - a.bytes || cmp(a.dtype, b.dtype));
  return {
    path: m.path,
    fileBytes: m.fileBytes,
    irVersion: m.irVersion,
    opset: m.opset,
    opsets: m.opsets.map((o) => ({ domain: o.domain, version: o.version })),
    producer: { name: m.producerName, version: m.producerVersion },
    graphName: ir.name,
    docString: m.docString,
    inputs: ir.inputs.map(tensor),
    outputs: ir.outputs.map(tensor),
    nodes: ir.nodes.length,
    ops: [...ops].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || cmp(a.op, b.op)),
    params: stats.params,
    initializers: ir.initializers.length,
    weights: weightList,
    weightBytes: weightList.reduce((s, w) => s + w.bytes, 0),
    macs: stats.macs,
    macsComplete: stats.macsComplete,
    dynamicSize,
    ...(dynamicSize && o.size ? { macsAt: [o.size[0], o.size[1]] as const } : {}),
    externalData: [...m.externalData],
    metadata: { ...m.metadata },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
