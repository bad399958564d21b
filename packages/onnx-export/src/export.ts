/** GraphIR -> ONNX ModelProto bytes (protobufjs via onnx-proto), inline or with external data. */
import { createHash } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DTYPES, materialize, OptionError, numel, type AttrValue, type GraphIR, type InitializerIR, type NodeIR, type TensorData, type ValueInfo } from '@effnet/graph-builder';
import proto from 'onnx-proto';
import { AtomicFile, type AtomicOptions } from '@effnet/safe-fs';
import { EXTERNAL_DATA_KEYS } from './read.js';

const { onnx } = proto;

export const DEFAULT_OPSET = 17;
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
/** Protobuf messages cannot exceed 2 GiB; leave room for the graph itself. */
export const INLINE_LIMIT_BYTES = 2 ** 31 - 64 * 2 ** 20;
/** In external-data mode, tensors smaller than this (bytes) stay inline. */
const EXTERNAL_THRESHOLD_BYTES = 1024;

/** IR version that each opset first shipped with (onnx/helper.py VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export interface ExportOptions {
  readonly opset?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Stored as metadata_props (sorted by key, so bytes are reproducible). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export class ExportError extends Error {
  override name = 'ExportError';
}

export function checkOpset(ir: GraphIR, opset: number): void {
  if (typeof opset !== 'number') throw new OptionError('opset', `opset ${typeof opset === 'string' ? `'${opset}'` : String(opset)}: expected a number, ${MIN_OPSET}..${MAX_OPSET}`);
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new OptionError('opset', `opset ${opset} is not supported: choose ${MIN_OPSET}..${MAX_OPSET}`);
  if (opset < ir.minOpset) throw new ExportError(`graph '${ir.name}' needs opset >= ${ir.minOpset}, got ${opset}`);
}

function attrProto(name: string, a: AttrValue): proto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: Buffer.from(a.value, 'utf8') };
    default:
      throw new ExportError(`attribute '${name}': unknown kind`);
  }
}

function valueInfoProto(v: ValueInfo): proto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DTYPES[v.dtype].onnx,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Version adapters: rewrite attribute forms that later opsets moved into inputs. */
function adaptNodes(ir: GraphIR, opset: number): { nodes: NodeIR[]; extra: InitializerIR[] } {
  const extra: InitializerIR[] = [];
  const nodes = ir.nodes.map((n) => {
    if (n.op === 'ReduceMean' && opset >= 18 && n.attrs.axes?.kind === 'ints') {
      const { axes, ...rest } = n.attrs;
      const name = `${n.name}.axes`;
      extra.push({ name, dtype: 'int64', shape: [axes.value.length], data: BigInt64Array.from(axes.value.map(BigInt)) });
      return { ...n, inputs: [...n.inputs, name], attrs: rest };
    }
    return n;
  });
  return { nodes, extra };
}

/**
 * Omitted optional inputs at the end of a node's input list are left out rather than written as ''
 * (both are valid ONNX, but onnxruntime's WebGPU EP 1.30 crashes on Conv(x, w, '')).
 */
