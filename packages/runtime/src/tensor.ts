/**
 * Tensors as the runtime takes and gives them, whatever runs the model (onnxruntime-node in
 * process or in a child process, onnxruntime-web in Node or in Chromium): an element type, the
 * data as the matching typed array, and the dims. float16 data is raw IEEE half bits in a
 * Uint16Array (onnxruntime's own convention); {@link toFloat32} widens any float tensor.
 */
import { fromFloat16Array, toFloat16Array } from '@effnet/graph-builder';

export const TENSOR_TYPES = ['float32', 'float16', 'uint8', 'int8', 'int32', 'int64', 'bool'] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];

/** The typed array that holds each element type. */
export interface TensorArrays {
  float32: Float32Array;
  float16: Uint16Array;
  uint8: Uint8Array;
  int8: Int8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

export interface TensorData<T extends TensorType = TensorType> {
  readonly type: T;
  readonly data: TensorArrays[T];
  readonly dims: readonly number[];
}

/** Named tensors: a model's feeds or results. */
export type Tensors = Readonly<Record<string, TensorData>>;

const CTORS: {
  readonly [K in TensorType]: { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TensorArrays[K]; new (length: number): TensorArrays[K]; readonly BYTES_PER_ELEMENT: number };
} = {
  float32: Float32Array,
  float16: Uint16Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

export function isTensorType(t: unknown): t is TensorType {
  return typeof t === 'string' && (TENSOR_TYPES as readonly string[]).includes(t);
}

/** Elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** A tensor, checked: dims are non-negative integers and the data holds exactly their product of elements of `type`. */
export function tensor<T extends TensorType>(type: T, data: TensorArrays[T], dims: readonly number[]): TensorData<T> {
  if (!isTensorType(type)) throw new TypeError(`tensor type '${String(type)}': expected one of ${TENSOR_TYPES.join(', ')}`);
  if (!(data instanceof CTORS[type])) throw new TypeError(`a ${type} tensor holds a ${CTORS[type].name}, got ${(data as object)?.constructor?.name ?? typeof data}`);
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`tensor dims [${dims.join(',')}]: expected non-negative integers`);
  const n = elementCount(dims);
  if (data.length !== n) throw new RangeError(`a ${type} tensor [${dims.join(',')}] holds ${n} elements, got ${data.length}`);
  return { type, data, dims: [...dims] };
}

/** The tensor's bytes (a view, no copy). */
export function tensorBytes(t: TensorData): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** A tensor from its bytes (copied into an aligned buffer). */
export function tensorFromBytes(type: TensorType, bytes: Uint8Array, dims: readonly number[]): TensorData {
  const ctor = CTORS[type];
  if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0) throw new RangeError(`${bytes.byteLength} bytes are not a whole number of ${type} elements`);
  const data = new ctor(bytes.byteLength / ctor.BYTES_PER_ELEMENT);
  new Uint8Array(data.buffer).set(bytes);
  return tensor(type, data, dims);
}

/**
 * A result tensor from onnxruntime (node or web) in this module's form: float16 data, which
 * onnxruntime gives as raw bits (Uint16Array) or, where the platform has it, a Float16Array,
 * becomes raw bits; string and other element types are refused with the tensor's name.
 */
export function fromOrt(name: string, t: { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }): TensorData {
  if (!isTensorType(t.type)) throw new Error(`model output '${name}' has element type ${t.type}; effnet's runtime handles ${TENSOR_TYPES.join(', ')}`);
  let data = t.data;
  if (t.type === 'float16' && ArrayBuffer.isView(data) && !(data instanceof Uint16Array)) {
    const v = data as ArrayBufferView;
    data = new Uint16Array(v.buffer, v.byteOffset, v.byteLength / 2);
  }
  return tensor(t.type, data as TensorArrays[TensorType], t.dims);
}

/** A float tensor's values as float32 (float16 widened); other types are refused. */
export function toFloat32(t: TensorData, what = 'tensor'): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return fromFloat16Array(t.data as Uint16Array);
  throw new Error(`${what} has element type ${t.type}; expected float32 or float16`);
}

/** float32 values as a tensor of `type` (float32 as is, float16 narrowed). */
export function fromFloat32(type: 'float32' | 'float16', data: Float32Array, dims: readonly number[]): TensorData<'float32' | 'float16'> {
  return type === 'float16' ? tensor('float16', toFloat16Array(data), dims) : tensor('float32', data, dims);
}
