/**
 * The safetensors format (Hugging Face): 8-byte little-endian header length N, N bytes of JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then
 * the tensor bytes. Everything in the file is untrusted and checked the way the reference
 * implementation does: header at most 100 MB, valid UTF-8 JSON object, known dtypes, shape ×
 * dtype size = byte length, offsets inside the file, covering the data contiguously (no overlap,
 * no gap, nothing after the last tensor). The header is parsed into Maps, never onto plain
 * objects, and a tensor or metadata key `__proto__` is refused.
 *
 * Files are read by random access: the header once, then each tensor on demand straight into a
 * Float32Array (F32 as is; F16 and BF16 converted exactly), never the whole file at once.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from '@effnet/graph-builder';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Largest header accepted, as in the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Element size of every dtype the format defines. */
const DTYPE_BYTES: ReadonlyMap<string, number> = new Map([
  ['BOOL', 1],
  ['U8', 1],
  ['I8', 1],
  ['F8_E5M2', 1],
  ['F8_E4M3', 1],
  ['F8_E8M0', 1],
  ['I16', 2],
  ['U16', 2],
  ['F16', 2],
  ['BF16', 2],
  ['I32', 4],
  ['U32', 4],
  ['F32', 4],
  ['I64', 8],
  ['U64', 8],
  ['F64', 8],
  ['C64', 8],
]);

/** The dtypes whose tensors can be read as float32. */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type ReadableDtype = (typeof READABLE_DTYPES)[number];

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly numel: number;
  /** Byte range in the data section (after the header), as the file states it. */
  readonly begin: number;
  readonly end: number;
}

/** Where the bytes come from: a file read on demand, or memory. */
interface ByteSource {
  readonly size: number;
  /** Fills `into` from absolute file position `position`, or throws. */
  read(into: Uint8Array, position: number): void;
}

const LITTLE_ENDIAN = endianness() === 'LE';

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * A weights file as a {@link ByteSource}: opened without blocking (a FIFO never waits for a writer),
 * refused unless it is a regular file (SafetensorsError naming it), and read later by position,
 * checking that it did not change meanwhile. Also how openTensorFile reads a file's first bytes.
 */
