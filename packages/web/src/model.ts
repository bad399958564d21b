/**
 * What the page needs to know about an ONNX model beyond onnxruntime-web's session: its input and
 * output shapes, read from the file with onnx-proto, decoded with effnet's metadata rules
 * (`describeImageModel` of @effnet/preprocess — the same function `effnet eval` uses on files).
 */
import { onnx } from 'onnx-proto';
import { describeImageModel, type ImageModelInfo, type PixelPreprocessOptions } from '@effnet/preprocess';

/** The page preprocesses exactly as `preprocessPixels` takes it. */
export type Preprocess = PixelPreprocessOptions;

export interface ModelInfo extends ImageModelInfo {
  readonly metadata: Readonly<Record<string, string>>;
}

/** The configuration `effnet serve` publishes at ./effnet-config.json beside the page. */
export interface ServedConfig {
  readonly model: { readonly name: string; readonly url: string; readonly bytes: number };
  readonly numClasses: number;
  readonly preprocess: Preprocess;
  /** Display names in output order (null: the page falls back to ImageNet for 1000 classes). */
  readonly labels: readonly string[] | null;
}

/** int64 fields: numbers in the browser, Long objects where protobufjs finds the 'long' package. */
function int64(v: number | { toNumber(): number } | null | undefined): number | undefined {
  return v == null ? undefined : typeof v === 'number' ? v : v.toNumber();
}

/** A dimension as a number, its symbolic name, or undefined. */
function dims(t: onnx.IValueInfoProto | undefined): (number | string | undefined)[] {
  return t?.type?.tensorType?.shape?.dim?.map((d) => int64(d.dimValue) ?? (d.dimParam || undefined)) ?? [];
}

/** Reads an .onnx file's metadata and input/output shapes. */
export function readModelInfo(bytes: Uint8Array, fileName: string): ModelInfo {
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${fileName}: not an ONNX model (${(e as Error).message})`);
  }
  const metadata: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const initializers = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  const input = (m.graph?.input ?? []).find((i) => !initializers.has(i.name ?? ''));
  const info = describeImageModel(metadata, { source: fileName, inputName: input?.name ?? '?', inputShape: dims(input ?? undefined), outputShape: dims(m.graph?.output?.[0] ?? undefined) });
  return { ...info, metadata };
}
