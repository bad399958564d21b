import { Identity } from './defs.js';
import { DTYPES, type DType } from './dtype.js';
import { ShapeError } from './errors.js';
import type { AttrValue, DataSource, Dim, GraphIR, InitializerIR, NodeIR, Shape, ValueInfo } from './ir.js';
import { formatShape, materialize, numel } from './ir.js';
import { NameScope } from './names.js';
import { inferOp, opDefinition, type Attrs, type OpDef, type OutputType, type ValueType } from './op-def.js';

export { ShapeError };

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

/** Options every node-adding call takes. */
export interface NodeOptions {
  /** Names the node and (unless `output` is given) its output; shows up in errors. */
  readonly label?: string | undefined;
  /** Exact name of the (single) output value; throws if the graph already has it. */
  readonly output?: string | undefined;
}

/**
 * Package-internal access to a Graph's node list. The symbol is not exported from the package, so
 * code outside graph-builder adds nodes only through {@link applyOp} (and so through a definition).
 */
export const INTERNAL: unique symbol = Symbol('@effnet/graph-builder internal');

/** Constant int64 initializers up to this many values are known to shape rules (Reshape, Slice). */
const CONST_LIMIT = 1024;

/** A node of a source graph re-added by GraphEditor.keep, with the types its file declared. */
export interface KeptNode {
  readonly node: NodeIR;
  /** Declared type of each output (undefined where the source did not know it). */
  readonly declared: readonly (OutputType | undefined)[];
  /** True when the node is exactly as in the source (an unknown op may only be kept so). */
  readonly unchanged: boolean;
}

function compatible(a: OutputType, b: OutputType): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => typeof d !== 'number' || typeof b.shape[i] !== 'number' || d === b.shape[i]);
}

/**
 * Builds one ONNX graph. Declare inputs and initializers, call op functions on its tensors (each
 * validates and infers shapes when called), mark outputs, then `build()` the plain-data GraphIR.
 * @example
 * const g = new Graph('tiny');
 * const x = g.input('input', 'float32', ['N', 3, 32, 32]);
 * g.output(relu(x), 'y');
 * const ir = g.build();
 */
export class Graph {
  readonly name: string;
  private readonly inputsList: ValueInfo[] = [];
  private outputsList: ValueInfo[] = [];
  private readonly nodes: NodeIR[] = [];
  private inits: InitializerIR[] = [];
  private initIndex = new Map<string, number>();
  /** Every value name some node reads. */
  private readonly consumed = new Set<string>();
  private internalOps: ReturnType<Graph['makeInternal']> | undefined;
  private readonly values = new Map<string, Tensor>();
  /** Values whose type is unknown (outputs of unknown ops in an edited file). */
  private readonly opaque = new Set<string>();
  private readonly consts = new Map<string, readonly number[]>();
  /** The naming authority for values (tensors) and for nodes: two ONNX namespaces. */
  private readonly valueNames = new NameScope('tensor name');
  private readonly nodeNames = new NameScope('node name');
  private readonly opCounts = new Map<string, number>();
  private minOpset = 1;

  constructor(name = 'main') {
    this.name = name;
  }

