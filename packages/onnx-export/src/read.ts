/**
 * Reads an ONNX file into the same plain GraphIR the builder produces. Every size, offset and
 * name from the file is treated as untrusted: malformed protobuf, unknown element types and
 * external-data references outside the model's directory or beyond the data file are rejected
 * with an error naming the file and tensor. Tensor data is read lazily.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { DTYPES, dtypeFromOnnx, type AttrValue, type DType, type Dim, type GraphIR, type InitializerIR, type NodeIR, type TensorData, type ValueInfo } from '@effnet/graph-builder';
import proto from 'onnx-proto';
import { FileTypeError, openRegularFile } from '@effnet/safe-fs';

const { onnx } = proto;

/**
 * Metadata keys effnet writes into a model with external data, naming the data file it was written
 * with, its size and sha256: a model never runs with another export's data file.
 */
export const EXTERNAL_DATA_KEYS = {
  file: 'effnet.external_data.file',
  bytes: 'effnet.external_data.bytes',
  sha256: 'effnet.external_data.sha256',
} as const;

export class ModelReadError extends Error {
  override name = 'ModelReadError';
}

export interface LoadedModel {
  readonly path: string;
  readonly ir: GraphIR;
  readonly irVersion: number;
  readonly opset: number;
  readonly opsets: readonly { domain: string; version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Total bytes of the .onnx file plus any external data files. */
  readonly fileBytes: number;
  readonly externalData: readonly string[];
}

/** Largest .onnx protobuf we accept (protobuf's own limit). */
const MAX_MODEL_BYTES = 2 ** 31;

type Long = number | { toNumber(): number };
function num(v: Long | null | undefined, what: string): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : v.toNumber();
  if (!Number.isSafeInteger(n)) throw new ModelReadError(`${what}: ${String(v)} is not a safe integer`);
  return n;
}

function elemType(code: number | null | undefined, what: string): DType {
  try {
    return dtypeFromOnnx(code ?? 0);
  } catch {
    throw new ModelReadError(`${what}: unsupported element type ${code ?? 0}`);
  }
}

function valueInfo(v: proto.onnx.IValueInfoProto, file: string): ValueInfo {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  if (!tt) throw new ModelReadError(`${file}: value '${name}' is not a tensor`);
  const shape: Dim[] = (tt.shape?.dim ?? []).map((d, i) =>
    d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? num(d.dimValue as Long, `${file}: '${name}' dim ${i}`) : `?${i}`,
  );
  return { name, dtype: elemType(tt.elemType, `${file}: value '${name}'`), shape };
}

function attr(a: proto.onnx.IAttributeProto): AttrValue {
  const T = onnx.AttributeProto.AttributeType;
  const what = `attribute '${a.name}'`;
  switch (a.type) {
    case T.INT:
      return { kind: 'int', value: num(a.i as Long, what) };
    case T.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map((v) => num(v as Long, what)) };
    case T.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case T.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case T.STRING:
      return { kind: 'string', value: Buffer.from(a.s ?? []).toString('utf8') };
    default:
      return { kind: 'unsupported', type: a.type ?? 0 };
  }
}

const TYPED: Partial<Record<DType, new (buf: ArrayBuffer) => TensorData>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

function fromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new TYPED[dtype]!(copy.buffer);
}

