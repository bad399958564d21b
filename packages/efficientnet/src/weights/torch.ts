/**
 * PyTorch checkpoints (`.pth`, `.pt`, `.bin`) written by `torch.save`, read without Python and with
 * the guarantees of `torch.load(weights_only=True)`: the pickle may only name tensors, storages,
 * OrderedDict and plain containers and numbers; any other global is refused with one line naming
 * it, before anything else is read, and nothing from the file is ever run.
 *
 * Both serializations: the zip archive of PyTorch ≥ 1.6 (`ARCHIVE/data.pkl` + one entry per
 * storage, `ARCHIVE/data/KEY`) and the pre-1.6 stream (magic number, protocol, system info, the
 * object, the storage keys, then each storage's bytes). Tensors are views (offset, shape, stride)
 * of storages, possibly sharing one; they are read on demand, gathered into contiguous arrays.
 *
 * The state dict is the dict of tensors under `state_dict`, `model` or `model_state_dict` (a
 * training checkpoint), else the top-level dict; `module.` prefixes are handled by the naming.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from '@effnet/graph-builder';
import { PickleError, PyCallable, PyDict, PyTuple, unpickle, type PyValue } from './pickle.js';
import { looksLikeZip, ZipError, ZipReader } from './zip.js';

export class TorchCheckpointError extends Error {
  override name = 'TorchCheckpointError';
}

/** dtype names as safetensors writes them (the names effnet's weight readers share). */
export type TorchDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const STORAGES: Readonly<Record<string, TorchDtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** torch dtypes by their attribute name (`torch.float32`), for `_rebuild_tensor_v3`. */
const DTYPES: Readonly<Record<string, TorchDtype>> = {
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  double: 'F64',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  short: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

const ELEMENT_BYTES: Readonly<Record<TorchDtype, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The dtypes whose tensors become float32 model weights (converted exactly, float64 rounded once). */
export const TORCH_FLOAT_DTYPES: readonly TorchDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** Keys under which training checkpoints keep the weights, in the order they are looked for. */
export const CHECKPOINT_KEYS = ['state_dict', 'model', 'model_state_dict'] as const;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

class StorageType {
  constructor(readonly dtype: TorchDtype) {}
}

interface Storage {
  readonly key: string;
  readonly dtype: TorchDtype;
  readonly numel: number;
  /** Extra element offset (legacy storage views). */
  readonly offset: number;
}

class TorchTensor {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export interface TorchTensorInfo {
  readonly name: string;
  readonly dtype: TorchDtype;
  readonly shape: readonly number[];
}

const REFUSED =
  'a weights file may only hold tensors, storages, OrderedDict and plain containers and numbers (what torch.load(weights_only=True) accepts); ' +
  'nothing from the file was run. Re-save the state_dict alone: torch.save(model.state_dict(), path)';

const isIndex = (v: PyValue): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIndexTuple = (v: PyValue): v is PyTuple => v instanceof PyTuple && v.items.every(isIndex);

/** The allow-list: each name maps to a plain function building plain values. */
function allowedGlobal(label: string, module: string, name: string): PyValue | undefined {
  const bad = (msg: string): never => {
    throw new TorchCheckpointError(`${label}: ${module}.${name}: ${msg}`);
  };
  const qual = `${module}.${name}`;
  if (module === 'torch' && Object.hasOwn(STORAGES, name)) return new StorageType(STORAGES[name]!);
  if (module === 'torch' && Object.hasOwn(DTYPES, name)) return DTYPES[name]!;
  const rebuild = (args: readonly PyValue[], dtypeAt?: number): TorchTensor => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Object) || !('key' in (storage as object))) bad('the first argument is not a storage');
    if (!isIndex(offset!) || !isIndexTuple(size!) || !isIndexTuple(stride!)) bad('storage offset, size and stride must be non-negative integers');
    const s = size as PyTuple;
    const st = stride as PyTuple;
    if (s.items.length !== st.items.length) bad(`size ${s.items.length}-d but stride ${st.items.length}-d`);
    let store = storage as Storage;
    if (dtypeAt !== undefined) {
      const d = args[dtypeAt];
      if (typeof d !== 'string' || !Object.values(DTYPES).includes(d as TorchDtype)) bad('unknown dtype');
      store = { ...store, dtype: d as TorchDtype };
    }
    return new TorchTensor(store, offset as number, s.items as number[], st.items as number[]);
  };
  switch (qual) {
    case 'collections.OrderedDict':
      return new PyCallable(qual, (args) => {
        const d = new PyDict();
        const items = args[0];
        if (args.length === 0) return d;
        if (!Array.isArray(items)) return bad('expects a list of pairs');
        for (const pair of items as PyValue[]) {
          if (!(pair instanceof PyTuple) || pair.items.length !== 2) bad('expects (key, value) pairs');
          d.map.set((pair as PyTuple).items[0] as string, (pair as PyTuple).items[1]!);
        }
        return d;
      });
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      return new PyCallable(qual, (args) => rebuild(args));
    case 'torch._utils._rebuild_tensor_v3':
      return new PyCallable(qual, (args) => rebuild(args, 6));
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return new PyCallable(qual, (args) => (args[0] instanceof TorchTensor ? args[0] : bad('expects a tensor')));
    case 'torch.Size':
      return new PyCallable(qual, (args) => (args[0] instanceof PyTuple ? args[0] : new PyTuple([])));
    case '_codecs.encode':
      // Protocol 2 pickles bytes as _codecs.encode(str, 'latin1').
      return new PyCallable(qual, (args) => {
        const [s, enc] = args;
        if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) return bad("expects (str, 'latin1')");
        return Uint8Array.from(s as string, (c) => c.charCodeAt(0) & 0xff);
      });
    default:
      return undefined;
  }
}

