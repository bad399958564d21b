import { DTYPES, type DType } from './dtype.js';
import type { AttrValue, DataSource, Dim, GraphIR, InitializerIR, NodeIR, Shape, ValueInfo } from './ir.js';
import { formatShape, numel } from './ir.js';

/** Thrown when an op is built with inputs whose shapes or types disagree. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A value in a graph under construction: its dtype and static shape are always known. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export type Attrs = Record<string, AttrValue | undefined>;

export interface AddNodeArgs {
  readonly op: string;
  readonly inputs: readonly (Tensor | undefined)[];
  readonly attrs?: Attrs;
  readonly label?: string | undefined;
  /** Output dtype and shape, computed by the op's shape rule. */
  readonly outputs: readonly { dtype: DType; shape: Shape }[];
  /** Lowest opset at which this node's form is valid. */
  readonly sinceOpset?: number;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

/** Builds one ONNX graph. Every op validates and infers shapes when called. */
export class Graph {
  readonly name: string;
  private readonly inputsList: ValueInfo[] = [];
  private readonly outputsList: ValueInfo[] = [];
  private readonly nodes: NodeIR[] = [];
  private readonly inits: InitializerIR[] = [];
  private readonly values = new Map<string, Tensor>();
  private readonly nodeNames = new Set<string>();
  private readonly opCounts = new Map<string, number>();
  private minOpset = 1;

  constructor(name = 'main') {
    this.name = name;
  }

  input(name: string, dtype: DType, shape: Shape): Tensor {
    for (const d of shape) {
      if (typeof d === 'number' ? !Number.isInteger(d) || d < 1 : !/^[A-Za-z_][A-Za-z0-9_]*$/.test(d))
        throw new ShapeError(`input '${name}': invalid dimension ${JSON.stringify(d)} in ${formatShape(shape)}`);
    }
    const t = this.register(name, dtype, shape);
    this.inputsList.push({ name, dtype, shape: [...shape] });
    return t;
  }

  /** A constant tensor stored in the model (weights). `data` may be a thunk for lazy generation. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: DataSource): Tensor {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new ShapeError(`initializer '${name}': shape ${formatShape(shape)} must be non-negative integers`);
    if (typeof data !== 'function' && data.length !== numel(shape))
      throw new ShapeError(`initializer '${name}': ${data.length} values for shape ${formatShape(shape)} (${numel(shape)} expected)`);
    const t = this.register(name, dtype, shape);
    this.inits.push({ name, dtype, shape: [...shape], data });
    return t;
  }

  output(t: Tensor, name?: string): Tensor {
    this.own(t, 'output');
    let out = t;
    if (name !== undefined && name !== t.name) {
      out = this.addNode({ op: 'Identity', inputs: [t], outputs: [{ dtype: t.dtype, shape: t.shape }], label: name, outputName: name })[0]!;
    }
    this.outputsList.push({ name: out.name, dtype: out.dtype, shape: [...out.shape] });
    return out;
  }

  /** A tensor name not used yet in this graph, derived from `base`. */
  freshName(base: string): string {
    if (!this.values.has(base)) return base;
    let k = 2;
    while (this.values.has(`${base}_${k}`)) k++;
    return `${base}_${k}`;
  }

  /** Used by op functions: records a node whose outputs were already shape-checked. */
  addNode(args: AddNodeArgs & { outputName?: string }): Tensor[] {
    args.inputs.forEach((t) => t && this.own(t, args.op));
    const count = (this.opCounts.get(args.op) ?? 0) + 1;
    this.opCounts.set(args.op, count);
    let nodeName = args.label ?? `${args.op}_${count}`;
    if (this.nodeNames.has(nodeName)) {
      let k = 2;
      while (this.nodeNames.has(`${nodeName}_${k}`)) k++;
      nodeName = `${nodeName}_${k}`;
    }
    this.nodeNames.add(nodeName);
    const outputs = args.outputs.map((o, i) => {
      let name = args.outputName ?? (args.outputs.length === 1 ? nodeName : `${nodeName}:${i}`);
      if (this.values.has(name)) name = `${name}:out`;
      return this.register(name, o.dtype, o.shape);
    });
    const attrs: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(args.attrs ?? {})) if (v !== undefined) attrs[k] = v;
    this.nodes.push({
      op: args.op,
      name: nodeName,
      inputs: args.inputs.map((t) => t?.name ?? ''),
      outputs: outputs.map((t) => t.name),
      attrs,
    });
    this.minOpset = Math.max(this.minOpset, args.sinceOpset ?? 1);
    return outputs;
  }

  build(): GraphIR {
    if (this.outputsList.length === 0) throw new ShapeError(`graph '${this.name}' has no outputs`);
    const io = new Set([...this.inputsList, ...this.outputsList].map((v) => v.name));
    const inits = new Set(this.inits.map((i) => i.name));
    const values: ValueInfo[] = [];
    for (const n of this.nodes)
      for (const o of n.outputs) {
        if (io.has(o) || inits.has(o)) continue;
        const t = this.values.get(o)!;
        values.push({ name: o, dtype: t.dtype, shape: [...t.shape] });
      }
    return {
      name: this.name,
      inputs: [...this.inputsList],
      outputs: [...this.outputsList],
      nodes: [...this.nodes],
      initializers: [...this.inits],
      values,
      minOpset: this.minOpset,
    };
  }

  private register(name: string, dtype: DType, shape: Shape): Tensor {
    if (!NAME_RE.test(name)) throw new ShapeError(`invalid tensor name '${name}'`);
    if (this.values.has(name)) throw new ShapeError(`tensor name '${name}' is already used in graph '${this.name}'`);
    if (!(dtype in DTYPES)) throw new ShapeError(`tensor '${name}': unknown dtype '${dtype}'`);
    const t = new Tensor(this, name, dtype, Object.freeze([...shape]) as readonly Dim[]);
    this.values.set(name, t);
    return t;
  }

  private own(t: Tensor, op: string): void {
    if (t.graph !== this) throw new ShapeError(`${op}: tensor '${t.name}' belongs to graph '${t.graph.name}', not '${this.name}'`);
  }
}
