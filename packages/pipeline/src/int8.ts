/**
 * The int8 step of the pipeline: a float32 model (BatchNorm folded) → the activation tensors its
 * QDQ placement needs (graph-builder's quantizationTargets) → their ranges, measured by running the
 * float32 graph over calibration images (calibrateActivations: onnxruntime-node, imported on first
 * use) → QuantizeLinear/DequantizeLinear inserted (quantizeQdq) → opset ≥ 13, with the calibration
 * recorded in the file's metadata:
 *   effnet.precision = int8, effnet.int8.calibration_method, effnet.int8.calibration_images,
 *   effnet.int8.calibration_source (the image folder, or 'built-in input (latency only)'),
 *   effnet.int8.policy.
 *
 * Calibration on the built-in (formula) input exists for latency measurements only: its ranges say
 * nothing about real images, so accuracy of such a file is meaningless; every report says so
 * ({@link int8LatencyOnly}).
 */
import { quantizationTargets, quantizeQdq, type GraphIR, type QuantizePolicy, type TensorRange } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { loadCalibrationImages, type CalibrationBatch } from '@effnet/images';
import { serializeModel, writeModel, writeModelAsync } from '@effnet/onnx-export';
import { calibrateActivations, calibrationMethod, type CalibrationMethod } from './activations.js';
import { PASSES, resolvePasses } from './passes.js';
import { prepareModel, type PrepareOptions, type PreparedModel } from './prepare.js';

/** The lowest opset of an int8 file (the pass table's int8 record). */
const INT8_MIN_OPSET = PASSES.find((r) => r.name === 'int8')!.minOpset!;

/** What effnet.int8.calibration_source says of a file calibrated on the built-in input. */
import { BUILTIN_CALIBRATION_SOURCE } from '@effnet/preprocess';
// The rule and its words live in @effnet/preprocess, where the browser demo reads them too.
export { BUILTIN_CALIBRATION_SOURCE, int8LatencyOnly, LATENCY_ONLY_NOTE } from '@effnet/preprocess';
/** Default number of calibration images (phase-1 measurements: 100 Imagenette images, 10 a class). */
export const DEFAULT_CALIBRATION_IMAGES = 100;
/** Entropy: best top-1 and agreement on Imagenette B0 (96.9% agreement vs percentile 95.3%, minmax 94.2%). */
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'entropy';
/** Images of the built-in calibration batch. */
export const BUILTIN_CALIBRATION_IMAGES = 8;

export type Int8Calibration =
  /** An image folder (ImageFolder class folders, or images directly in it); `count` spread across it. */
  | { readonly kind: 'images'; readonly dir: string; readonly count?: number }
  /** The deterministic formula input: for latency measurements only. */
  | { readonly kind: 'builtin' };

/** Measures activation ranges (default: {@link calibrateActivations} with the chosen method). */
export type ActivationRanges = (ir: GraphIR, tensors: readonly string[], batches: readonly CalibrationBatch[]) => Promise<ReadonlyMap<string, TensorRange>>;