function checkedNumel(dims: readonly number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (d < 0) throw new ModelReadError(`${what}: negative dimension in [${dims.join(',')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new ModelReadError(`${what}: shape [${dims.join(',')}] is too large`);
  return n;
}

function initializer(t: proto.onnx.ITensorProto, file: string, baseDir: string, external: Set<string>): InitializerIR {
  const name = t.name ?? '';
  const what = `${file}: initializer '${name}'`;
  const dtype = elemType(t.dataType, what);
  const shape = (t.dims ?? []).map((d) => num(d as Long, what));
  const n = checkedNumel(shape, what);
  const bytes = n * DTYPES[dtype].bytes;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location') ?? '';
    const offset = Number(kv.get('offset') ?? '0');
    const length = kv.has('length') ? Number(kv.get('length')) : bytes;
    if (!location || isAbsolute(location) || normalize(location).split(sep).includes('..'))
      throw new ModelReadError(`${what}: external data location '${location}' must be a relative path inside the model's directory`);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length !== bytes)
      throw new ModelReadError(`${what}: external data offset ${offset} / length ${length} invalid (expected ${bytes} bytes)`);
    const path = join(baseDir, location);
    const size = externalFile(path, baseDir, what);
    if (offset + length > size) throw new ModelReadError(`${what}: external data [${offset}, ${offset + length}) is beyond the end of '${path}' (${size} bytes)`);
    external.add(path);
    return {
      name,
      dtype,
      shape,
      data: () => {
        const { fd } = openExternal(path, what);
        try {
          const seen = verifiedData.get(resolve(path));
          if (seen !== undefined && statKey(fstatSync(fd)) !== seen) throw new ModelReadError(`${what}: external data file '${path}' changed after it was checked`);
          const buf = new Uint8Array(length);
          let got = 0;
          while (got < length) {
            const r = readSync(fd, buf, got, length - got, offset + got);
            if (r === 0) throw new ModelReadError(`${what}: external data file '${path}' is shorter than expected`);
            got += r;
          }
          return fromBytes(dtype, buf);
        } finally {
          closeSync(fd);
        }
      },
    };
  }
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== bytes) throw new ModelReadError(`${what}: raw_data has ${t.rawData.length} bytes, shape [${shape.join(',')}] of ${dtype} needs ${bytes}`);
    const raw = t.rawData;
    return { name, dtype, shape, data: () => fromBytes(dtype, raw) };
  }
  // Typed fields (float_data, int64_data, ...).
  const typed = dtype === 'float32' ? t.floatData : dtype === 'float64' ? t.doubleData : dtype === 'int64' ? t.int64Data : t.int32Data;
  const values = [...(typed ?? [])];
  if (values.length !== n) throw new ModelReadError(`${what}: ${values.length} values stored, shape [${shape.join(',')}] needs ${n}`);
  const data = (): TensorData => {
    switch (dtype) {
      case 'float32':
        return Float32Array.from(values as number[]);
      case 'float64':
        return Float64Array.from(values as number[]);
      case 'int64':
        return BigInt64Array.from(values.map((v) => BigInt(num(v as Long, what))));
      case 'float16':
      case 'bfloat16':
        return Uint16Array.from(values as number[]);
      case 'int32':
        return Int32Array.from(values as number[]);
      case 'int8':
        return Int8Array.from(values as number[]);
      default:
        return Uint8Array.from(values as number[]);
    }
  };
  return { name, dtype, shape, data };
}

function openExternal(path: string, what: string): { fd: number; size: number } {
  try {
    return openRegularFile(path, 'external data file');
  } catch (e) {
    if (e instanceof FileTypeError) throw new ModelReadError(`${what}: ${e.message}`);
    throw e;
  }
}

/**
 * The size of an external data file, which must be a regular file whose real path (symlinks
 * resolved) lies inside the model's real directory, as onnxruntime requires.
 */
function externalFile(path: string, baseDir: string, what: string): number {
  let real: string;
  let realBase: string;
  try {
    real = realpathSync(path);
    realBase = realpathSync(baseDir);
  } catch {
    throw new ModelReadError(`${what}: external data file '${path}' not found`);
  }
  if (!real.startsWith(realBase.endsWith(sep) ? realBase : realBase + sep))
    throw new ModelReadError(`${what}: external data file '${path}' resolves to '${real}', outside the model's directory '${realBase}' (onnxruntime refuses it too)`);
  const { fd, size } = openExternal(path, what);
  closeSync(fd);
  return size;
}