/** Where storages' bytes live: zip entries, or ranges of the legacy stream. */
interface StorageBytes {
  read(storage: Storage, firstElement: number, elements: number): Uint8Array;
}

function storagePid(label: string, pid: PyValue, storages: Map<string, Storage>): Storage {
  const fail = (msg: string): never => {
    throw new TorchCheckpointError(`${label}: ${msg}`);
  };
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') return fail('a persistent id that is not a storage');
  const [, type, key, , numel, view] = pid.items;
  if (!(type instanceof StorageType)) return fail('a storage of an unknown type');
  if (typeof key !== 'string' || !/^[\w.-]{1,64}$/.test(key)) return fail('a storage key that is not a short name');
  if (!isIndex(numel!)) return fail(`storage '${key}': its size is not a non-negative integer`);
  let s = storages.get(key);
  if (!s) {
    s = { key, dtype: type.dtype, numel: numel as number, offset: 0 };
    storages.set(key, s);
  }
  // Legacy views of a storage: (view_key, offset, size).
  if (view instanceof PyTuple) {
    const [, offset, size] = view.items;
    if (!isIndex(offset!) || !isIndex(size!)) return fail(`storage '${key}': malformed view`);
    return { ...s, offset: (offset as number) + s.offset, numel: size as number };
  }
  return s;
}

/** A torch.save checkpoint's state dict: tensor names, dtypes and shapes, with the data read on demand. */
export class TorchCheckpoint {
  private constructor(
    readonly label: string,
    private readonly tensors: ReadonlyMap<string, TorchTensor>,
    private readonly bytes: StorageBytes,
    private readonly littleEndian: boolean,
    /** Where the weights were found: '' (top level) or the checkpoint key. */
    readonly under: string,
    private readonly closer: () => void,
  ) {}

  /** True when `head` (the first bytes of a file) starts a zip archive or a pickle. */
  static sniff(head: Uint8Array): boolean {
    return looksLikeZip(head) || (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5);
  }

  static open(path: string): TorchCheckpoint {
    const head = new Uint8Array(4);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    try {
      return looksLikeZip(head) ? TorchCheckpoint.openZip(path) : TorchCheckpoint.openLegacy(path);
    } catch (e) {
      if (e instanceof PickleError || e instanceof ZipError) throw new TorchCheckpointError(e.message);
      throw e;
    }
  }

