/**
 * GraphEditor: how passes change a GraphIR through the same validated definitions op functions
 * use. Load an IR, then walk its nodes in order: keep a node (`keep`, optionally with new inputs,
 * outputs or attributes — re-checked by the op's definition), drop it (`remove`), or build
 * replacement nodes with the op functions on `value(name)` tensors; `replaceUses` redirects later
 * readers of a value. `build()` returns a new IR in the order nodes were added, without the
 * initializers nothing reads any more. Every name a pass invents comes from the graph's naming
 * authority, which knows every name of the source graph, so new names never collide with old ones.
 */
import { DTYPES, type DType } from './dtype.js';
import { ShapeError } from './errors.js';
import { Graph, INTERNAL, type Tensor } from './graph.js';
import type { AttrValue, DataSource, GraphIR, NodeIR } from './ir.js';
import type { OutputType } from './op-def.js';

export interface NodeChanges {
  /** New input value names (read through replaceUses). */
  readonly inputs?: readonly string[];
  /** New output value names (each keeps the type the source declared for that output). */
  readonly outputs?: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface EditorOptions {
  /** Name of the graph `build()` returns (default: the source's). */
  readonly name?: string;
}

export class GraphEditor {
  /** The graph under edit: op functions called on its tensors add nodes to it. */
  readonly graph: Graph;
  private readonly declared = new Map<string, OutputType>();
  private readonly sourceNodes: ReadonlySet<NodeIR>;
  private readonly uses = new Map<string, string>();
  private outputs: readonly string[];

  constructor(
    readonly source: GraphIR,
    o: EditorOptions = {},
  ) {
    this.graph = new Graph(o.name ?? source.name);
    const g = this.graph[INTERNAL];
    g.reserve(
      [...source.inputs, ...source.outputs, ...source.values, ...source.initializers].map((v) => v.name).concat(source.nodes.flatMap((n) => n.outputs)),
      source.nodes.map((n) => n.name),
    );
    g.raiseOpset(source.minOpset);
    for (const v of source.inputs) this.graph.input(v.name, v.dtype, v.shape);
    for (const i of source.initializers) this.graph.initializer(i.name, i.dtype, i.shape, i.data);
    for (const v of [...source.values, ...source.outputs]) this.declared.set(v.name, { dtype: v.dtype, shape: v.shape });
    this.sourceNodes = new Set(source.nodes);
    this.outputs = source.outputs.map((v) => v.name);
  }

  /** The tensor now standing for `name` (following replaceUses); throws if its type is unknown. */
  value(name: string): Tensor {
    const t = this.graph[INTERNAL].tensor(this.resolve(name));
    if (!t) throw new ShapeError(`graph '${this.graph.name}': no value '${name}' of known type has been added yet`);
    return t;
  }

  /** True when `name` has been added and its dtype and shape are known. */
  has(name: string): boolean {
    return this.graph[INTERNAL].tensor(this.resolve(name)) !== undefined;
  }

  /** The source's declared type of a value (undefined where the source does not know it). */
  declaredType(name: string): OutputType | undefined {
    return this.declared.get(name);
  }

  /** Nodes added from now on (and the graph outputs) read `t` wherever they read `name`. */
  replaceUses(name: string, t: Tensor): void {
    if (t.graph !== this.graph) throw new ShapeError(`replaceUses('${name}'): tensor '${t.name}' belongs to another graph`);
    this.uses.set(name, t.name);
  }

  /**
   * Re-adds a node of the source graph, optionally changed. A node of an op graph-builder defines
   * is re-checked: its inputs must give the output types the source declared. A node of an op it
   * does not know can only be kept as it is.
   */
  keep(n: NodeIR, changes: NodeChanges = {}): (Tensor | undefined)[] {
    if (!this.sourceNodes.has(n)) throw new ShapeError(`keep: node '${n.name}' (${n.op}) is not a node of graph '${this.source.name}'`);
    const inputs = (changes.inputs ?? n.inputs).map((i) => (i ? this.resolve(i) : i));
    const outputs = changes.outputs ?? n.outputs;
    if (outputs.length !== n.outputs.length) throw new ShapeError(`keep: node '${n.name}' has ${n.outputs.length} outputs, ${outputs.length} names given`);
    const node: NodeIR = { ...n, inputs, outputs: [...outputs], attrs: changes.attrs ?? n.attrs };
    const unchanged = inputs.every((i, k) => i === n.inputs[k]) && inputs.length === n.inputs.length && outputs.every((o, k) => o === n.outputs[k]) && !changes.attrs;
    return this.graph[INTERNAL].keep({ node: unchanged ? n : node, declared: n.outputs.map((o) => this.declared.get(o)), unchanged });
  }

  /** Drops a source node: its node name (and output names nothing has claimed) become free for replacements. */
  remove(n: NodeIR): void {
    if (!this.sourceNodes.has(n)) throw new ShapeError(`remove: node '${n.name}' (${n.op}) is not a node of graph '${this.source.name}'`);
    this.graph[INTERNAL].unreserve(n.outputs, n.name);
  }

  /** A new initializer named from `base` by the naming authority (`base`, `base_2`, ...). */
  constant(base: string, dtype: DType, shape: readonly number[], data: DataSource): Tensor {
    if (!(dtype in DTYPES)) throw new ShapeError(`constant '${base}': unknown dtype '${dtype}'`);
    return this.graph.constant(base, dtype, shape, data);
  }

  /** Gives an initializer new contents of the same dtype and shape (e.g. folded weights). */
  replaceInitializer(name: string, data: DataSource): void {
    this.graph[INTERNAL].replaceInitializer(name, data);
  }

  /** Removes an initializer nothing has read yet; its name can then be given to a computed value. */
  removeInitializer(name: string): void {
    this.graph[INTERNAL].removeInitializer(name);
  }

  /** The graph outputs `build()` declares (default: the source's, by name). */
  setOutputs(names: readonly string[]): void {
    this.outputs = [...names];
  }

  /** The edited graph. Initializers nothing reads are dropped; values keep the source's order, new ones follow. */
  build(): GraphIR {
    const g = this.graph[INTERNAL];
    g.setOutputs(this.outputs.map((n) => this.resolve(n)));
    const used = g.usedNames();
    g.pruneInitializers(used);
    const ir = g.build();
    // value_info in the source's order, then new values in node order: an edit changes the file
    // only where it changed the graph.
    const order = new Map(this.source.values.map((v, i) => [v.name, i]));
    const old = ir.values.filter((v) => order.has(v.name)).sort((a, b) => order.get(a.name)! - order.get(b.name)!);
    return { ...ir, values: [...old, ...ir.values.filter((v) => !order.has(v.name))] };
  }

  private resolve(name: string): string {
    return this.uses.get(name) ?? name;
  }
}