function withoutTrailingEmpty(inputs: readonly string[]): string[] {
  let end = inputs.length;
  while (end > 0 && inputs[end - 1] === '') end--;
  return inputs.slice(0, end);
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function checkData(init: InitializerIR, data: TensorData): Uint8Array {
  const bytes = bytesOf(data);
  const expected = numel(init.shape) * DTYPES[init.dtype].bytes;
  if (data.length !== numel(init.shape) || bytes.length !== expected)
    throw new ExportError(`initializer '${init.name}': ${data.length} values (${bytes.length} bytes) for ${init.dtype} shape [${init.shape.join(',')}], expected ${expected} bytes`);
  return bytes;
}

/** The model without its initializers, which are written one at a time. */
interface ModelParts {
  /** Fields of ModelProto other than graph. */
  readonly model: {
    irVersion: number;
    opsetImport: proto.onnx.IOperatorSetIdProto[];
    producerName: string;
    producerVersion: string;
    docString?: string;
    metadataProps: proto.onnx.IStringStringEntryProto[];
  };
  /** Fields of GraphProto other than initializer. */
  readonly graph: {
    name: string;
    node: proto.onnx.INodeProto[];
    input: proto.onnx.IValueInfoProto[];
    output: proto.onnx.IValueInfoProto[];
    valueInfo: proto.onnx.IValueInfoProto[];
  };
  readonly initializers: readonly InitializerIR[];
}

function modelParts(ir: GraphIR, o: ExportOptions): ModelParts {
  const opset = o.opset ?? DEFAULT_OPSET;
  checkOpset(ir, opset);
  const { nodes, extra } = adaptNodes(ir, opset);
  const meta = Object.entries(o.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    model: {
      irVersion: irVersionFor(opset),
      opsetImport: [{ domain: '', version: opset }],
      producerName: o.producerName ?? 'effnet',
      producerVersion: o.producerVersion ?? '0.1.0',
      ...(o.docString ? { docString: o.docString } : {}),
      metadataProps: meta.map(([key, value]) => ({ key, value })),
    },
    graph: {
      name: ir.name,
      node: nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        input: withoutTrailingEmpty(n.inputs),
        output: [...n.outputs],
        attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a)),
      })),
      input: ir.inputs.map(valueInfoProto),
      output: ir.outputs.map(valueInfoProto),
      valueInfo: ir.values.map(valueInfoProto),
    },
    initializers: [...ir.initializers, ...extra],
  };
}

/** Protobuf varint of a non-negative integer below 2^53. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** Key and length of a length-delimited field. */
function lengthPrefix(field: number, length: number): Uint8Array {
  return Uint8Array.from([...varint((field << 3) | 2), ...varint(length)]);
}

// Field numbers (onnx.proto): ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.raw_data = 9.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

/** A model file as a known number of bytes produced piece by piece; `tensor` marks weight data. */
interface Plan {
  readonly size: number;
  pieces(): Generator<{ readonly bytes: Uint8Array; readonly tensor: boolean }, void, void>;
}

const rawBytes = (init: InitializerIR): number => numel(init.shape) * DTYPES[init.dtype].bytes;

/**
 * The inline ModelProto, each initializer's data produced only when it is reached. protobufjs
 * writes fields in field-number order and so does this: the bytes are exactly those of
 * `ModelProto.encode(whole model)`, but no more than one tensor's data is held at a time.
 */
function inlinePlan(ir: GraphIR, o: ExportOptions): Plan {
  const initBytes = initializerBytes(ir);
  if (initBytes > INLINE_LIMIT_BYTES) throw new ExportError(`graph '${ir.name}' has ${(initBytes / 2 ** 30).toFixed(2)} GiB of weights, over protobuf's 2 GiB limit: use external data`);
  const parts = modelParts(ir, o);
  const { opsetImport, metadataProps, ...head } = parts.model;
  const { node, name, ...graphRest } = parts.graph;
  const modelHead = onnx.ModelProto.encode(head).finish(); // fields 1..6
  const modelTail = onnx.ModelProto.encode({ opsetImport, metadataProps }).finish(); // 8, 14
  const graphHead = onnx.GraphProto.encode({ node, name }).finish(); // 1, 2
  const graphTail = onnx.GraphProto.encode(graphRest).finish(); // 11..13
  const tensors = parts.initializers.map((init) => {
    const header = onnx.TensorProto.encode({ dims: [...init.shape], dataType: DTYPES[init.dtype].onnx, name: init.name }).finish(); // 1, 2, 8
    const rawPrefix = lengthPrefix(TENSOR_RAW_DATA, rawBytes(init));
    const size = header.length + rawPrefix.length + rawBytes(init);
    return { init, prefix: Buffer.concat([lengthPrefix(GRAPH_INITIALIZER, size), header, rawPrefix]) };
  });
  const graphSize = graphHead.length + graphTail.length + tensors.reduce((s, t) => s + t.prefix.length + rawBytes(t.init), 0);
  const graphPrefix = lengthPrefix(MODEL_GRAPH, graphSize);
  return {
    size: modelHead.length + graphPrefix.length + graphSize + modelTail.length,
    *pieces() {
      yield { bytes: Buffer.concat([modelHead, graphPrefix, graphHead]), tensor: false };
      for (const t of tensors) {
        yield { bytes: t.prefix, tensor: false };
        yield { bytes: checkData(t.init, materialize(t.init.data)), tensor: true };
      }
      yield { bytes: Buffer.concat([graphTail, modelTail]), tensor: false };
    },
  };
}