  private static openZip(path: string): TorchCheckpoint {
    const zip = ZipReader.open(path);
    try {
      const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
      if (pkls.length !== 1)
        throw new TorchCheckpointError(
          `${path}: a zip archive without exactly one ARCHIVE/data.pkl (found ${pkls.length}): not a torch.save checkpoint (entries: ${[...zip.entries.keys()].slice(0, 5).join(', ')})`,
        );
      const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
      const order = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.readAll(`${prefix}byteorder`)).trim() : 'little';
      if (order !== 'little' && order !== 'big') throw new TorchCheckpointError(`${path}: byteorder '${order.slice(0, 20)}' is neither little nor big`);
      const storages = new Map<string, Storage>();
      const { value } = unpickle(zip.readAll(pkls[0]!), {
        label: `${path} (${pkls[0]})`,
        resolveGlobal: (m, n) => allowedGlobal(path, m, n),
        refusedHint: REFUSED,
        persistentLoad: (pid) => storagePid(path, pid, storages),
      });
      for (const s of storages.values()) {
        const entry = zip.entries.get(`${prefix}data/${s.key}`);
        if (!entry) throw new TorchCheckpointError(`${path}: storage '${s.key}' has no entry ${prefix}data/${s.key} (truncated or damaged archive?)`);
        if (entry.size !== s.numel * ELEMENT_BYTES[s.dtype])
          throw new TorchCheckpointError(`${path}: storage '${s.key}' holds ${entry.size} bytes, its ${s.numel} ${s.dtype} elements need ${s.numel * ELEMENT_BYTES[s.dtype]}`);
      }
      const bytes: StorageBytes = {
        read: (s, first, n) => zip.readRange(`${prefix}data/${s.key}`, (s.offset + first) * ELEMENT_BYTES[s.dtype], n * ELEMENT_BYTES[s.dtype]),
      };
      const { tensors, under } = stateDict(path, value);
      return new TorchCheckpoint(path, tensors, bytes, order === 'little', under, () => zip.close());
    } catch (e) {
      zip.close();
      throw e;
    }
  }

  private static openLegacy(path: string): TorchCheckpoint {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      // The pickles come first (a state dict's are a few hundred kB): read 1 MiB, and 4× more while
      // they run past what was read, up to 64 MiB.
      let headBytes = Math.min(size, LEGACY_FIRST_READ);
      let head: LegacyHead;
      for (;;) {
        const buf = new Uint8Array(headBytes);
        readSync(fd, buf, 0, headBytes, 0);
        try {
          head = legacyHead(path, buf);
          break;
        } catch (e) {
          const most = Math.min(size, LEGACY_MAX_HEAD);
          if (!(e instanceof PickleError && e.endedEarly) || headBytes >= most) throw e;
          headBytes = Math.min(most, headBytes * 4);
        }
      }
      const { little, storages, value, keys, at } = head;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new TorchCheckpointError(`${path}: the storage key list is malformed`);
      // Then each storage in that order: an int64 element count, then its bytes.
      const where = new Map<string, number>();
      let pos = at;
      const count = new Uint8Array(8);
      for (const k of keys as string[]) {
        const s = storages.get(k);
        if (!s) throw new TorchCheckpointError(`${path}: storage '${k}' is listed but never used`);
        if (pos + 8 > size || readSync(fd, count, 0, 8, pos) !== 8) throw new TorchCheckpointError(`${path}: ends before storage '${k}' (truncated?)`);
        const n = new DataView(count.buffer).getBigInt64(0, little);
        if (n !== BigInt(s.numel)) throw new TorchCheckpointError(`${path}: storage '${k}' has ${n} elements on disk, its pickle says ${s.numel}`);
        where.set(k, pos + 8);
        pos += 8 + s.numel * ELEMENT_BYTES[s.dtype];
        if (pos > size) throw new TorchCheckpointError(`${path}: storage '${k}' runs past the end of the file (truncated?)`);
      }
      for (const k of storages.keys()) if (!where.has(k)) throw new TorchCheckpointError(`${path}: storage '${k}' is used but its bytes are not in the file`);
      const bytes: StorageBytes = {
        read: (s, first, n) => {
          const es = ELEMENT_BYTES[s.dtype];
          const out = new Uint8Array(n * es);
          const got = readSync(fd, out, 0, out.length, where.get(s.key)! + (s.offset + first) * es);
          if (got !== out.length) throw new TorchCheckpointError(`${path}: storage '${s.key}' could not be read (truncated?)`);
          return out;
        },
      };
      const { tensors, under } = stateDict(path, value);
      return new TorchCheckpoint(path, tensors, bytes, little, under, () => closeSync(fd));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  /** safetensors-style metadata: torch checkpoints carry none. */
  readonly metadata: ReadonlyMap<string, string> = new Map();

  info(name: string): TorchTensorInfo | undefined {
    const t = this.tensors.get(name);
    return t && { name, dtype: t.storage.dtype, shape: t.shape };
  }

  close(): void {
    this.closer();
  }

  /** Every element of tensor `name` as numbers (any dtype; int64 beyond 2^53 loses precision), contiguous row-major. */
  readValues(name: string): Float64Array {
    const t = this.tensors.get(name);
    if (!t) throw new TorchCheckpointError(`${this.label}: no tensor '${name}'`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const out = new Float64Array(numel);
    if (numel === 0) return out;
    // The elements this view touches lie in [offset, offset + Σ (size-1)·stride].
    let span = 1;
    t.shape.forEach((d, i) => (span += (d - 1) * t.stride[i]!));
    if (t.offset + span > t.storage.numel)
      throw new TorchCheckpointError(
        `${this.label}: tensor '${name}' (offset ${t.offset}, shape [${t.shape.join(',')}], stride [${t.stride.join(',')}]) reaches past its storage of ${t.storage.numel} elements`,
      );
    const raw = this.bytes.read(t.storage, t.offset, span);
    const src = decode(raw, t.storage.dtype, this.littleEndian === (endianness() === 'LE'));
    // Gather the strided view into row-major order.
    const idx = new Array<number>(t.shape.length).fill(0);
    for (let i = 0; i < numel; i++) {
      let s = 0;
      for (let d = 0; d < idx.length; d++) s += idx[d]! * t.stride[d]!;
      out[i] = src(s);
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  /** A floating tensor as float32 (float16/bfloat16 exact, float64 rounded once). */
  readFloat32(name: string): Float32Array {
    const info = this.info(name);
    if (info && !TORCH_FLOAT_DTYPES.includes(info.dtype)) throw new TorchCheckpointError(`${this.label}: tensor '${name}' is ${info.dtype}, not a floating-point weight`);
    return Float32Array.from(this.readValues(name));
  }
}

/** Element i of `raw` (dtype, native or swapped byte order) as a number. */
function decode(raw: Uint8Array, dtype: TorchDtype, native: boolean): (i: number) => number {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = native ? endianness() === 'LE' : endianness() !== 'LE';
  switch (dtype) {
    case 'F32':
      return (i) => v.getFloat32(i * 4, le);
    case 'F64':
      return (i) => v.getFloat64(i * 8, le);
    case 'F16':
      return (i) => float16BitsToFloat32(v.getUint16(i * 2, le));
    case 'BF16':
      return (i) => bfloat16BitsToFloat32(v.getUint16(i * 2, le));
    case 'I64':
      return (i) => Number(v.getBigInt64(i * 8, le));
    case 'I32':
      return (i) => v.getInt32(i * 4, le);
    case 'I16':
      return (i) => v.getInt16(i * 2, le);
    case 'I8':
      return (i) => v.getInt8(i);
    case 'U8':
      return (i) => v.getUint8(i);
    case 'BOOL':
      return (i) => (v.getUint8(i) ? 1 : 0);
  }
}

/** The dict of tensors in a checkpoint: the top level, or a training checkpoint's weights. */
function stateDict(label: string, top: PyValue): { tensors: Map<string, TorchTensor>; under: string } {
  const tensorsOf = (d: PyDict) => {
    const m = new Map<string, TorchTensor>();
    for (const [k, v] of d.map) if (typeof k === 'string' && v instanceof TorchTensor) m.set(k, v);
    return m;
  };
  if (!(top instanceof PyDict)) throw new TorchCheckpointError(`${label}: holds a ${describeValue(top)}, not a dict of tensors (a state_dict)`);
  // A training checkpoint first: its top level may hold stray tensors too (a best_acc1 scalar).
  for (const k of CHECKPOINT_KEYS) {
    const v = top.map.get(k);
    if (v instanceof PyDict) {
      const t = tensorsOf(v);
      if (t.size > 0) return { tensors: t, under: k };
    }
  }
  const direct = tensorsOf(top);
  if (direct.size > 0) return { tensors: direct, under: '' };
  const keys = [...top.map.keys()].map(String);
  if (keys.length === 0) throw new TorchCheckpointError(`${label}: an empty dict: holds no tensors`);
  throw new TorchCheckpointError(
    `${label}: holds no tensors at the top level nor under ${CHECKPOINT_KEYS.map((k) => `'${k}'`).join(', ')}; its keys are: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? `, … (${keys.length})` : ''}`,
  );
}

function describeValue(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof TorchTensor) return 'single tensor';
  return typeof v;
}

/** First and largest read of a legacy checkpoint's pickles, bytes. */
const LEGACY_FIRST_READ = 1 << 20;
const LEGACY_MAX_HEAD = 64 << 20;

interface LegacyHead {
  readonly little: boolean;
  readonly storages: Map<string, Storage>;
  readonly value: PyValue;
  readonly keys: PyValue;
  /** Where the storages begin. */
  readonly at: number;
}

/** The five pickles at the start of a legacy torch.save file: magic, protocol, sys info, the object, the storage keys. */
function legacyHead(path: string, buf: Uint8Array): LegacyHead {
  const opts = { label: path, resolveGlobal: (m: string, n: string) => allowedGlobal(path, m, n), refusedHint: REFUSED };
  let at = 0;
  const next = (persistentLoad?: (pid: PyValue) => PyValue) => {
    const r = unpickle(buf, { ...opts, ...(persistentLoad ? { persistentLoad } : {}) }, at);
    at = r.end;
    return r.value;
  };
  const magic = next();
  if (magic !== LEGACY_MAGIC) throw new TorchCheckpointError(`${path}: not a torch.save checkpoint (a pickle, but not PyTorch's magic number; a plain pickle is not read)`);
  const protocol = next();
  if (protocol !== LEGACY_PROTOCOL) throw new TorchCheckpointError(`${path}: legacy checkpoint protocol ${String(protocol)} (expected ${LEGACY_PROTOCOL})`);
  const sys = next();
  const little = !(sys instanceof PyDict) || sys.map.get('little_endian') !== false;
  const storages = new Map<string, Storage>();
  const value = next((pid) => storagePid(path, pid, storages));
  const keys = next();
  return { little, storages, value, keys, at };
}
