/**
 * BatchNorm calibration: running statistics measured on a deterministic input in one forward pass,
 * so that formula-weight models give input-dependent outputs (with identity statistics the signal
 * of an EfficientNet vanishes through the SiLU/SE gates and every logit equals the classifier bias).
 *
 * The pipeline does not run models itself: a {@link StatisticsProvider} is injected (the effnet CLI
 * and bench inject {@link onnxruntimeStatistics}); this module decides what is measured and checks
 * what the provider returns.
 */
import { batchNormStatsGraph, OptionError, type GraphIR, type InitializerIR } from '@effnet/graph-builder';

/** Calibration batch of the reference fixtures (../shared/fixtures: a formula batch of 2). */
export const CALIBRATION_BATCH = 2;

/**
 * Fewest values per channel a BatchNorm's batch statistics are measured over when the smallest map
 * is under {@link MIN_BN_MAP} values. With too few, the batch spans too few directions: channels
 * whose batch variance is far below ε appear in every layer, and the eval-mode model multiplies
 * whatever differs from the calibration batch (another image, or only onnxruntime's fused Conv+BN
 * rounding) by up to 1/√(v+ε) per layer, so logits grow to 1e30 or overflow to NaN (B0 and
 * ResNet-50 at `--resolution 1`: 2 values per channel at a 1×1 map). Deep networks whose last
 * stages all run at 1×1 need the most: measured with `bench/small-resolutions.mjs`, 32 left B5–B7
 * at 1–7 px with logits up to 1e6, 64 left TF-B5 at 7 px at 3e3, 128 bounds every model.
 */
export const MIN_BN_SAMPLES = 128;

/**
 * Maps of at least this many values (5×5: every model at 160 px and up, the size of effnet's trained
 * Imagenette checkpoint) keep the fixtures' batch of {@link CALIBRATION_BATCH} (50 values per
 * channel, bounded there for B7 too), so files at those sizes keep their bytes.
 */
export const MIN_BN_MAP = 25;

/**
 * The calibration batch for a graph: {@link CALIBRATION_BATCH} where every BatchNorm's map has at
 * least {@link MIN_BN_MAP} values; below, enough images that each sees {@link MIN_BN_SAMPLES}
 * values per channel (batch × its H·W).
 */
export function calibrationBatchFor(ir: GraphIR): number {
  return batchForStats(batchNormStatsGraph(ir).stats);
}

function batchForStats(stats: ReturnType<typeof batchNormStatsGraph>['stats']): number {
  const smallest = Math.min(...stats.map((s) => s.spatial ?? Infinity));
  return smallest >= MIN_BN_MAP ? CALIBRATION_BATCH : Math.max(CALIBRATION_BATCH, Math.ceil(MIN_BN_SAMPLES / smallest));
}

export interface CalibrateOptions {
  /** Calibration batch size (default {@link calibrationBatchFor} the graph): input formulaInput([batch, ...input dims after the batch]). */
  readonly batch?: number;
}

/**
 * Measures BatchNorm statistics for the pipeline. Synchronous, because it runs inside lazy weight
 * materialisation (the first serialize/write of a prepared model).
 *
 * Contract of batchNormStatistics(ir, { batch }): run `ir` once in training-style batch statistics
 * mode, i.e. the graph of graph-builder's batchNormStatsGraph(ir), on
 * formulaInput([batch, ...ir.inputs[0].shape.slice(1)]) from @effnet/efficientnet, and return, for
 * every BatchNormalization, the per-channel batch mean and the biased batch variance keyed by the
 * names of its running-mean and running-variance initializers. The result must be deterministic
 * (same bits every run): exported files are reproducible.
 */
export interface StatisticsProvider {
  /** Names the runtime in messages (e.g. 'onnxruntime-node'). */
  readonly name: string;
  batchNormStatistics(ir: GraphIR, o: { readonly batch: number }): Map<string, Float32Array>;
}

/** Checks the batch option; throws OptionError('batch') for anything but a positive integer. */
export function calibrationBatch(o: CalibrateOptions = {}): number {
  const batch = o.batch ?? CALIBRATION_BATCH;
  if (!Number.isInteger(batch) || batch < 1) throw new OptionError('batch', `calibration batch must be a positive integer, got ${batch}`);
  return batch;
}

/**
 * `ir` with every BatchNorm running_mean/running_var initializer replaced by statistics measured
 * by `provider`. Lazy: nothing runs until the first of them is materialized (serialize/write,
 * fold-bn); then all are measured at once, on the graph as given, and checked (every statistic
 * present, one value per channel, all finite).
 */
export function calibrateBatchNorm(ir: GraphIR, provider: StatisticsProvider, o: CalibrateOptions = {}): GraphIR {
  const { stats } = batchNormStatsGraph(ir);
  const batch = calibrationBatch({ batch: o.batch ?? batchForStats(stats) });
  if (stats.length === 0) return ir;
  const channels = new Map(stats.flatMap((s) => [[s.mean, s.channels] as const, [s.variance, s.channels] as const]));
  let measured: Map<string, Float32Array> | undefined;
  const measure = (): Map<string, Float32Array> => {
    const m = provider.batchNormStatistics(ir, { batch });
    for (const [name, n] of channels) {
      const v = m.get(name);
      if (!v) throw new Error(`calibrateBatchNorm: graph '${ir.name}': ${provider.name} returned no statistics for '${name}'`);
      if (v.length !== n) throw new Error(`calibrateBatchNorm: graph '${ir.name}': ${provider.name} returned ${v.length} values for '${name}', expected ${n}`);
      if (!v.every(Number.isFinite)) throw new Error(`calibrateBatchNorm: graph '${ir.name}': '${name}' is not finite`);
    }
    return m;
  };
  const initializers = ir.initializers.map((i): InitializerIR => {
    if (!channels.has(i.name)) return i;
    if (i.dtype !== 'float32') throw new Error(`calibrateBatchNorm: '${i.name}' is ${i.dtype}; calibrate before converting to float16`);
    return {
      ...i,
      data: () => {
        measured ??= measure();
        return measured.get(i.name)!;
      },
    };
  });
  return { ...ir, initializers };
}