/** The whole model as one ONNX protobuf, weights inline. Same IR + options → same bytes. */
export function serializeModel(ir: GraphIR, o: ExportOptions = {}): Uint8Array {
  const plan = inlinePlan(ir, o);
  const out = new Uint8Array(plan.size);
  let at = 0;
  for (const { bytes } of plan.pieces()) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export function initializerBytes(ir: GraphIR): number {
  return ir.initializers.reduce((s, i) => s + rawBytes(i), 0);
}

export interface WriteOptions extends ExportOptions, AtomicOptions {
  /** 'auto' (default): external only when the weights exceed the 2 GiB protobuf limit. */
  readonly externalData?: boolean | 'auto';
  /** Tensors smaller than this stay inline in external-data mode (default EXTERNAL_THRESHOLD_BYTES, 1024). */
  readonly externalThreshold?: number;
  /**
   * Compare the size to be written with the target file system's free space first and fail,
   * writing nothing, when it does not fit (default true). Turn off where statfs misleads
   * (compressing or network file systems).
   */
  readonly checkFreeSpace?: boolean;
}

export interface WriteResult {
  readonly path: string;
  readonly bytes: number;
  readonly dataPath?: string;
  readonly dataBytes?: number;
}

const ALIGN = 64;

export class InsufficientSpaceError extends ExportError {
  override name = 'InsufficientSpaceError';
}

const gib = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);

/**
 * The bytes a model will take on disk, without encoding it: inline, the weights plus a generous
 * allowance for the graph (a little above the real size); with external data, the data file
 * exactly (tensors of at least `externalThreshold` bytes, 64-byte aligned) and the model file
 * estimated the same way.
 */
export function estimateModelSize(ir: GraphIR, o: WriteOptions = {}): { external: boolean; bytes: number; dataBytes: number } {
  const weights = initializerBytes(ir);
  const external = o.externalData === true || ((o.externalData ?? 'auto') === 'auto' && weights > INLINE_LIMIT_BYTES);
  const graph = 64 * 1024 + ir.nodes.length * 256 + ir.values.length * 128;
  if (!external) return { external, bytes: weights + graph + ir.initializers.length * 128, dataBytes: 0 };
  const threshold = o.externalThreshold ?? EXTERNAL_THRESHOLD_BYTES;
  let dataBytes = 0;
  let inline = 0;
  for (const i of ir.initializers) {
    const b = rawBytes(i);
    if (b < threshold) inline += b;
    else dataBytes = Math.ceil(dataBytes / ALIGN) * ALIGN + b;
  }
  return { external, bytes: graph + inline + ir.initializers.length * 192, dataBytes };
}

/** Fails (nothing written) when the file system holding `path` has less free space than needed. */
function checkFreeSpace(path: string, needed: number, o: WriteOptions): void {
  if (o.checkFreeSpace === false) return;
  let free: number;
  try {
    const fs = statfsSync(dirname(path));
    free = fs.bavail * fs.bsize;
  } catch {
    return; // the folder's own errors are reported by the writer, naming the path
  }
  if (needed > free) throw new InsufficientSpaceError(`${path}: the model needs ${gib(needed)} but only ${gib(free)} is free there`);
}

