/**
 * The model pipeline: a model id (+ weights, passes, precision, opset, names) → built graph →
 * BatchNorm calibration (injected {@link StatisticsProvider}) → passes → ONNX bytes or a file; and
 * an existing .onnx file opened the same way. What every command can run: built graph + ONNX
 * bytes, parameter and MAC counts, preprocessing.
 */
import { existsSync, statSync } from 'node:fs';
import { describeValue, graphStats, numel, OptionError, type GraphIR, type GraphStats } from '@effnet/graph-builder';
import { buildModel, buildModelWithWeights, type BuildOptions, type BuiltModel, type Preprocess, type WeightSource } from '@effnet/efficientnet';
import { calibrateBatchNorm, calibrationBatchFor, type StatisticsProvider } from './calibrate.js';
import { INLINE_LIMIT_BYTES, readModel, serializeModel, writeModel, writeModelAsync, type LoadedModel, type WriteOptions, type WriteResult } from '@effnet/onnx-export';
import { describeImageModel, type ImageInputKind } from '@effnet/preprocess';
import { applyGraphPasses, contextMetadata, passMetadata, resolvePasses, type PassOptions } from './passes.js';
import type { PassContext } from './deploy.js';

/** The deployment passes' options (pass table: --features, --head none, --dynamic-size, --layout, --embed-preprocessing, --outputs, --opencv). */
export type DeployOptions = Pick<PassOptions, 'features' | 'head' | 'dynamicSize' | 'layout' | 'embedPreprocessing' | 'outputs' | 'opencv'>;

export interface PrepareOptions extends Omit<BuildOptions, 'weights'>, DeployOptions {
  /** Fold BatchNorm into the preceding conv (exact up to float rounding). */
  readonly foldBn?: boolean;
  /** float16 weights and compute (inputs/outputs stay float32 unless fp16Io). */
  readonly fp16?: boolean;
  readonly fp16Io?: boolean;
  /** Padding as plain Pad/Slice nodes (no negative Pad, no asymmetric Conv/MaxPool pads), for runtimes that need it. */
  readonly explicitPads?: boolean;
  readonly opset?: number;
  readonly inputName?: string;
  readonly outputName?: string;
  readonly weights?: WeightSource;
  /**
   * Trained weights (.safetensors, a torch.save .pth/.bin, or hf:ORG/NAME from the local Hugging Face cache; timm or torchvision naming). The number of classes comes from
   * the file's classifier unless numClasses is given (then they must agree).
   */
  readonly weightsPath?: string;
  readonly extraMetadata?: Readonly<Record<string, string>>;
  /**
   * With the default (formula) weights: BatchNorm running statistics measured on the formula input
   * in one forward pass (calibrateBatchNorm with `statistics`), so outputs depend on the input.
   * Default true; lazy (runs at the first serialize/write, never for stats only). Ignored with
   * weights/weightsPath, and skipped for weights over the 2 GiB protobuf limit (AmoebaNet-B(18,512)).
   */
  readonly calibrate?: boolean;
  /**
   * Runs the calibration pass. The library runs no model itself: without a provider the default
   * weights keep identity BatchNorm statistics and effnet.weights says so ("no statistics provider,
   * not calibrated"). The effnet CLI and bench inject {@link onnxruntimeStatistics} (onnxruntime-node
   * in a child process), exported by this package.
   */
  readonly statistics?: StatisticsProvider;
}

/** What every runner/eval needs of a model, whether built here or read from a file. */
export interface ModelHandle {
  readonly kind: 'built' | 'file';
  /** Model id or file path as given. */
  readonly ref: string;
  /** Display name: the model id, or the file's effnet.model metadata / file name. */
  readonly label: string;
  readonly stats: GraphStats;
  readonly resolution: number;
  readonly numClasses: number;
  readonly preprocess: Preprocess;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputName: string;
  readonly outputName: string;
  /** What the input takes (from the passes or the file's metadata): give it to createRunner. */
  readonly inputKind: ImageInputKind;
  /** ONNX bytes (built) or the file path (file), as onnxruntime accepts either. */
  source(): Uint8Array | string;
}