export interface Int8Options {
  readonly calibration: Int8Calibration;
  /** Default {@link DEFAULT_CALIBRATION_METHOD}. */
  readonly method?: CalibrationMethod;
  /** Which ops run in int8 (graph-builder QUANTIZE_POLICIES; default 'all', the fastest in onnxruntime). */
  readonly policy?: QuantizePolicy;
  /** onnxruntime intra-op threads for the calibration runs. */
  readonly threads?: number;
  /** Injected range measurement (tests); default onnxruntime-node via calibrateActivations. */
  readonly ranges?: ActivationRanges;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Int8Summary {
  readonly method: CalibrationMethod;
  readonly policy: QuantizePolicy;
  readonly source: string;
  readonly latencyOnly: boolean;
  /** Images used (relative to the folder); for the built-in input, none. */
  readonly files: readonly string[];
  readonly images: number;
  /** Listed images that did not decode (skipped). */
  readonly failed: readonly { readonly file: string; readonly error: string }[];
  readonly tensors: number;
  readonly seconds: number;
}

export interface Int8Model extends PreparedModel {
  readonly int8: Int8Summary;
}


/**
 * prepareModel + the int8 step, as the pass table's int8 record says: BatchNorm folded (required),
 * fp16 refused (excluded), opset raised to 13 when lower.
 */
export async function prepareInt8Model(ref: string, o: PrepareOptions & { readonly int8: Int8Options }): Promise<Int8Model> {
  const { int8, ...rest } = o;
  // The pass table: int8 requires fold-bn, excludes fp16 (OptionError naming the flags), raises the opset.
  const passes = resolvePasses({ ...rest, int8: true });
  const { int8: _int8, ...required } = passes.options;
  const p = prepareModel(ref, { ...rest, ...required, opset: passes.opset });
  return quantizeModel(p, int8);
}

/** A model int8 cannot quantize (not float32); the CLI maps it to a usage error. */
export class Int8OptionError extends Error {
  override name = 'Int8OptionError';
}

/** The int8 step on a prepared float32 model (BatchNorm folded: prepareModel with foldBn). */
export async function quantizeModel(p: PreparedModel, o: Int8Options): Promise<Int8Model> {
  const method = calibrationMethod(o.method ?? DEFAULT_CALIBRATION_METHOD);
  const policy = o.policy ?? 'all';
  if (p.metadata['effnet.precision'] !== 'float32') throw new Int8OptionError(`${p.label}: int8 quantizes a float32 model; this one is ${p.metadata['effnet.precision']}`);
  const t0 = performance.now();
  // Throws QuantizeError (one line) when the graph has no quantizable op, before any image is read.
  const tensors = quantizationTargets(p.ir, { policy });
  let batches: CalibrationBatch[];
  let files: readonly string[] = [];
  let failed: Int8Summary['failed'] = [];
  let source: string;
  if (o.calibration.kind === 'images') {
    const loaded = await loadCalibrationImages(o.calibration.dir, {
      count: o.calibration.count ?? DEFAULT_CALIBRATION_IMAGES,
      resolution: p.resolution,
      ...p.preprocess,
    });
    ({ batches, files, failed } = loaded);
    source = o.calibration.dir;
  } else {
    const dims = [BUILTIN_CALIBRATION_IMAGES, 3, p.resolution, p.resolution];
    batches = [{ data: formulaInput(dims), dims }];
    source = BUILTIN_CALIBRATION_SOURCE;
  }
  const images = batches.reduce((n, b) => n + b.dims[0]!, 0);
  const measure: ActivationRanges =
    o.ranges ?? ((ir, t, b) => calibrateActivations(ir, t, b, { method, ...(o.threads ? { threads: o.threads } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) }));
  const ranges = await measure(p.ir, tensors, batches);
  const ir = quantizeQdq(p.ir, { ranges, policy });
  const opset = Math.max(p.opset, INT8_MIN_OPSET);
  const metadata = {
    ...p.metadata,
    'effnet.precision': 'int8',
    'effnet.int8.calibration_method': method,
    'effnet.int8.calibration_images': String(images),
    'effnet.int8.calibration_source': source,
    'effnet.int8.policy': policy,
  };
  const exportOptions = { opset, metadata, docString: p.built.spec.description };
  const summary: Int8Summary = { method, policy, source, latencyOnly: o.calibration.kind === 'builtin', files, images, failed, tensors: tensors.length, seconds: (performance.now() - t0) / 1000 };
  return {
    ...p,
    ir,
    opset,
    metadata,
    int8: summary,
    serialize: () => serializeModel(ir, exportOptions),
    source: () => serializeModel(ir, exportOptions),
    write: (path, w = {}) => writeModel(ir, path, { ...w, ...exportOptions }),
    writeAsync: (path, w = {}) => writeModelAsync(ir, path, { ...w, ...exportOptions }),
  };
}
