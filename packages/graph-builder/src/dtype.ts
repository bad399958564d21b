/** Element types a tensor can carry, and the one table that maps them to ONNX. */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

interface DTypeInfo {
  /** onnx.TensorProto.DataType enum value */
  readonly onnx: number;
  readonly bytes: number;
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: { onnx: 1, bytes: 4 },
  uint8: { onnx: 2, bytes: 1 },
  int8: { onnx: 3, bytes: 1 },
  int32: { onnx: 6, bytes: 4 },
  int64: { onnx: 7, bytes: 8 },
  bool: { onnx: 9, bytes: 1 },
  float16: { onnx: 10, bytes: 2 },
  float64: { onnx: 11, bytes: 8 },
  bfloat16: { onnx: 16, bytes: 2 },
};

export function dtypeFromOnnx(code: number): DType {
  for (const [name, info] of Object.entries(DTYPES)) if (info.onnx === code) return name as DType;
  throw new Error(`unsupported ONNX tensor data type ${code}`);
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float64';
}

/** Typed array backing each dtype (float16/bfloat16 are raw 16-bit patterns). */
export type TensorData = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;
