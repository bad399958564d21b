import { OptionError } from './errors.js';
import type { DType, TensorData } from './dtype.js';

/** A dimension: a fixed size, or a symbolic name (e.g. 'N' for a dynamic batch). */
export type Dim = number | string;
export type Shape = readonly Dim[];

export type AttrValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  /** An attribute type effnet reads but does not interpret (tensor, graph, ...). */
  | { readonly kind: 'unsupported'; readonly type: number };

export interface ValueInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

export interface NodeIR {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** Initializer data, given now or produced on demand (so huge models stream to disk). */
export type DataSource = TensorData | (() => TensorData);

export interface InitializerIR {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: DataSource;
}

/** The plain-data graph every other package consumes. Nodes are in topological order. */
export interface GraphIR {
  readonly name: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly nodes: readonly NodeIR[];
  readonly initializers: readonly InitializerIR[];
  /** Inferred type and shape of every intermediate value. */
  readonly values: readonly ValueInfo[];
  /** Lowest ONNX opset (default domain) whose operator definitions this graph needs. */
  readonly minOpset: number;
}

export function materialize(data: DataSource): TensorData {
  return typeof data === 'function' ? data() : data;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Describes a value in an error message: its type, or its text when short. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object')
    return `an object with keys ${
      Object.keys(v as object)
        .slice(0, 5)
        .join(', ') || '(none)'
    }`;
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return `${typeof v} ${String(v)}`;
}

/** `ir`, checked to be a graph (what Graph.build() and the passes return): OptionError('ir') naming `fn` otherwise. */
export function checkGraphIR(ir: unknown, fn: string): GraphIR {
  const g = ir as Partial<GraphIR> | null;
  if (typeof g !== 'object' || g === null || !Array.isArray(g.nodes) || !Array.isArray(g.inputs) || !Array.isArray(g.outputs) || !Array.isArray(g.initializers) || !Array.isArray(g.values))
    throw new OptionError('ir', `${fn}: expected a graph (GraphIR, from Graph.build() or a pass), got ${describeValue(ir)}`);
  return g as GraphIR;
}
