/**
 * Op definitions: the one way a node gets into a graph. A definition names the ONNX op (type,
 * domain, the opset its form needs), declares its inputs with their allowed element types, and has
 * a pure rule that validates the attributes and computes every output's dtype and shape from the
 * input types. Nodes are added only by {@link applyOp} (op functions, passes through GraphEditor),
 * which runs the definition first, so a node's declared outputs always follow from its inputs.
 */
import { isFloat, type DType } from './dtype.js';
import { ShapeError } from './errors.js';
import type { AttrValue, Shape } from './ir.js';
import { formatShape } from './ir.js';
import { ShapeRuleError } from './shapes.js';

/** What a rule knows of an input: its type, and its contents when it is a small int64 constant. */
export interface ValueType {
  readonly dtype: DType;
  readonly shape: Shape;
  /** Contents of an int64 initializer given as data (not a thunk); lets Reshape/Slice infer shapes. */
  readonly value?: readonly number[];
}

export interface OutputType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export type Attrs = Readonly<Record<string, AttrValue>>;

/** Allowed element types of an input: a class of types or an explicit list. */
export type TypeConstraint = 'float' | 'numeric' | 'any' | 'int8' | readonly DType[];

export interface InputSpec {
  /** Shown in errors ('input', 'weight', 'A', ...). */
  readonly name: string;
  /** Type variable: inputs with the same variable must have the same dtype ('T' by default). */
  readonly type?: string;
  readonly optional?: boolean;
  /** The last input may repeat (Concat). */
  readonly variadic?: boolean;
}

export interface OpSpec {
  /** ONNX op type, e.g. 'Conv'. */
  readonly op: string;
  /** Lowest opset of `domain` in which the form graph-builder writes is valid. */
  readonly sinceOpset: number;
  readonly inputs: readonly InputSpec[];
  /** Allowed dtypes per type variable ('T' → 'float' unless given). */
  readonly types?: Readonly<Record<string, TypeConstraint>>;
  /** Pure rule: validates attributes and input shapes, returns the outputs. Throw ShapeRuleError to reject. */
  readonly infer: (inputs: readonly (ValueType | undefined)[], attrs: Attrs) => readonly OutputType[];
  /** A higher opset some forms need (e.g. a per-channel axis), computed from the node. */
  readonly opsetFor?: (inputs: readonly (ValueType | undefined)[], attrs: Attrs) => number;
}

export interface OpDef extends Required<Omit<OpSpec, 'opsetFor' | 'types'>> {
  /** Operator-set domain: '' is ai.onnx, the one domain graphs are written with. */
  readonly domain: '';
  readonly types: Readonly<Record<string, TypeConstraint>>;
  readonly opsetFor?: OpSpec['opsetFor'];
}

const registry = new Map<string, OpDef>();
const key = (domain: string, op: string) => `${domain}::${op}`;

/**
 * Defines and registers an ai.onnx op. Each op type may be defined once, so the definitions
 * graph-builder ships (Conv, Relu, ...) cannot be replaced by a looser rule.
 */
export function defineOp(spec: OpSpec): OpDef {
  const domain = '';
  if (!/^[A-Z][A-Za-z0-9]*$/.test(spec.op)) throw new ShapeError(`op type '${spec.op}' must be an ONNX op name (e.g. 'Conv')`);
  if (registry.has(key(domain, spec.op))) throw new ShapeError(`op ${spec.op} is already defined`);
  if (!Number.isInteger(spec.sinceOpset) || spec.sinceOpset < 1) throw new ShapeError(`op ${spec.op}: sinceOpset must be a positive integer`);
  const def: OpDef = Object.freeze({ ...spec, domain, types: spec.types ?? {} });
  registry.set(key(domain, spec.op), def);
  return def;
}

/** The definition of an op type, or undefined when graph-builder does not know it. */
export function opDefinition(op: string, domain = ''): OpDef | undefined {
  return registry.get(key(domain, op));
}

/** Every registered definition, sorted by domain and op type. */
export function opDefinitions(): OpDef[] {
  return [...registry.values()].sort((a, b) => key(a.domain, a.op).localeCompare(key(b.domain, b.op)));
}

const NUMERIC: readonly DType[] = ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int8', 'uint8'];

function allowed(c: TypeConstraint, d: DType): boolean {
  if (c === 'any') return true;
  if (c === 'float') return isFloat(d);
  if (c === 'numeric') return NUMERIC.includes(d);
  if (c === 'int8') return d === 'int8' || d === 'uint8';
  return c.includes(d);
}