/** A model built here; `stats` are those of the unmodified architecture (params as PyTorch counts them). */
export interface PreparedModel extends ModelHandle {
  readonly kind: 'built';
  readonly built: BuiltModel;
  /** Final graph after passes (fold-bn, fp16, renames). */
  readonly ir: GraphIR;
  readonly opset: number;
  serialize(): Uint8Array;
  write(path: string, o?: Omit<WriteOptions, keyof PrepareOptions>): WriteResult;
  /** write() that lets Ctrl-C/SIGTERM interrupt a long export (no file is left behind). */
  writeAsync(path: string, o?: Omit<WriteOptions, keyof PrepareOptions>): Promise<WriteResult>;
}

/** The public boundary's checks of prepareModel's arguments: OptionError naming the option, before anything is built. */
export function checkPrepareArgs(fn: string, ref: unknown, o: unknown): void {
  if (typeof ref !== 'string' || ref === '') throw new OptionError('ref', `${fn}: expected a model id (e.g. 'efficientnet-b0'), got ${describeValue(ref)}`);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new OptionError('options', `${fn}: options: expected an object, got ${describeValue(o)}`);
  const p = o as PrepareOptions;
  if (p.weights !== undefined && typeof (p.weights as { get?: unknown })?.get !== 'function')
    throw new OptionError(
      'weights',
      `${fn}: weights: expected a WeightSource (an object with get(name, shape, kind)), got ${describeValue(p.weights)}${typeof p.weights === 'string' ? `; for a file give weightsPath: '${p.weights}'` : ''}`,
    );
  if (p.weightsPath !== undefined && (typeof p.weightsPath !== 'string' || p.weightsPath === ''))
    throw new OptionError('weightsPath', `${fn}: weightsPath: expected a file path, got ${describeValue(p.weightsPath)}`);
  if (p.opset !== undefined && typeof p.opset !== 'number') throw new OptionError('opset', `${fn}: opset: expected a number, got ${describeValue(p.opset)}`);
  if (p.extraMetadata !== undefined) {
    if (typeof p.extraMetadata !== 'object' || p.extraMetadata === null)
      throw new OptionError('extraMetadata', `${fn}: extraMetadata: expected an object of string values, got ${describeValue(p.extraMetadata)}`);
    for (const [k, v] of Object.entries(p.extraMetadata)) if (typeof v !== 'string') throw new OptionError('extraMetadata', `${fn}: extraMetadata '${k}': expected a string, got ${describeValue(v)}`);
  }
}

export function isOnnxPath(ref: string): boolean {
  return ref.toLowerCase().endsWith('.onnx') || (existsSync(ref) && statSync(ref).isFile());
}

export function prepareModel(ref: string, o: PrepareOptions = {}): PreparedModel {
  checkPrepareArgs('prepareModel', ref, o);
  return prepareStages(ref, o, ['graph', 'input']).model;
}

/**
 * prepareModel with the chosen graph-pass stages, and the function that applies the `input` stage
 * (layout, embedded preprocessing) later: the int8 step calibrates the float NCHW network first.
 */
export function prepareStages(ref: string, o: PrepareOptions, stages: readonly ('graph' | 'input')[]): { model: PreparedModel; inputPasses: (ir: GraphIR) => GraphIR } {
  if (o.weightsPath !== undefined && o.weights) throw new OptionError('weightsPath', 'prepareModel: give weights or weightsPath, not both');
  // Checked against the pass table before anything is built.
  const passes = resolvePasses(o);
  const { weightsPath, weights: _w, statistics, ...buildOptions } = o;
  const built = weightsPath !== undefined ? buildModelWithWeights(ref, weightsPath, buildOptions) : buildModel(ref, { ...buildOptions, ...(o.weights ? { weights: o.weights } : {}) });
  const stats = graphStats(built.ir);
  let ir = built.ir;
  const calibration = defaultWeightsCalibration(built.ir, weightsPath === undefined && !o.weights, o.calibrate ?? true, statistics);
  if (calibration.calibrate && statistics) ir = calibrateBatchNorm(ir, statistics, calibration.batch !== undefined ? { batch: calibration.batch } : {});
  const ctx: PassContext = {
    model: built.spec.id,
    ...(built.features ? { features: built.features } : {}),
    ...(built.embedding ? { embedding: built.embedding } : {}),
    ...(built.padding ? { padding: built.padding } : {}),
    resolution: built.resolution,
    numClasses: built.numClasses,
    preprocess: built.spec.preprocess,
  };
  ir = applyGraphPasses(ir, passes, ctx, stages);
  const inputName = ir.inputs[0]!.name;
  const outputName = ir.outputs[0]!.name;
  const opset = passes.opset;
  const metadata = {
    ...built.metadata,
    'effnet.params': String(stats.params),
    'effnet.macs': String(stats.macs),
    ...passMetadata(passes),
    ...contextMetadata(passes, ctx),
    ...(calibration.weights ? { 'effnet.weights': calibration.weights } : {}),
    ...(o.extraMetadata ?? {}),
  };
  const exportOptions = { opset, metadata, docString: built.spec.description };
  const model: PreparedModel = {
    kind: 'built',
    ref,
    label: built.spec.id,
    built,
    ir,
    stats,
    resolution: built.resolution,
    numClasses: built.numClasses,
    preprocess: built.spec.preprocess,
    metadata,
    opset,
    inputName,
    outputName,
    inputKind: passes.options.embedPreprocessing ? 'pixels' : passes.options.layout === 'nhwc' ? 'nhwc' : 'nchw',
    serialize: () => serializeModel(ir, exportOptions),
    source: () => serializeModel(ir, exportOptions),
    write: (path, w = {}) => writeModel(ir, path, { ...w, ...exportOptions }),
    writeAsync: (path, w = {}) => writeModelAsync(ir, path, { ...w, ...exportOptions }),
  };
  return { model, inputPasses: (g) => applyGraphPasses(g, passes, ctx, ['input']) };
}

