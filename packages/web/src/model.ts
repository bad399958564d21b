/**
 * What the page needs to know about an ONNX model beyond onnxruntime-web's session: the effnet
 * preprocessing metadata (`effnet.resolution`, `effnet.mean`, `effnet.std`, `effnet.crop_pct`,
 * `effnet.interpolation`, `effnet.num_classes`, `effnet.model`), read from the file with onnx-proto.
 */
import { onnx } from 'onnx-proto';
import type { PixelPreprocessOptions } from '@effnet/bench/web';

/** The page preprocesses exactly as `preprocessPixels` takes it. */
export type Preprocess = PixelPreprocessOptions;

export interface ModelInfo {
  readonly name: string;
  readonly numClasses: number | undefined;
  readonly preprocess: Preprocess;
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

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Reads an .onnx file's metadata and input shape (the same defaults as `effnet eval` for other files). */
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
  const dims = input?.type?.tensorType?.shape?.dim?.map((d) => int64(d.dimValue)) ?? [];
  if (dims.length !== 4 || dims[1] !== 3 || dims[2] === undefined || dims[2] !== dims[3])
    throw new Error(`${fileName}: input '${input?.name ?? '?'}' is [${dims.map((d) => d ?? '?').join(',')}]; expected an image input [N,3,R,R]`);
  const outDims = m.graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const last = int64(outDims[outDims.length - 1]?.dimValue);
  const nums = (key: string, fallback: readonly number[]) => {
    const v = metadata[key]?.split(',').map(Number);
    return v && v.length === 3 && v.every(Number.isFinite) ? v : [...fallback];
  };
  const cropPct = Number(metadata['effnet.crop_pct'] ?? 0.875);
  return {
    name: metadata['effnet.model'] ?? fileName,
    numClasses: last !== undefined ? last : metadata['effnet.num_classes'] ? Number(metadata['effnet.num_classes']) : undefined,
    preprocess: {
      resolution: dims[2],
      cropPct: cropPct > 0 && cropPct <= 1 ? cropPct : 0.875,
      interpolation: metadata['effnet.interpolation'] === 'bilinear' ? 'bilinear' : 'bicubic',
      mean: nums('effnet.mean', IMAGENET_MEAN),
      std: nums('effnet.std', IMAGENET_STD),
    },
    metadata,
  };
}