export function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; its type is refused just below.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new SafetensorsError(`${path}: cannot open weights file (${why})`);
  }
  let st;
  try {
    st = fstatSync(fd);
  } finally {
    closeSync(fd);
  }
  if (!st.isFile())
    throw new SafetensorsError(
      `${path}: weights file is ${st.isFIFO() ? 'a FIFO (named pipe)' : st.isCharacterDevice() ? 'a character device' : st.isDirectory() ? 'a directory' : 'not a regular file'}, expected a regular file`,
    );
  const size = st.size;
  const mtimeMs = st.mtimeMs;
  return {
    size,
    read(into, position) {
      const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      try {
        const now = fstatSync(fd);
        if (now.size !== size || now.mtimeMs !== mtimeMs) throw new SafetensorsError(`${path}: file changed while it was being read`);
        let done = 0;
        while (done < into.length) {
          const n = readSync(fd, into, done, Math.min(into.length - done, 1 << 30), position + done);
          if (n === 0) throw new SafetensorsError(`${path}: unexpected end of file at byte ${position + done}`);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}

function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(into, position) {
      if (position + into.length > bytes.length) throw new SafetensorsError(`unexpected end of data at byte ${bytes.length}`);
      into.set(bytes.subarray(position, position + into.length));
    },
  };
}

interface Header {
  readonly headerBytes: number;
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  readonly metadata: ReadonlyMap<string, string>;
}

function parseHeader(label: string, src: ByteSource): Header {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${label}: ${msg}`);
  };
  if (src.size < 8) fail(`file is ${src.size} bytes, too short for the 8-byte header length (truncated or not a safetensors file)`);
  const lengthBytes = new Uint8Array(8);
  src.read(lengthBytes, 0);
  const n64 = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > src.size) fail(`header length ${n} runs past the end of the file (${src.size} bytes; truncated?)`);
  const raw = new Uint8Array(n);
  src.read(raw, 8);
  if (raw[0] !== 0x7b) fail(`header does not start with '{' (not a safetensors file?)`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    fail('header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    // JSON.parse defines keys as own data properties, so "__proto__" cannot reach a prototype;
    // every key is moved into a Map below and plain objects never hold file keys.
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isPlainObject(parsed)) return fail('header is not a JSON object');

  const dataBytes = src.size - 8 - n;
  const tensors = new Map<string, SafetensorsTensor>();
  const metadata = new Map<string, string>();
  for (const [name, v] of Object.entries(parsed)) {
    const where = `tensor '${name}'`;
    if (name === '__proto__') fail(`key '__proto__' is not allowed in a header (prototype pollution attempt?)`);
    if (name === '__metadata__') {
      if (!isPlainObject(v)) fail(`__metadata__ must be an object of strings, got ${describe(v)}`);
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (k === '__proto__') fail(`key '__proto__' is not allowed in __metadata__ (prototype pollution attempt?)`);
        if (typeof s !== 'string') fail(`__metadata__ '${k}' must be a string, got ${describe(s)}`);
        metadata.set(k, s as string);
      }
      continue;
    }
    if (!isPlainObject(v)) fail(`${where}: entry must be an object {dtype, shape, data_offsets}, got ${describe(v)}`);
    const { dtype, shape, data_offsets: offsets } = v as Record<string, unknown>;
    if (typeof dtype !== 'string') return fail(`${where}: dtype must be a string, got ${describe(dtype)}`);
    const size = DTYPE_BYTES.get(dtype);
    if (size === undefined) return fail(`${where}: unknown dtype ${describe(dtype)} (safetensors dtypes: ${[...DTYPE_BYTES.keys()].join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isIndex)) return fail(`${where}: shape must be a list of non-negative integers, got ${describe(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) return fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${describe(offsets)}`);
    const [begin, end] = offsets as [number, number];
    let numel = 1;
    for (const d of shape as number[]) {
      numel *= d;
      if (!Number.isSafeInteger(numel * size)) fail(`${where}: shape ${describe(shape)} is too large`);
    }
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataBytes) fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes after the header; truncated?)`);
    if (end - begin !== numel * size) fail(`${where}: shape [${(shape as number[]).join(',')}] of ${dtype} needs ${numel * size} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    tensors.set(name, { name, dtype, shape: shape as number[], numel, begin, end });
  }

  // The tensors must tile the data section exactly: sorted by offset, each starts where the last ended.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: SafetensorsTensor | undefined;
  for (const t of sorted) {
    if (t.begin < at && prev) fail(`tensors '${prev.name}' [${prev.begin}, ${prev.end}] and '${t.name}' [${t.begin}, ${t.end}] overlap`);
    if (t.begin > at) fail(`${t.begin - at} bytes before tensor '${t.name}' [${t.begin}, ${t.end}] belong to no tensor (data_offsets must be contiguous)`);
    at = t.end;
    prev = t;
  }
  if (at !== dataBytes) fail(`${dataBytes - at} bytes after the last tensor's data belong to no tensor`);
  return { headerBytes: n, tensors: new Map(sorted.map((t) => [t.name, t])), metadata };
}

/** A parsed safetensors file; tensors are read on demand. */
export class Safetensors {
  private constructor(
    /** File path (or a label for in-memory data), used in every error message. */
    readonly label: string,
    private readonly src: ByteSource,
    private readonly header: Header,
  ) {}

  /** Opens a file and validates its header; tensor data is read later, one tensor at a time. */
  static open(path: string): Safetensors {
    const src = fileSource(path);
    return new Safetensors(path, src, parseHeader(path, src));
  }

  /** Parses a whole file held in memory. */
  static fromBytes(bytes: Uint8Array, label = '<memory>'): Safetensors {
    const src = memorySource(bytes);
    return new Safetensors(label, src, parseHeader(label, src));
  }

  /** Tensor names in file order. */
  get names(): string[] {
    return [...this.header.tensors.keys()];
  }

  get tensors(): ReadonlyMap<string, SafetensorsTensor> {
    return this.header.tensors;
  }

  get metadata(): ReadonlyMap<string, string> {
    return this.header.metadata;
  }

  get fileBytes(): number {
    return this.src.size;
  }

  /** File position of the data section (8 + header length). */
  get dataStart(): number {
    return 8 + this.header.headerBytes;
  }

  info(name: string): SafetensorsTensor | undefined {
    return this.header.tensors.get(name);
  }