  /** A graph input named exactly `name`; dimensions are positive integers or symbols such as 'N'. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    for (const d of shape) {
      if (typeof d === 'number' ? !Number.isInteger(d) || d < 1 : !/^[A-Za-z_][A-Za-z0-9_]*$/.test(d))
        throw new ShapeError(`input '${name}': invalid dimension ${JSON.stringify(d)} in ${formatShape(shape)}`);
    }
    const t = this.register(this.valueNames.claim(name, this.where), dtype, shape);
    this.inputsList.push({ name, dtype, shape: [...shape] });
    return t;
  }

  /** A constant tensor stored in the model (weights) under exactly `name`. `data` may be a thunk for lazy generation. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: DataSource): Tensor {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ShapeError(`initializer '${name}': shape ${formatShape(shape)} must be non-negative integers`);
    if (typeof data !== 'function' && data.length !== numel(shape)) throw new ShapeError(`initializer '${name}': ${data.length} values for shape ${formatShape(shape)} (${numel(shape)} expected)`);
    if (!(dtype in DTYPES)) throw new ShapeError(`initializer '${name}': unknown dtype '${dtype}'`);
    return this.addInitializer(this.valueNames.claim(name, this.where), dtype, shape, data);
  }

  /** A constant whose name the graph's naming authority derives from `base` (`base`, `base_2`, ...). */
  constant(base: string, dtype: DType, shape: readonly number[], data: DataSource): Tensor {
    if (!(dtype in DTYPES)) throw new ShapeError(`constant '${base}': unknown dtype '${dtype}'`);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || (typeof data !== 'function' && data.length !== numel(shape)))
      throw new ShapeError(`constant '${base}': ${typeof data === 'function' ? '' : `${data.length} values for `}shape ${formatShape(shape)}`);
    return this.addInitializer(this.valueNames.fresh(base), dtype, shape, data);
  }

  private addInitializer(name: string, dtype: DType, shape: readonly number[], data: DataSource): Tensor {
    const t = this.register(name, dtype, shape);
    this.initIndex.set(name, this.inits.length);
    this.inits.push({ name, dtype, shape: [...shape], data });
    this.noteConst(name, dtype, shape, data);
    return t;
  }

  /** Marks `t` as a graph output, named `name` (through an Identity node when it has another name). */
  output(t: Tensor, name?: string): Tensor {
    this.own(t, 'output');
    let out = t;
    if (name !== undefined && name !== t.name) out = this.#apply(Identity, [t], {}, { label: name, output: name })[0]!;
    this.outputsList.push({ name: out.name, dtype: out.dtype, shape: [...out.shape] });
    return out;
  }

  /** The graph as plain data: nodes in the order they were added (topological), every value's type. */
  build(): GraphIR {
    return this.buildIR(false);
  }

  private buildIR(allowNoOutputs: boolean): GraphIR {
    if (this.outputsList.length === 0 && !allowNoOutputs) throw new ShapeError(`graph '${this.name}' has no outputs`);
    const io = new Set([...this.inputsList, ...this.outputsList].map((v) => v.name));
    const inits = new Set(this.inits.map((i) => i.name));
    const values: ValueInfo[] = [];
    for (const n of this.nodes)
      for (const o of n.outputs) {
        const t = this.values.get(o);
        if (io.has(o) || inits.has(o) || !t) continue;
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

  /** Package-internal operations (see INTERNAL). */
  get [INTERNAL](): ReturnType<Graph['makeInternal']> {
    return (this.internalOps ??= this.makeInternal());
  }

  private makeInternal() {
    return {
      apply: this.#apply.bind(this),
      /** build() for an edited graph, which may end with no outputs (a pass's analysis graph). */
      build: () => this.buildIR(true),
      keep: this.#keep.bind(this),
      reserve: (values: Iterable<string>, nodes: Iterable<string>) => {
        this.valueNames.reserve(values);
        this.nodeNames.reserve(nodes);
      },
      unreserve: (values: Iterable<string>, node: string) => {
        for (const v of values) if (!this.values.has(v)) this.valueNames.unreserve(v);
        this.nodeNames.unreserve(node);
      },
      raiseOpset: (opset: number) => {
        this.minOpset = Math.max(this.minOpset, opset);
      },
      tensor: (name: string) => this.values.get(name),
      replaceInitializer: (name: string, data: DataSource) => {
        const i = this.initIndex.get(name);
        const old = i === undefined ? undefined : this.inits[i];
        if (i === undefined || !old) throw new ShapeError(`graph '${this.name}' has no initializer '${name}'`);
        if (typeof data !== 'function' && data.length !== numel(old.shape)) throw new ShapeError(`initializer '${name}': ${data.length} values for shape ${formatShape(old.shape)}`);
        this.inits[i] = { ...old, data };
        this.consts.delete(name);
        this.noteConst(name, old.dtype, old.shape, data);
      },
      removeInitializer: (name: string) => {
        if (!this.initIndex.has(name)) throw new ShapeError(`graph '${this.name}' has no initializer '${name}'`);
        if (this.consumed.has(name)) throw new ShapeError(`initializer '${name}' is still used`);
        this.inits = this.inits.filter((x) => x.name !== name);
        this.initIndex = new Map(this.inits.map((x, k) => [x.name, k]));
        this.values.delete(name);
        this.consts.delete(name);
        this.valueNames.release(name);
      },
      usedNames: () => new Set([...this.consumed, ...this.outputsList.map((o) => o.name)]),
      pruneInitializers: (keep: ReadonlySet<string>) => {
        this.inits = this.inits.filter((i) => keep.has(i.name));
        this.initIndex = new Map(this.inits.map((x, k) => [x.name, k]));
      },
      setOutputs: (names: readonly string[]) => {
        this.outputsList = names.map((n) => {
          const t = this.values.get(n);
          if (!t) throw new ShapeError(`graph '${this.name}' has no value '${n}' of known type to output`);
          return { name: n, dtype: t.dtype, shape: [...t.shape] };
        });
      },
    };
  }

  private get where(): string {
    return ` in graph '${this.name}'`;
  }

  private typeOf(t: Tensor): ValueType {
    const value = this.consts.get(t.name);
    return value ? { dtype: t.dtype, shape: t.shape, value } : { dtype: t.dtype, shape: t.shape };
  }

  private noteConst(name: string, dtype: DType, shape: readonly number[], data: DataSource): void {
    if (dtype !== 'int64' || shape.length > 1 || numel(shape) > CONST_LIMIT) return;
    const d = materialize(data);
    if (d instanceof BigInt64Array) this.consts.set(name, Array.from(d, Number));
  }

  /** The one path that creates nodes: runs the definition, names the node and its outputs, records it. */
  #apply(def: OpDef, inputs: readonly (Tensor | undefined)[], attrs: Readonly<Record<string, AttrValue | undefined>>, o: NodeOptions = {}): Tensor[] {
    inputs.forEach((t) => t && this.own(t, def.op));
    const clean: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
    const { outputs, opset } = inferOp(
      def,
      inputs.map((t) => t && this.typeOf(t)),
      clean,
      o.label,
    );
    const count = (this.opCounts.get(def.op) ?? 0) + 1;
    this.opCounts.set(def.op, count);
    const nodeName = this.nodeNames.fresh(o.label ?? `${def.op}_${count}`);
    if (o.output !== undefined && outputs.length !== 1) throw new ShapeError(`${def.op} '${nodeName}': 'output' names a single output, the op has ${outputs.length}`);
    const tensors = outputs.map((out, i) => {
      const name = o.output !== undefined ? this.valueNames.claim(o.output, this.where) : this.valueNames.fresh(outputs.length === 1 ? nodeName : `${nodeName}:${i}`);
      return this.register(name, out.dtype, out.shape);
    });
    const names = inputs.map((t) => t?.name ?? '');
    while (names.length > 0 && names[names.length - 1] === '') names.pop(); // omitted optional inputs at the end
    for (const i of names) if (i) this.consumed.add(i);
    this.nodes.push({ op: def.op, name: nodeName, inputs: names, outputs: tensors.map((t) => t.name), attrs: clean });
    this.minOpset = Math.max(this.minOpset, opset);
    return tensors;
  }

  /** Re-adds a node of an edited graph: validated by its definition when graph-builder has one. */
  #keep(k: KeptNode): (Tensor | undefined)[] {
    const n = k.node;
    for (const i of n.inputs) if (i && !this.values.has(i) && !this.opaque.has(i)) throw new ShapeError(`node '${n.name}' (${n.op}): input '${i}' is not produced before it`);
    const def = opDefinition(n.op);
    let types: (OutputType | undefined)[] = [...k.declared];
    const ins = n.inputs.map((i) => (i ? this.values.get(i) : undefined));
    const known = n.inputs.every((i, j) => !i || ins[j]);
    if (def && known) {
      const inferred = inferOp(
        def,
        ins.map((t) => t && this.typeOf(t)),
        n.attrs,
        n.name,
      );
      if (inferred.outputs.length < n.outputs.length) throw new ShapeError(`node '${n.name}' (${n.op}) has ${n.outputs.length} outputs; its definition gives ${inferred.outputs.length}`);
      types = n.outputs.map((_, i) => {
        const got = inferred.outputs[i]!;
        const said = k.declared[i];
        if (said && !compatible(said, got))
          throw new ShapeError(`node '${n.name}' (${n.op}) declares output '${n.outputs[i]}' as ${said.dtype}${formatShape(said.shape)}, its inputs give ${got.dtype}${formatShape(got.shape)}`);
        return said ?? got;
      });
      this.minOpset = Math.max(this.minOpset, inferred.opset);
    } else if (!k.unchanged) {
      throw new ShapeError(`node '${n.name}': cannot change a ${n.op} node${def ? ' whose input types are unknown' : ': graph-builder has no definition of that op'}`);
    }
    if (n.name) this.nodeNames.claim(n.name, this.where);
    const out = n.outputs.map((name, i) => {
      if (!name) return undefined;
      this.valueNames.claim(name, this.where);
      const t = types[i];
      if (!t) {
        this.opaque.add(name);
        return undefined;
      }
      return this.register(name, t.dtype, t.shape);
    });
    for (const i of n.inputs) if (i) this.consumed.add(i);
    this.nodes.push(n);
    return out;
  }

  private register(name: string, dtype: DType, shape: Shape): Tensor {
    if (!(dtype in DTYPES)) throw new ShapeError(`tensor '${name}': unknown dtype '${dtype}'`);
    const t = new Tensor(this, name, dtype, Object.freeze([...shape]) as readonly Dim[]);
    this.values.set(name, t);
    return t;
  }

  private own(t: Tensor, op: string): void {
    if (t.graph !== this) throw new ShapeError(`${op}: tensor '${t.name}' belongs to graph '${t.graph.name}', not '${this.name}'`);
    if (this.values.get(t.name) !== t) throw new ShapeError(`${op}: tensor '${t.name}' was not created by graph '${this.name}'`);
  }
}

/**
 * Adds one node through its definition: checks the inputs' element types, runs the shape rule on
 * the inputs and attributes, names the node (`label`, or `<Op>_<n>`) and its output (the node's
 * name, or exactly `output`), and returns the outputs. Every op function is a thin wrapper on this;
 * call it directly for an op defined with {@link defineOp}.
 */
export function applyOp(def: OpDef, inputs: readonly (Tensor | undefined)[], attrs: Readonly<Record<string, AttrValue | undefined>> = {}, o: NodeOptions = {}): Tensor[] {
  const g = inputs.find((t) => t)?.graph;
  if (!g) throw new ShapeError(`${def.op}: needs at least one input tensor`);
  return g[INTERNAL].apply(def, inputs, attrs, o);
}

export type { Attrs };
