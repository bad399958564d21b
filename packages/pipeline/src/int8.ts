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
import { describeValue, OptionError, quantizationTargets, quantizeQdq, type GraphIR, type QuantizePolicy, type TensorRange } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { openCalibrationImages, type CalibrationBatch } from '@effnet/images';
import { serializeModel, writeModel, writeModelAsync } from '@effnet/onnx-export';
import { calibrateActivations, calibrationBytesPerImage, calibrationMethod, CALIBRATION_RUN_BYTES, type CalibrationMethod, type CalibrationSource } from './activations.js';
import { PASSES, resolvePasses } from './passes.js';
import { checkPrepareArgs, prepareStages, type PrepareOptions, type PreparedModel } from './prepare.js';
import { availableMemory, MemoryLimitError } from './memory.js';

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

/** Measures activation ranges (default: {@link calibrateActivations} with the chosen method); `batches` is streamed (read it once per pass). */
export type ActivationRanges = (ir: GraphIR, tensors: readonly string[], batches: CalibrationSource) => Promise<ReadonlyMap<string, TensorRange>>;

/** Most images per calibration batch. */
export const MAX_CALIBRATION_BATCH = 8;

/**
 * Peak memory of a calibration run, bytes: the memory already in use, the weights (held by
 * onnxruntime too), and about 4× the calibrated tensors of a batch (onnxruntime's buffers, the
 * copies handed to JavaScript, the previous batch's copies not yet collected). Measured: 1.08 GB
 * peak for B0 at 384 px (257 MB of tensors per image, batch 1), estimated 1.13 GB. When the
 * tensors are measured in groups this is an upper bound: each run still computes every activation
 * up to its group (B0 at 4096 px, 1.6 GB for its largest tensor alone, passed 4 GB in 20 s).
 */
export function calibrationPeakBytes(o: { readonly rss: number; readonly weightBytes: number; readonly batchBytes: number }): number {
  return o.rss + 2 * o.weightBytes + 4 * o.batchBytes;
}

/** int8 calibration would not fit in memory (estimated before any image is read); a runtime error. */
export class CalibrationMemoryError extends MemoryLimitError {
  override name = 'CalibrationMemoryError';
}

/**
 * How calibration batches and runs are sized: images per batch so that one batch's calibrated
 * tensors stay within the run budget (1..{@link MAX_CALIBRATION_BATCH}), tensors measured in groups
 * when one image's exceed it, and the estimated peak; CalibrationMemoryError when it cannot fit.
 */
export function planCalibration(ir: GraphIR, tensors: readonly string[], o: { readonly label: string; readonly resolution: number; readonly runBytes?: number; readonly available?: number }) {
  const budget = o.runBytes ?? CALIBRATION_RUN_BYTES;
  const perImage = calibrationBytesPerImage(ir, tensors);
  const batch = Math.max(1, Math.min(MAX_CALIBRATION_BATCH, Math.floor(budget / perImage)));
  const weightBytes = ir.initializers.reduce((n, i) => n + 4 * i.shape.reduce((a, d) => a * d, 1), 0);
  const peak = calibrationPeakBytes({ rss: process.memoryUsage.rss(), weightBytes, batchBytes: perImage * batch });
  const available = o.available ?? availableMemory();
  const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
  const refusal =
    peak > available
      ? new CalibrationMemoryError(
          `int8 calibration of ${o.label} at ${o.resolution} px needs about ${gb(peak)} (${(perImage / 1e6).toFixed(0)} MB of activations per image); ${gb(available)} is available: lower --resolution or free memory`,
        )
      : undefined;
  return { batch, perImage, peak, available, runBytes: budget, refusal };
}

export interface Int8Options {
  readonly calibration: Int8Calibration;
  /** Default {@link DEFAULT_CALIBRATION_METHOD}. */
  readonly method?: CalibrationMethod;
  /** Which ops run in int8 (graph-builder QUANTIZE_POLICIES; default 'all', the fastest in onnxruntime). */
  readonly policy?: QuantizePolicy;
  /** onnxruntime intra-op threads for the calibration runs. */
  readonly threads?: number;
  /** Most bytes of calibrated tensors per run (default CALIBRATION_RUN_BYTES): sizes batches and tensor groups. */
  readonly runBytes?: number;
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
  checkPrepareArgs('prepareInt8Model', ref, o);
  checkInt8Options('prepareInt8Model', o.int8);
  const { int8, ...rest } = o;
  // The pass table: int8 requires fold-bn, excludes fp16 (OptionError naming the flags), raises the opset.
  const passes = resolvePasses({ ...rest, int8: true });
  const { int8: _int8, ...required } = passes.options;
  // The input passes (--layout nhwc, --embed-preprocessing) go in front of the quantized network:
  // calibration feeds the float NCHW input, as every other int8 file.
  const { model, inputPasses } = prepareStages(ref, { ...rest, ...required, opset: passes.opset }, ['graph']);
  return quantize(model, int8, inputPasses);
}