  /** The tensor's raw little-endian bytes. */
  readBytes(name: string): Uint8Array {
    const t = this.require(name);
    const out = new Uint8Array(t.end - t.begin);
    this.src.read(out, 8 + this.header.headerBytes + t.begin);
    return out;
  }

  /** The tensor as float32: F32 as stored, F16/BF16 widened exactly. Other dtypes are refused. */
  readFloat32(name: string): Float32Array {
    const t = this.require(name);
    if (!(READABLE_DTYPES as readonly string[]).includes(t.dtype))
      throw new SafetensorsError(`${this.label}: tensor '${name}' has dtype ${t.dtype}; supported dtypes are ${READABLE_DTYPES.join(', ')}`);
    const position = 8 + this.header.headerBytes + t.begin;
    if (t.dtype === 'F32') {
      const out = new Float32Array(t.numel);
      const bytes = new Uint8Array(out.buffer);
      this.src.read(bytes, position);
      if (!LITTLE_ENDIAN) swapBytes(bytes, 4);
      return out;
    }
    const bits = new Uint16Array(t.numel);
    const bytes = new Uint8Array(bits.buffer);
    this.src.read(bytes, position);
    if (!LITTLE_ENDIAN) swapBytes(bytes, 2);
    const convert = t.dtype === 'F16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
    const out = new Float32Array(t.numel);
    for (let i = 0; i < out.length; i++) out[i] = convert(bits[i]!);
    return out;
  }

  private require(name: string): SafetensorsTensor {
    const t = this.header.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.label}: no tensor '${name}'`);
    return t;
  }
}

/** A tensor to write: data given now or produced when its turn comes (so big files stream). */
export interface TensorToWrite {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Little-endian element data of exactly numel × dtype size bytes (a typed array of the dtype). */
  readonly data: ArrayBufferView | (() => ArrayBufferView);
}

/** Anything bytes can be appended to (an AtomicFile, a file descriptor wrapper, a buffer list). */
export interface ByteSink {
  write(data: Uint8Array): void;
}

export interface WriteSafetensorsOptions {
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Writes tensors in the given order as one safetensors stream (header padded to 8 bytes like the
 * reference writer). Returns the number of bytes written.
 */
export function writeSafetensors(sink: ByteSink, tensors: Iterable<readonly [string, TensorToWrite]>, o: WriteSafetensorsOptions = {}): number {
  const list = [...tensors];
  const seen = new Set<string>();
  const entries: string[] = [];
  if (o.metadata && Object.hasOwn(o.metadata, '__proto__')) throw new SafetensorsError(`'__proto__' cannot be a metadata key`);
  if (o.metadata) entries.push(`"__metadata__":${JSON.stringify(Object.fromEntries(Object.entries(o.metadata)))}`);
  let offset = 0;
  for (const [name, t] of list) {
    if (seen.has(name)) throw new SafetensorsError(`tensor '${name}' given twice`);
    if (name === '__metadata__' || name === '__proto__') throw new SafetensorsError(`'${name}' cannot be a tensor name`);
    seen.add(name);
    const size = DTYPE_BYTES.get(t.dtype);
    if (size === undefined) throw new SafetensorsError(`tensor '${name}': unknown dtype '${t.dtype}'`);
    if (t.shape.some((d) => !isIndex(d))) throw new SafetensorsError(`tensor '${name}': bad shape [${t.shape.join(',')}]`);
    const bytes = t.shape.reduce((p, d) => p * d, 1) * size;
    entries.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }
  let header = `{${entries.join(',')}}`;
  header += ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(header);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  sink.write(length);
  sink.write(headerBytes);
  for (const [name, t] of list) {
    const view = typeof t.data === 'function' ? t.data() : t.data;
    const size = DTYPE_BYTES.get(t.dtype)!;
    const want = t.shape.reduce((p, d) => p * d, 1) * size;
    if (view.byteLength !== want) throw new SafetensorsError(`tensor '${name}': data has ${view.byteLength} bytes, shape [${t.shape.join(',')}] of ${t.dtype} needs ${want}`);
    let bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (!LITTLE_ENDIAN) swapBytes((bytes = bytes.slice()), size);
    sink.write(bytes);
  }
  return 8 + headerBytes.length + offset;
}

/** A sink that collects everything in memory (tests, small files). */
export function memorySink(): ByteSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    write: (d) => void parts.push(d.slice()),
    bytes: () => Buffer.concat(parts),
  };
}
