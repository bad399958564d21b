/**
 * What an ONNX image classifier needs beyond its graph, decoded once from effnet's metadata
 * (`metadata_props` that `effnet export` writes) for every consumer: `effnet eval`/`classify`/`bench`
 * on an .onnx file and the browser demo. Files from other tools get the same defaults as timm's
 * ImageNet models (ImageNet mean/std, crop_pct 0.875, bicubic).
 *
 *   effnet.model          display name (else the file name)
 *   effnet.mean/std       three comma-separated numbers (std > 0)        else ImageNet's
 *   effnet.crop_pct       a number in (0, 1]                              else 0.875
 *   effnet.interpolation  bicubic | bilinear                              else bicubic
 *   effnet.resolution     the input side, used only when the input's H/W are symbolic
 *   effnet.num_classes    used when the output's last dimension is symbolic, or is K of a topk:K file
 *   effnet.outputs        logits (default), probs, topk:K, or a backbone's outputs (outputs.ts)
 *   effnet.labels         a JSON list of class names, one per class (from the weights file)
 *   effnet.weights        the weights file's name, or `formula; ...` for effnet's deterministic
 *                         untrained default weights (see untrainedWeights)
 *
 * The input must be an image batch [N,3,R,R] with 1 ≤ R ≤ MAX_RESOLUTION and, when N is fixed,
 * N ≤ MAX_FIXED_BATCH, and the class count at most MAX_CLASSES: a file that declares more gets an
 * error naming it and the dimension before anything is allocated for it.
 */
import { metadataOutputs, type ClassOutputs } from './outputs.js';
import type { Interpolation, PixelPreprocessOptions } from './resample.js';

/** torchvision/timm ImageNet normalisation. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];
/** timm's default eval crop fraction. */
export const DEFAULT_CROP_PCT = 0.875;

/**
 * Largest input side (pixels), declared once for effnet: models read here and models built by
 * @effnet/efficientnet (--resolution). B7 is 600, V2-L 480; 4096² × 3 floats is already 200 MB per image.
 */
export const MAX_RESOLUTION = 4096;
/** Largest fixed batch size accepted in a file's input. */
export const MAX_FIXED_BATCH = 1024;
/** Largest number of classes accepted (ImageNet-21k has 21843). */
export const MAX_CLASSES = 1_000_000;

/** A dimension as readers report it: a number, a symbolic name, or unknown. */
export type MetadataDim = number | string | null | undefined;

export interface ModelIo {
  /** File name or path, for messages and the default display name. */
  readonly source: string;
  readonly inputName: string;
  readonly inputShape: readonly MetadataDim[];
  readonly outputShape: readonly MetadataDim[];
  /** The input's element type ('float32', 'uint8', ...) when the reader knows it. */
  readonly inputType?: string;
}

/**
 * The input forms effnet's files have: `nchw` float [N,3,R,R] (default), `nhwc` float [N,R,R,3]
 * (`--layout nhwc`), `pixels`: uint8 RGB [N,H,W,3] of any size with the eval transform inside the
 * graph (`--embed-preprocessing`, effnet.embedded_preprocessing).
 */
export type ImageInputKind = 'nchw' | 'nhwc' | 'pixels';

/** The decoded description: how to preprocess images for the model, and how to name its classes. */
export interface ImageModelInfo {
  /** effnet.model, else `source`'s file name. */
  readonly name: string;
  /** The input form: float NCHW, float NHWC, or uint8 pixels of any size (embedded preprocessing). */
  readonly input: ImageInputKind;
  /** Input side R, from the input shape (or effnet.resolution when the shape is symbolic). */
  readonly resolution: number;
  /** Output classes (last output dimension, or effnet.num_classes); undefined when neither says, and for a backbone. */
  readonly numClasses: number | undefined;
  /** What the outputs are (effnet.outputs): logits, probabilities, top-K, or no classes (a backbone / embedding). */
  readonly outputs: ClassOutputs;
  /** resolution + mean/std/cropPct/interpolation: what preprocessPixels / preprocessImage take. */
  readonly preprocess: PixelPreprocessOptions;
  /** The class names the file carries (effnet.labels), undefined when it carries none. */
  readonly labels: readonly string[] | undefined;
}

const positiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
const positiveIntText = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s.trim()) ? positiveInt(Number(s)) : undefined);

/** A metadata value that is present but unusable: an error naming the key, never a silent default. */
function badMetadata(key: string, value: string, expected: string, source?: string): never {
  throw new RangeError(`${source ? `${source}: ` : ''}metadata ${key} '${value.length > 60 ? `${value.slice(0, 60)}…` : value}': expected ${expected}`);
}

function triple(metadata: Readonly<Record<string, string>>, key: string, fallback: readonly number[], positive: boolean, source?: string): number[] {
  const raw = metadata[key];
  if (raw === undefined) return [...fallback];
  const v = raw.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if (v.length === 3 && v.every((x) => Number.isFinite(x) && (!positive || x > 0))) return v;
  return badMetadata(key, raw, `three comma-separated ${positive ? 'positive ' : ''}numbers (r,g,b)`, source);
}

/**
 * The mean/std/crop/interpolation rules alone (no shapes): effnet metadata or timm's defaults.
 * A key that is present but invalid (std 0, crop_pct 7, interpolation 'nearest') is an error
 * naming it: preprocessing silently replaced by a default would give confident wrong answers.
 */
export function metadataPreprocess(metadata: Readonly<Record<string, string>>, source?: string): Omit<PixelPreprocessOptions, 'resolution'> {
  const crop = metadata['effnet.crop_pct'];
  const cropPct = crop === undefined ? DEFAULT_CROP_PCT : Number(crop);
  if (!(cropPct > 0 && cropPct <= 1)) badMetadata('effnet.crop_pct', crop!, 'a number in (0, 1]', source);
  const interp = metadata['effnet.interpolation'];
  if (interp !== undefined && interp !== 'bicubic' && interp !== 'bilinear') badMetadata('effnet.interpolation', interp, 'bicubic or bilinear', source);
  const interpolation: Interpolation = interp === 'bilinear' ? 'bilinear' : 'bicubic';
  return {
    mean: triple(metadata, 'effnet.mean', IMAGENET_MEAN, false, source),
    std: triple(metadata, 'effnet.std', IMAGENET_STD, true, source),
    cropPct,
    interpolation,
  };
}

/**
 * The class list in effnet.labels (undefined when absent). Throws, naming `source`, when it is not a
 * JSON list of strings or its length is not `numClasses`.
 */