/** A model int8 cannot quantize (not float32); the CLI maps it to a usage error. */
export class Int8OptionError extends Error {
  override name = 'Int8OptionError';
}

/** The int8 options, checked at the public boundary: OptionError('int8' / 'calibration') naming what was expected. */
function checkInt8Options(fn: string, o: unknown): void {
  const shape = `{ calibration: { kind: 'images', dir } | { kind: 'builtin' }, method?, policy? }`;
  if (typeof o !== 'object' || o === null) throw new OptionError('int8', `${fn}: int8: expected ${shape}, got ${describeValue(o)}`);
  const c = (o as Int8Options).calibration as unknown;
  const kind = (c as { kind?: unknown } | null)?.kind;
  if (kind !== 'builtin' && !(kind === 'images' && typeof (c as { dir?: unknown }).dir === 'string'))
    throw new OptionError('calibration', `${fn}: int8.calibration: expected { kind: 'images', dir } or { kind: 'builtin' }, got ${describeValue(c)}`);
}

/** The int8 step on a prepared float32 model (BatchNorm folded: prepareModel with foldBn) whose input is float NCHW. */
export async function quantizeModel(p: PreparedModel, o: Int8Options): Promise<Int8Model> {
  checkInt8Options('quantizeModel', o);
  if (p.metadata['effnet.embedded_preprocessing'] === 'true' || p.metadata['effnet.input_layout']?.startsWith('NHWC'))
    throw new Int8OptionError(
      `${p.label}: int8 calibration feeds the float NCHW input; this model takes ${p.metadata['effnet.input_layout']}: use prepareInt8Model with the same options (it quantizes first, then puts the input passes in front)`,
    );
  return quantize(p, o, (ir) => ir);
}

async function quantize(p: PreparedModel, o: Int8Options, inputPasses: (ir: GraphIR) => GraphIR): Promise<Int8Model> {
  const method = calibrationMethod(o.method ?? DEFAULT_CALIBRATION_METHOD);
  const policy = o.policy ?? 'all';
  if (p.metadata['effnet.precision'] !== 'float32') throw new Int8OptionError(`${p.label}: int8 quantizes a float32 model; this one is ${p.metadata['effnet.precision']}`);
  const t0 = performance.now();
  // Throws QuantizeError (one line) when the graph has no quantizable op, before any image is read.
  const tensors = quantizationTargets(p.ir, { policy });
  // Batches sized by memory, and the peak estimated, before any image is read.
  const plan = planCalibration(p.ir, tensors, { label: p.label, resolution: p.resolution, ...(o.runBytes ? { runBytes: o.runBytes } : {}) });
  let batches: CalibrationSource;
  let stream: ReturnType<typeof openCalibrationImages> | undefined;
  let source: string;
  if (o.calibration.kind === 'images') {
    // Streamed: decoded batch by batch on each pass, one batch held at a time.
    stream = openCalibrationImages(o.calibration.dir, {
      count: o.calibration.count ?? DEFAULT_CALIBRATION_IMAGES,
      batch: plan.batch,
      resolution: p.resolution,
      ...p.preprocess,
    });
    batches = stream;
    source = o.calibration.dir;
  } else {
    const all = formulaInput([BUILTIN_CALIBRATION_IMAGES, 3, p.resolution, p.resolution]);
    const per = 3 * p.resolution * p.resolution;
    const builtin: CalibrationBatch[] = [];
    for (let i = 0; i < BUILTIN_CALIBRATION_IMAGES; i += plan.batch) {
      const n = Math.min(plan.batch, BUILTIN_CALIBRATION_IMAGES - i);
      builtin.push({ data: all.subarray(i * per, (i + n) * per), dims: [n, 3, p.resolution, p.resolution] });
    }
    batches = builtin;
    source = BUILTIN_CALIBRATION_SOURCE;
  }
  if (plan.refusal) throw plan.refusal;
  const measure: ActivationRanges =
    o.ranges ??
    ((ir, t, b) => calibrateActivations(ir, t, b, { method, runBytes: plan.runBytes, ...(o.threads ? { threads: o.threads } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) }));
  const ranges = await measure(p.ir, tensors, batches);
  const files = stream ? stream.files : [];
  const failed = stream ? stream.failed : [];
  const images = stream ? files.length : BUILTIN_CALIBRATION_IMAGES;
  const ir = inputPasses(quantizeQdq(p.ir, { ranges, policy }));
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
    inputName: ir.inputs[0]!.name,
    int8: summary,
    serialize: () => serializeModel(ir, exportOptions),
    source: () => serializeModel(ir, exportOptions),
    write: (path, w = {}) => writeModel(ir, path, { ...w, ...exportOptions }),
    writeAsync: (path, w = {}) => writeModelAsync(ir, path, { ...w, ...exportOptions }),
  };
}