/**
 * The steps of writing a model; the generator yields wherever the caller may pause (after each
 * tensor, and once between flushing and publishing the files). Both files are opened first, so
 * an existing or unwritable target fails before any work.
 */
function* writeSteps(ir: GraphIR, path: string, o: WriteOptions): Generator<void, WriteResult, void> {
  const estimate = estimateModelSize(ir, o);
  const external = estimate.external;
  if (!external) {
    const plan = inlinePlan(ir, o);
    checkFreeSpace(path, plan.size, o);
    const f = new AtomicFile(path, o);
    try {
      for (const p of plan.pieces()) {
        f.write(p.bytes);
        if (p.tensor) yield;
      }
      f.close();
      yield;
      f.commit();
    } catch (e) {
      f.abort();
      throw e;
    }
    return { path, bytes: plan.size };
  }
  const dataPath = `${path}.data`;
  const location = basename(dataPath);
  const threshold = o.externalThreshold ?? EXTERNAL_THRESHOLD_BYTES;
  const parts = modelParts(ir, o);
  checkFreeSpace(path, estimate.bytes + estimate.dataBytes, o);
  const model = new AtomicFile(path, o);
  let data: AtomicFile | undefined;
  const hash = createHash('sha256');
  try {
    data = new AtomicFile(dataPath, o);
    const d = data;
    const write = (b: Uint8Array): void => {
      d.write(b);
      hash.update(b);
    };
    const pad = new Uint8Array(ALIGN);
    const initializer: proto.onnx.ITensorProto[] = [];
    for (const init of parts.initializers) {
      const raw = checkData(init, materialize(init.data));
      const tensor: proto.onnx.ITensorProto = { name: init.name, dims: [...init.shape], dataType: DTYPES[init.dtype].onnx };
      if (raw.length < threshold) {
        initializer.push({ ...tensor, rawData: raw });
        continue;
      }
      const misalign = data.bytesWritten % ALIGN;
      if (misalign) write(pad.subarray(0, ALIGN - misalign));
      const offset = data.bytesWritten;
      write(raw);
      initializer.push({
        ...tensor,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ],
      });
      yield;
    }
    const dataBytes = data.bytesWritten;
    // The data file's size and checksum, so that readers refuse another export's data file (a
    // kill between the two renames below, or two concurrent writers, could leave such a pair).
    const metadataProps = [
      ...parts.model.metadataProps.filter((p) => !Object.values(EXTERNAL_DATA_KEYS).includes(p.key as never)),
      { key: EXTERNAL_DATA_KEYS.bytes, value: String(dataBytes) },
      { key: EXTERNAL_DATA_KEYS.file, value: location },
      { key: EXTERNAL_DATA_KEYS.sha256, value: hash.digest('hex') },
    ].sort((a, b) => (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : 0));
    const bytes = onnx.ModelProto.encode({ ...parts.model, metadataProps, graph: { ...parts.graph, initializer } }).finish();
    model.write(bytes);
    data.close();
    model.close();
    yield;
    data.commit(); // the data first: a model file never refers to a missing data file
    model.commit();
    return { path, bytes: bytes.length, dataPath, dataBytes };
  } catch (e) {
    data?.abort();
    model.abort();
    throw e;
  }
}

/**
 * Writes the model to `path` atomically. Inline weights are encoded and written one tensor at a
 * time; with external data they stream into `<path>.data` the same way. Either way a model is
 * never held in memory whole.
 */
export function writeModel(ir: GraphIR, path: string, o: WriteOptions = {}): WriteResult {
  const steps = writeSteps(ir, path, o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * writeModel that lets the event loop run between tensors, so that Ctrl-C or SIGTERM during a long
 * export is handled at once (the temporary files are removed and nothing appears at `path`)
 * instead of after the whole model is written.
 */
export async function writeModelAsync(ir: GraphIR, path: string, o: WriteOptions = {}): Promise<WriteResult> {
  const steps = writeSteps(ir, path, o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