/**
 * Whether default-weight BatchNorm statistics get calibrated, and what the file's effnet.weights
 * says about it. Not over the 2 GiB protobuf limit: AmoebaNet-B(18,512) would need a forward pass of
 * 557M parameters from a 2.2 GB external-data copy (minutes, twice the disk) on every export;
 * it keeps identity statistics (its ReLU network does not lose the signal the way EfficientNet's
 * SiLU/SE gates do).
 */
function defaultWeightsCalibration(ir: GraphIR, defaultWeights: boolean, wanted: boolean, provider: StatisticsProvider | undefined): { calibrate: boolean; batch?: number; weights?: string } {
  if (!defaultWeights) return { calibrate: false };
  const identity = 'formula; BatchNorm identity (gamma 1, beta 0, mean 0, var 1)';
  if (!wanted) return { calibrate: false, weights: identity };
  const bytes = ir.initializers.reduce((p, i) => p + numel(i.shape) * 4, 0);
  if (bytes > INLINE_LIMIT_BYTES) return { calibrate: false, weights: `${identity}: over 2 GiB, not calibrated` };
  if (!provider) return { calibrate: false, weights: `${identity}: no statistics provider, not calibrated` };
  const batch = calibrationBatchFor(ir);
  return { calibrate: true, batch, weights: `formula; BatchNorm statistics calibrated on formulaInput([${batch},3,R,R]) in one forward pass` };
}

export interface FileModel extends ModelHandle {
  readonly kind: 'file';
  readonly loaded: LoadedModel;
}

/** Opens an existing .onnx file; preprocessing comes from its effnet metadata when present. */
export function openModelFile(path: string): FileModel {
  const loaded = readModel(path);
  const { ir, metadata } = loaded;
  const input = ir.inputs[0];
  const output = ir.outputs[0];
  if (!input || !output) throw new Error(`${path}: model needs at least one input and one output`);
  // The metadata rules (mean/std/crop/interpolation defaults, [N,3,R,R] check) live in @effnet/preprocess.
  const info = describeImageModel(metadata, { source: path, inputName: input.name, inputShape: input.shape, outputShape: output.shape, inputType: input.dtype });
  const { resolution, ...preprocess } = info.preprocess;
  return {
    kind: 'file',
    ref: path,
    label: info.name,
    loaded,
    stats: graphStats(ir),
    resolution,
    numClasses: info.numClasses ?? 0,
    preprocess,
    metadata,
    inputName: input.name,
    outputName: output.name,
    inputKind: info.input,
    source: () => path,
  };
}

/** A model id or an .onnx path, whichever the user gave. */
export function openModel(ref: string, o: PrepareOptions = {}): ModelHandle {
  if (!isOnnxPath(ref)) return prepareModel(ref, o);
  if (o.weightsPath !== undefined) throw new OptionError('weightsPath', `weightsPath applies to model ids, not to an .onnx file ('${ref}' has its weights already)`);
  return openModelFile(ref);
}
