/** GraphIR -> ONNX ModelProto bytes (protobufjs via onnx-proto), inline or with external data. */
import { basename } from 'node:path';
import { DTYPES, materialize, numel, type AttrValue, type GraphIR, type InitializerIR, type NodeIR, type TensorData, type ValueInfo } from '@effnet/graph-builder';
import proto from 'onnx-proto';
import { AtomicFile, type AtomicOptions } from './atomic.js';

const { onnx } = proto;

export const DEFAULT_OPSET = 17;
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
/** Protobuf messages cannot exceed 2 GiB; leave room for the graph itself. */
export const INLINE_LIMIT_BYTES = 2 ** 31 - 64 * 2 ** 20;

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
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET)
    throw new ExportError(`opset ${opset} is not supported: choose ${MIN_OPSET}..${MAX_OPSET}`);
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

function checkData(init: InitializerIR, data: TensorData): void {
  if (data.length !== numel(init.shape))
    throw new ExportError(`initializer '${init.name}': ${data.length} values for shape [${init.shape.join(',')}]`);
}

type TensorWriter = (init: InitializerIR, data: TensorData) => proto.onnx.ITensorProto;

function modelProto(ir: GraphIR, o: ExportOptions, tensor: TensorWriter): proto.onnx.IModelProto {
  const opset = o.opset ?? DEFAULT_OPSET;
  checkOpset(ir, opset);
  const { nodes, extra } = adaptNodes(ir, opset);
  const initializer = [...ir.initializers, ...extra].map((init) => {
    const data = materialize(init.data);
    checkData(init, data);
    return tensor(init, data);
  });
  const meta = Object.entries(o.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    irVersion: irVersionFor(opset),
    opsetImport: [{ domain: '', version: opset }],
    producerName: o.producerName ?? 'effnet',
    producerVersion: o.producerVersion ?? '0.1.0',
    ...(o.docString ? { docString: o.docString } : {}),
    metadataProps: meta.map(([key, value]) => ({ key, value })),
    graph: {
      name: ir.name,
      node: nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        input: withoutTrailingEmpty(n.inputs),
        output: [...n.outputs],
        attribute: Object.entries(n.attrs).map(([k, a]) => attrProto(k, a)),
      })),
      initializer,
      input: ir.inputs.map(valueInfoProto),
      output: ir.outputs.map(valueInfoProto),
      valueInfo: ir.values.map(valueInfoProto),
    },
  };
}

const inlineTensor: TensorWriter = (init, data) => ({
  name: init.name,
  dims: [...init.shape],
  dataType: DTYPES[init.dtype].onnx,
  rawData: bytesOf(data),
});

/** The whole model as one ONNX protobuf, weights inline. Same IR + options → same bytes. */
export function serializeModel(ir: GraphIR, o: ExportOptions = {}): Uint8Array {
  const bytes = initializerBytes(ir);
  if (bytes > INLINE_LIMIT_BYTES)
    throw new ExportError(`graph '${ir.name}' has ${(bytes / 2 ** 30).toFixed(2)} GiB of weights, over protobuf's 2 GiB limit: use external data`);
  return onnx.ModelProto.encode(modelProto(ir, o, inlineTensor)).finish();
}

export function initializerBytes(ir: GraphIR): number {
  return ir.initializers.reduce((s, i) => s + numel(i.shape) * DTYPES[i.dtype].bytes, 0);
}

export interface WriteOptions extends ExportOptions, AtomicOptions {
  /** 'auto' (default): external only when the weights exceed the 2 GiB protobuf limit. */
  readonly externalData?: boolean | 'auto';
  /** Tensors smaller than this stay inline in external-data mode (default 1024 bytes). */
  readonly externalThreshold?: number;
}

export interface WriteResult {
  readonly path: string;
  readonly bytes: number;
  readonly dataPath?: string;
  readonly dataBytes?: number;
}

const ALIGN = 64;

/**
 * Writes the model to `path` atomically. With external data, weights stream one tensor at a time
 * into `<path>.data` (each materialized, written and dropped), so a model is never held twice.
 */
export function writeModel(ir: GraphIR, path: string, o: WriteOptions = {}): WriteResult {
  const external = o.externalData === true || ((o.externalData ?? 'auto') === 'auto' && initializerBytes(ir) > INLINE_LIMIT_BYTES);
  if (!external) {
    const bytes = serializeModel(ir, o);
    const f = new AtomicFile(path, o);
    try {
      f.write(bytes);
      f.commit();
    } catch (e) {
      f.abort();
      throw e;
    }
    return { path, bytes: bytes.length };
  }
  const dataPath = `${path}.data`;
  const location = basename(dataPath);
  const threshold = o.externalThreshold ?? 1024;
  const data = new AtomicFile(dataPath, o);
  let model: AtomicFile | undefined;
  try {
    const pad = new Uint8Array(ALIGN);
    const tensor: TensorWriter = (init, values) => {
      const raw = bytesOf(values);
      if (raw.length < threshold) return inlineTensor(init, values);
      const misalign = data.bytesWritten % ALIGN;
      if (misalign) data.write(pad.subarray(0, ALIGN - misalign));
      const offset = data.bytesWritten;
      data.write(raw);
      return {
        name: init.name,
        dims: [...init.shape],
        dataType: DTYPES[init.dtype].onnx,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ],
      };
    };
    const bytes = onnx.ModelProto.encode(modelProto(ir, o, tensor)).finish();
    model = new AtomicFile(path, o);
    model.write(bytes);
    const dataBytes = data.bytesWritten;
    data.commit();
    model.commit();
    return { path, bytes: bytes.length, dataPath, dataBytes };
  } catch (e) {
    data.abort();
    model?.abort();
    throw e;
  }
}