/** Identity of a file's current contents as far as stat can tell (a replaced file has a new inode). */
const statKey = (st: Stats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
/** Data files whose checksum matched, by absolute path → statKey at the time. */
const verifiedData = new Map<string, string>();

/**
 * Checks a data file against the size and sha256 its model recorded (EXTERNAL_DATA_KEYS); a data
 * file unchanged (same inode, size, mtime) since an earlier check is not hashed again.
 */
function verifyDataFile(model: string, path: string, bytes: number, sha256: string): void {
  const { fd, size } = openExternal(path, `${model}: external data`);
  try {
    const key = statKey(fstatSync(fd));
    if (verifiedData.get(resolve(path)) === key) return;
    const mismatch = (found: string) =>
      new ModelReadError(
        `${model}: external data file '${path}' is not the one this model was written with (expected ${bytes} bytes, sha256 ${sha256.slice(0, 16)}…; found ${found}): the two files come from different exports, export the model again`,
      );
    if (size !== bytes) throw mismatch(`${size} bytes`);
    const hash = createHash('sha256');
    const buf = new Uint8Array(Math.min(size, 8 << 20));
    for (let at = 0; at < size;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
      if (n === 0) throw mismatch(`a file shorter than its size`);
      hash.update(buf.subarray(0, n));
      at += n;
    }
    const got = hash.digest('hex');
    if (got !== sha256) throw mismatch(`sha256 ${got.slice(0, 16)}…`);
    verifiedData.set(resolve(path), key);
  } finally {
    closeSync(fd);
  }
}

function verifyExternal(path: string, metadata: Readonly<Record<string, string>>, external: ReadonlySet<string>): void {
  const file = metadata[EXTERNAL_DATA_KEYS.file];
  if (file === undefined) return; // not written by effnet (or without external data): nothing recorded to check
  const bytes = Number(metadata[EXTERNAL_DATA_KEYS.bytes]);
  const sha256 = metadata[EXTERNAL_DATA_KEYS.sha256] ?? '';
  if (!Number.isSafeInteger(bytes) || !/^[0-9a-f]{64}$/.test(sha256)) throw new ModelReadError(`${path}: metadata ${EXTERNAL_DATA_KEYS.bytes} / ${EXTERNAL_DATA_KEYS.sha256} are malformed`);
  const dataPath = join(dirname(path), file);
  if (!external.has(dataPath)) throw new ModelReadError(`${path}: metadata names external data file '${file}', which no tensor uses`);
  verifyDataFile(path, dataPath, bytes, sha256);
}

/** Decodes ONNX bytes. `path` names the file in errors and anchors external data. */
export function decodeModel(bytes: Uint8Array, path = '<bytes>'): LoadedModel {
  let m: proto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelReadError(`${path}: not a valid ONNX model (${(e as Error).message})`);
  }
  const g = m.graph;
  if (!g) throw new ModelReadError(`${path}: ONNX model has no graph`);
  const external = new Set<string>();
  const baseDir = dirname(path);
  const initializers = (g.initializer ?? []).map((t) => initializer(t, path, baseDir, external));
  const initNames = new Set(initializers.map((i) => i.name));
  const nodes: NodeIR[] = (g.node ?? []).map((n, i) => ({
    op: n.domain ? `${n.domain}.${n.opType ?? ''}` : (n.opType ?? ''),
    name: n.name || `${n.opType ?? 'node'}_${i}`,
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attrs: Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', attr(a)])),
  }));
  const opsets = (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: num(o.version as Long, `${path}: opset`) }));
  const opset = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  const ir: GraphIR = {
    name: g.name ?? 'main',
    // Older exporters list initializers among the inputs; those are not real inputs.
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map((v) => valueInfo(v, path)),
    outputs: (g.output ?? []).map((v) => valueInfo(v, path)),
    nodes,
    initializers,
    values: (g.valueInfo ?? []).filter((v) => v.type?.tensorType).map((v) => valueInfo(v, path)),
    minOpset: opset,
  };
  const metadata = Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  verifyExternal(path, metadata, external);
  const fileBytes = bytes.length + [...external].reduce((s, p) => s + statSync(p).size, 0);
  return {
    path,
    ir,
    irVersion: num(m.irVersion as Long, `${path}: ir_version`),
    opset,
    opsets,
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    docString: m.docString ?? '',
    metadata,
    fileBytes,
    externalData: [...external],
  };
}

export function readModel(path: string): LoadedModel {
  let file: { fd: number; size: number };
  try {
    file = openRegularFile(path, 'model');
  } catch (e) {
    if (e instanceof FileTypeError) throw new ModelReadError(e.message);
    throw e;
  }
  const bytes = new Uint8Array(file.size <= MAX_MODEL_BYTES ? file.size : 0);
  let key: string;
  try {
    key = statKey(fstatSync(file.fd));
    if (file.size > MAX_MODEL_BYTES) throw new ModelReadError(`${path}: ${file.size} bytes is over the 2 GiB protobuf limit`);
    for (let got = 0; got < bytes.length;) {
      const n = readSync(file.fd, bytes, got, bytes.length - got, got);
      if (n === 0) throw new ModelReadError(`${path}: file shrank while it was being read`);
      got += n;
    }
  } finally {
    closeSync(file.fd);
  }
  const model = decodeModel(bytes, path);
  const data = model.externalData.flatMap((p): [string, string][] => {
    const k = verifiedData.get(resolve(p));
    return k === undefined ? [] : [[p, k]];
  });
  if (data.length === (model.metadata[EXTERNAL_DATA_KEYS.file] === undefined ? 0 : 1)) checkedModels.set(resolve(path), { key, data });
  return model;
}

/** Model files read whole by readModel: absolute path → statKey then and their checked data files. */
const checkedModels = new Map<string, { key: string; data: [string, string][] }>();

/**
 * Checks, before a model file is handed to onnxruntime by path, that its external data (if effnet
 * wrote it) is the data file it was written with: same size and sha256. Throws ModelReadError
 * naming both files otherwise. Cheap when nothing changed since readModel checked it.
 */
export function verifyExternalData(modelPath: string): void {
  const seen = checkedModels.get(resolve(modelPath));
  try {
    if (seen && statKey(statSync(modelPath)) === seen.key && seen.data.every(([p, k]) => statKey(statSync(p)) === k)) return;
  } catch {
    // fall through: readModel names what is missing
  }
  readModel(modelPath);
}