function describeConstraint(c: TypeConstraint): string {
  if (c === 'float') return 'a float tensor';
  if (c === 'numeric') return 'a numeric tensor';
  if (c === 'int8') return 'an int8 or uint8 tensor';
  if (c === 'any') return 'a tensor';
  return c.length === 1 ? `a ${c[0]} tensor` : `one of ${c.join(', ')}`;
}

export function describeNode(op: string, label: string | undefined): string {
  return label ? `${op} '${label}'` : op;
}

export interface Inferred {
  readonly outputs: readonly OutputType[];
  readonly opset: number;
}

/**
 * Runs a definition on input types and attributes: checks input count and element types, then the
 * shape rule. Errors become a ShapeError naming the op, its label and every input shape.
 */
export function inferOp(def: OpDef, inputs: readonly (ValueType | undefined)[], attrs: Attrs, label?: string): Inferred {
  const who = describeNode(def.op, label);
  const specs = def.inputs;
  const last = specs[specs.length - 1];
  if (inputs.length > specs.length && !last?.variadic) throw new ShapeError(`${who}: takes at most ${specs.length} inputs, got ${inputs.length}`);
  const named: [string, ValueType][] = [];
  const firstOfType = new Map<string, [string, DType]>();
  const count = Math.max(inputs.length, specs.length);
  for (let i = 0; i < count; i++) {
    const spec = specs[Math.min(i, specs.length - 1)]!;
    const name = spec.variadic ? `${spec.name}${i - specs.length + 1}` : spec.name;
    const t = inputs[i];
    if (!t) {
      if (!spec.optional && !(spec.variadic && i >= specs.length)) throw new ShapeError(`${who}: input ${name} is required`);
      continue;
    }
    named.push([name, t]);
    const tv = spec.type ?? 'T';
    const c = def.types[tv] ?? 'float';
    if (!allowed(c, t.dtype)) throw new ShapeError(`${who}: ${name} must be ${describeConstraint(c)}, got ${t.dtype}`);
    const first = firstOfType.get(tv);
    if (!first) firstOfType.set(tv, [name, t.dtype]);
    else if (first[1] !== t.dtype) throw new ShapeError(`${who}: ${name} is ${t.dtype} but ${first[0]} is ${first[1]}`);
  }
  try {
    const outputs = def.infer(inputs, attrs);
    return { outputs, opset: Math.max(def.sinceOpset, def.opsetFor?.(inputs, attrs) ?? 0) };
  } catch (e) {
    if (!(e instanceof ShapeRuleError)) throw e;
    const shapes = named.map(([k, t]) => `${k} ${formatShape(t.shape)}`).join(', ');
    throw new ShapeError(`${who}: ${e.message}${shapes ? ` (${shapes})` : ''}`);
  }
}

// ------------------------------------------------------------------ attribute helpers for rules

function fail(msg: string): never {
  throw new ShapeRuleError(msg);
}

export function attrInt(attrs: Attrs, name: string, dflt: number): number {
  const a = attrs[name];
  if (a === undefined) return dflt;
  if (a.kind !== 'int') fail(`attribute ${name} must be an int`);
  return a.value;
}

export function attrFloat(attrs: Attrs, name: string, dflt: number): number {
  const a = attrs[name];
  if (a === undefined) return dflt;
  if (a.kind !== 'float') fail(`attribute ${name} must be a float`);
  return a.value;
}

export function attrInts(attrs: Attrs, name: string): readonly number[] | undefined {
  const a = attrs[name];
  if (a === undefined) return undefined;
  if (a.kind !== 'ints') fail(`attribute ${name} must be a list of ints`);
  return a.value;
}

export function attrString(attrs: Attrs, name: string, dflt: string): string {
  const a = attrs[name];
  if (a === undefined) return dflt;
  if (a.kind !== 'string') fail(`attribute ${name} must be a string`);
  return a.value;
}

/** The contents of a constant int64 input a rule needs (Reshape's shape, Slice's starts, ...). */
export function constInput(t: ValueType | undefined, what: string): readonly number[] {
  if (!t) fail(`${what} is required`);
  if (t.dtype !== 'int64') fail(`${what} must be int64, got ${t.dtype}`);
  if (t.shape.length !== 1) fail(`${what} must be 1-D, got ${formatShape(t.shape)}`);
  if (!t.value) fail(`${what} must be a constant (an int64 initializer with data)`);
  return t.value;
}