export function metadataLabels(metadata: Readonly<Record<string, string>>, source: string, numClasses?: number): string[] | undefined {
  const raw = metadata['effnet.labels'];
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${source}: metadata effnet.labels is not a JSON list of strings`);
  if (numClasses !== undefined && v.length !== numClasses) throw new Error(`${source}: metadata effnet.labels has ${v.length} names but the model has ${numClasses} classes`);
  return v as string[];
}

/**
 * The float input layout a file declares: effnet writes effnet.input_layout for every input that is
 * not float NCHW (`--layout nhwc`, `--embed-preprocessing`), so a file effnet wrote (effnet.model or
 * effnet.resolution present) without it is NCHW. Undefined for foreign files: the shape decides.
 */
export function declaredLayout(metadata: Readonly<Record<string, string>>): 'nchw' | 'nhwc' | undefined {
  const layout = metadata['effnet.input_layout'];
  if (layout !== undefined) return layout.startsWith('NHWC') ? 'nhwc' : 'nchw';
  return metadata['effnet.model'] !== undefined || metadata['effnet.resolution'] !== undefined ? 'nchw' : undefined;
}

/** Decodes effnet's metadata and the model's input/output shapes into an ImageModelInfo. */
export function describeImageModel(metadata: Readonly<Record<string, string>>, io: ModelIo): ImageModelInfo {
  const d = io.inputShape;
  const symbolic = (x: MetadataDim) => typeof x !== 'number';
  const shape = `[${d.map((x) => x ?? '?').join(',')}]`;
  const pixels = io.inputType === 'uint8' || metadata['effnet.embedded_preprocessing'] === 'true';
  const input: ImageInputKind = pixels ? 'pixels' : (declaredLayout(metadata) ?? (d.length === 4 && d[3] === 3 && d[1] !== 3 ? 'nhwc' : 'nchw'));
  if (pixels && !(d.length === 4 && d[3] === 3 && (io.inputType === undefined || io.inputType === 'uint8')))
    throw new Error(`${io.source}: input '${io.inputName}' is ${io.inputType ?? ''}${shape}; an embedded-preprocessing model takes uint8 pictures [N,H,W,3]`);
  const [h, w] = input === 'nchw' ? [d[2], d[3]] : [d[1], d[2]];
  const channels = input === 'nchw' ? d[1] : d[3];
  const resolution = pixels
    ? positiveIntText(metadata['effnet.resolution'])
    : d.length === 4 && channels === 3
      ? typeof h === 'number' && h === w
        ? positiveInt(h)
        : symbolic(h) && symbolic(w)
          ? positiveIntText(metadata['effnet.resolution'])
          : undefined
      : undefined;
  if (resolution === undefined)
    throw new Error(
      pixels
        ? `${io.source}: an embedded-preprocessing model needs effnet.resolution in its metadata`
        : `${io.source}: input '${io.inputName}' is ${shape}; expected an image input [N,3,R,R] (or [N,R,R,3]) with R a positive integer`,
    );
  if (resolution > MAX_RESOLUTION)
    throw new Error(`${io.source}: input '${io.inputName}' ${shape} declares ${resolution}x${resolution} pixels; effnet reads image models up to ${MAX_RESOLUTION}x${MAX_RESOLUTION}`);
  const n = d[0];
  if (typeof n === 'number' && !(Number.isInteger(n) && n > 0 && n <= MAX_FIXED_BATCH))
    throw new Error(`${io.source}: input '${io.inputName}' ${shape} declares a batch size of ${n}; expected 1..${MAX_FIXED_BATCH} or a symbolic batch`);
  const outputs = metadataOutputs(metadata, io.source);
  const last = io.outputShape[io.outputShape.length - 1];
  // topk:K's outputs are K wide: the classes are effnet.num_classes. A backbone has none.
  const numClasses =
    outputs.kind === 'none'
      ? undefined
      : outputs.kind === 'topk'
        ? positiveIntText(metadata['effnet.num_classes'])
        : (positiveInt(last) ?? (typeof last === 'number' ? undefined : positiveIntText(metadata['effnet.num_classes'])));
  if (numClasses !== undefined && numClasses > MAX_CLASSES) throw new Error(`${io.source}: output declares ${numClasses} classes; effnet reads classifiers with up to ${MAX_CLASSES}`);
  return {
    name: metadata['effnet.model'] ?? baseName(io.source),
    input,
    resolution,
    numClasses,
    outputs,
    preprocess: { resolution, ...metadataPreprocess(metadata, io.source) },
    labels: outputs.kind === 'none' ? undefined : metadataLabels(metadata, io.source, numClasses),
  };
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/**
 * Whether the file carries effnet's deterministic untrained default weights (effnet.weights
 * `formula; ...`, written when a model is exported without --weights): its "predictions" are
 * not predictions, and every consumer says so.
 */
export function untrainedWeights(metadata: Readonly<Record<string, string>>): boolean {
  return (metadata['effnet.weights'] ?? '').startsWith('formula');
}

/** The phrase every consumer uses for such weights (CLI JSON `weights` field, notices). */
export const UNTRAINED_WEIGHTS = 'untrained (deterministic default)';

/** What an int8 file calibrated on effnet's built-in input says in effnet.int8.calibration_source. */
export const BUILTIN_CALIBRATION_SOURCE = 'built-in input (latency only)';
/** The warning every consumer shows for such a file (CLI, reports, the page). */
export const LATENCY_ONLY_NOTE = 'int8 calibrated on the built-in input: latency only, accuracy meaningless';

/** Whether a file's metadata says it is int8 calibrated on the built-in input: its answers are no predictions. */
export function int8LatencyOnly(metadata: Readonly<Record<string, string>>): boolean {
  return metadata['effnet.precision'] === 'int8' && metadata['effnet.int8.calibration_source'] === BUILTIN_CALIBRATION_SOURCE;
}
