/**
 * Activation statistics for static int8 quantization: the float32 graph runs in onnxruntime-node
 * over calibration batches with every tensor to quantize made a graph output, and each tensor's
 * range is reduced to what the chosen method keeps:
 *  - `minmax`: the smallest and largest value seen;
 *  - `percentile`: the `percentile`-th and (100 − percentile)-th percentiles of the values seen
 *    (a 2048-bin histogram over the min–max range; default 99.999, onnxruntime's);
 *  - `entropy`: per side of zero, the clipping threshold whose 128-level quantization of the
 *    histogram loses the least information (smallest KL divergence; TensorRT's calibration).
 * Histogram methods run the batches twice (first the ranges, then the histograms).
 *
 * The graph runs through @effnet/runtime (onnxruntime-node on the CPU, imported on the first call
 * only, so importing the pipeline never loads it).
 */
import { OptionError, type GraphIR, type TensorRange, type ValueInfo } from '@effnet/graph-builder';
import type { CalibrationBatch } from '@effnet/images';
import { serializeModel } from '@effnet/onnx-export';
import { openSession, tensor } from '@effnet/runtime';

export type { CalibrationBatch };

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** The method, checked (the one check of it: quantizeModel and calibrateActivations both call it); OptionError('method') otherwise. */
export function calibrationMethod(method: unknown): CalibrationMethod {
  if (!(CALIBRATION_METHODS as readonly unknown[]).includes(method)) throw new OptionError('method', `calibration method '${String(method)}': expected ${CALIBRATION_METHODS.join(', ')}`);
  return method as CalibrationMethod;
}

export interface ActivationCalibrationOptions {
  readonly method?: CalibrationMethod;
  /** For `percentile`: the upper percentile kept (default 99.999). */
  readonly percentile?: number;
  /** Histogram bins (default 2048). */
  readonly bins?: number;
  /** onnxruntime intra-op threads (default: the runtime's choice). */
  readonly threads?: number;
  /**
   * Most bytes of calibrated tensors one run may return (default {@link CALIBRATION_RUN_BYTES}):
   * when a batch's tensors add up to more, they are measured in groups, one run of the graph per
   * group, so that memory stays bounded for any model and resolution (at the cost of more runs).
   */
  readonly runBytes?: number;
  /** Called after every batch of every pass. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Calibration batches: a list held in memory, or a source read once per pass (histogram methods
 * read it twice) that produces them one at a time, so that a caller can stream images decoded
 * batch by batch and hold one batch at once. `batches` is the number it yields (for progress).
 */
export type CalibrationSource = readonly CalibrationBatch[] | { readonly batches: number; read(): AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch> };

/**
 * Bytes one calibration image costs while the graph runs: its input plus every calibrated tensor
 * (all of them are graph outputs of the calibration run, so onnxruntime holds them at once and
 * they are copied out to JavaScript), per image (batch dimension left out). Shapes come from the
 * graph (every value's shape is inferred when the graph is built).
 */
export function calibrationBytesPerImage(ir: GraphIR, tensors: readonly string[]): number {
  const known = new Map<string, ValueInfo>([...ir.inputs, ...ir.values, ...ir.outputs].map((v) => [v.name, v]));
  return bytesPerImage(ir.inputs[0]) + tensors.reduce((n, t) => n + bytesPerImage(known.get(t)), 0);
}

/** Default most bytes of calibrated tensors returned by one calibration run (see ActivationCalibrationOptions.runBytes). */
export const CALIBRATION_RUN_BYTES = 256 * 2 ** 20;

/** Bytes of one tensor per image (batch dimension left out). */
function bytesPerImage(v: ValueInfo | undefined): number {
  return v ? 4 * v.shape.slice(1).reduce<number>((n, d) => n * (typeof d === 'number' ? d : 1), 1) : 0;
}

/**
 * `tensors` split, in order, into groups whose bytes for `images` images stay within `runBytes`
 * (a tensor bigger than that alone is a group by itself).
 */
export function calibrationGroups(ir: GraphIR, tensors: readonly string[], images: number, runBytes: number): string[][] {
  const known = new Map<string, ValueInfo>([...ir.inputs, ...ir.values, ...ir.outputs].map((v) => [v.name, v]));
  const groups: string[][] = [];
  let current: string[] = [],
    bytes = 0;
  for (const t of tensors) {
    const b = bytesPerImage(known.get(t)) * images;
    if (current.length && bytes + b > runBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += b;
  }
  if (current.length) groups.push(current);
  return groups;
}

/** A provider of activation ranges: what a pipeline injects (this module's is {@link calibrateActivations}). */
export type ActivationStatistics = (ir: GraphIR, tensors: readonly string[]) => Promise<ReadonlyMap<string, TensorRange>>;

/**
 * Ranges of `tensors` (names of float32 values of `ir`) over `batches` of `ir`'s single input
 * (a list, or a {@link CalibrationSource} streamed once per pass).
 * The graph is the one to be quantized (BatchNorm already folded), with a dynamic or matching batch.
 */
export async function calibrateActivations(ir: GraphIR, tensors: readonly string[], batches: CalibrationSource, o: ActivationCalibrationOptions = {}): Promise<Map<string, TensorRange>> {
  const method = calibrationMethod(o.method ?? 'minmax');
  const percentile = o.percentile ?? 99.999;
  if (!(percentile > 50 && percentile <= 100)) throw new RangeError(`percentile ${percentile}: expected a number in (50, 100]`);
  const bins = o.bins ?? 2048;
  const runBytes = o.runBytes ?? CALIBRATION_RUN_BYTES;
  if (!(runBytes > 0)) throw new OptionError('runBytes', `runBytes ${runBytes}: expected a positive number of bytes`);
  if (!Number.isInteger(bins) || bins < 256) throw new RangeError(`bins ${bins}: expected an integer >= 256`);
  const source = 'read' in batches ? batches : { batches: batches.length, read: () => batches };
  if (source.batches === 0) throw new Error('calibrateActivations: no calibration batches');
  if (ir.inputs.length !== 1) throw new Error(`calibrateActivations: graph '${ir.name}' needs exactly one input, has ${ir.inputs.length}`);
  if (tensors.length === 0) return new Map();

  const known = new Map<string, ValueInfo>([...ir.inputs, ...ir.values, ...ir.outputs].map((v) => [v.name, v]));
  const outputs: ValueInfo[] = tensors.map((t) => {
    const v = known.get(t);
    if (!v) throw new Error(`calibrateActivations: graph '${ir.name}' has no value '${t}'`);
    if (v.dtype !== 'float32') throw new Error(`calibrateActivations: '${t}' is ${v.dtype}; only float32 tensors are calibrated`);
    return { ...v, shape: v.shape.map((d, i) => (i === 0 ? 'N' : d)) };
  });
  const input = ir.inputs[0]!;
  const graph: GraphIR = {
    ...ir,
    name: `${ir.name}.calibration`,
    inputs: [{ ...input, shape: input.shape.map((d, i) => (i === 0 ? 'N' : d)) }],
    outputs,
    values: [],
  };
  const session = await openSession(serializeModel(graph, { opset: Math.max(13, ir.minOpset) }), { ep: 'cpu', quiet: true, lowMemory: true, ...(o.threads ? { threads: o.threads } : {}) });
  const passes = method === 'minmax' ? 1 : 2;
  const total = passes * source.batches;
  let done = 0;
  const each = async (visit: (name: string, data: Float32Array, images: number) => void) => {
    for await (const b of source.read()) {
      const feeds = { [input.name]: tensor('float32', b.data, b.dims) };
      // One run per group of tensors; each group's outputs are dropped before the next run.
      for (const group of calibrationGroups(ir, tensors, b.dims[0] ?? 1, runBytes)) {
        const result = await session.run(feeds, group);
        for (const t of group) visit(t, result[t]!.data as Float32Array, b.dims[0] ?? 1);
      }
      o.onProgress?.(++done, total);
    }
  };
  try {
    // Pass 1: every image's smallest and largest value of every tensor.
    const mins = new Map<string, number[]>(tensors.map((t) => [t, []]));
    const maxs = new Map<string, number[]>(tensors.map((t) => [t, []]));
    await each((t, d, images) => {
      const per = d.length / images;
      for (let k = 0; k < images; k++) {
        let mn = Infinity,
          mx = -Infinity;
        for (let i = k * per, end = (k + 1) * per; i < end; i++) {
          const v = d[i]!;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        mins.get(t)!.push(mn);
        maxs.get(t)!.push(mx);
      }
    });
    for (const t of tensors)
      if (!mins.get(t)!.every(Number.isFinite) || !maxs.get(t)!.every(Number.isFinite)) throw new Error(`calibrateActivations: tensor '${t}' has non-finite values on the calibration data`);
    // The range each method works in: the images' extremes, leaving out an image whose extreme is an outlier.
    const lo = new Map(tensors.map((t) => [t, -robustExtreme(mins.get(t)!.map((v) => -v))]));
    const hi = new Map(tensors.map((t) => [t, robustExtreme(maxs.get(t)!)]));
    if (method === 'minmax') return new Map(tensors.map((t) => [t, { min: lo.get(t)!, max: hi.get(t)! }]));

    const hists = new Map(tensors.map((t) => [t, new Float64Array(bins)]));
    await each((t, d) => histogramInto(hists.get(t)!, d, lo.get(t)!, hi.get(t)!));
    const out = new Map<string, TensorRange>();
    for (const t of tensors) {
      const h = hists.get(t)!,
        min = lo.get(t)!,
        max = hi.get(t)!;
      out.set(t, method === 'percentile' ? percentileRange(h, min, max, percentile) : entropyRange(h, min, max));
    }
    return out;
  } finally {
    await session.release();
  }
}

/** An image's extreme is an outlier when it exceeds this many times the images' 90th percentile extreme. */
export const OUTLIER_FACTOR = 4;
/** Fewest images for outliers to be left out (with fewer, every image counts). */
export const OUTLIER_MIN_IMAGES = 10;

/**
 * The largest of the images' extremes (`extremes`: each image's largest value of a tensor) that is
 * not an outlier: beyond {@link OUTLIER_FACTOR} × the 90th percentile of them (when that is
 * positive, and there are at least {@link OUTLIER_MIN_IMAGES} images). One image can drive a tensor of a trained network hundreds of times past what every
 * other image reaches (Imagenette B0: one image takes the last blocks' SE squeeze to 650 and the
 * head to 312, where the other 99 of its sample stay under 7 and 1): a range stretched to it leaves
 * the other images a handful of levels. Its values are clipped to the range instead (histograms
 * count them in the edge bins).
 */
export function robustExtreme(extremes: readonly number[]): number {
  const sorted = [...extremes].sort((a, b) => a - b);
  const top = sorted[sorted.length - 1]!;
  const q = sorted[Math.floor(0.9 * (sorted.length - 1))]!;
  if (sorted.length < OUTLIER_MIN_IMAGES || !(q > 0) || top <= OUTLIER_FACTOR * q) return top;
  let k = sorted.length - 1;
  while (sorted[k]! > OUTLIER_FACTOR * q) k--;
  return sorted[k]!;
}

/** Adds `data` to a histogram of `h.length` equal bins over [min, max]. */
export function histogramInto(h: Float64Array, data: Float32Array, min: number, max: number): void {
  const bins = h.length;
  const width = (max - min) / bins;
  if (!(width > 0)) {
    h[0]! += data.length;
    return;
  }
  const inv = 1 / width;
  for (let i = 0; i < data.length; i++) {
    let k = Math.floor((data[i]! - min) * inv);
    if (k >= bins) k = bins - 1;
    else if (k < 0) k = 0;
    h[k]!++;
  }
}

/** [p_low, p_high] of a histogram over [min, max], with p_high = `percentile` and p_low = 100 − it. */
export function percentileRange(h: Float64Array, min: number, max: number, percentile: number): TensorRange {
  const total = h.reduce((s, v) => s + v, 0);
  const width = (max - min) / h.length;
  const tail = (total * (100 - percentile)) / 100;
  let acc = 0,
    lowBin = 0;
  for (; lowBin < h.length; lowBin++) if ((acc += h[lowBin]!) > tail) break;
  acc = 0;
  let highBin = h.length - 1;
  for (; highBin >= 0; highBin--) if ((acc += h[highBin]!) > tail) break;
  return { min: lowBin === 0 ? min : min + lowBin * width, max: highBin === h.length - 1 ? max : min + (highBin + 1) * width };
}

/**
 * Entropy (KL) calibration, TensorRT's algorithm on each side of zero: the clipping threshold
 * (a bin edge) that minimizes KL(P‖Q), P the clipped reference distribution (outliers folded into
 * the last bin), Q its quantization into `levels` levels spread back over the non-empty bins.
 */
export function entropyRange(h: Float64Array, min: number, max: number, levels = 128): TensorRange {
  const width = (max - min) / h.length;
  if (!(width > 0)) return { min, max };
  const zeroBin = Math.min(h.length, Math.max(0, Math.round(-min / width)));
  const positive = Array.from(h.subarray(zeroBin));
  const negative = Array.from(h.subarray(0, zeroBin)).reverse();
  const hiBins = positive.length > levels ? klThreshold(positive, levels) : positive.length;
  const loBins = negative.length > levels ? klThreshold(negative, levels) : negative.length;
  const zero = min + zeroBin * width;
  return { min: loBins === negative.length ? min : zero - loBins * width, max: hiBins === positive.length ? max : zero + hiBins * width };
}

/** Bins (counted from zero) to keep for a one-sided histogram `h`. */
export function klThreshold(h: readonly number[], levels: number): number {
  let best = h.length;
  let bestKl = Infinity;
  const step = Math.max(1, Math.floor((h.length - levels) / 256)); // at most ~256 candidates
  for (let i = levels; i <= h.length; i += step) {
    const p = h.slice(0, i);
    let outliers = 0;
    for (let k = i; k < h.length; k++) outliers += h[k]!;
    p[i - 1]! += outliers;
    // Quantize the first i bins of the *unclipped* histogram into `levels` groups.
    const q = new Array<number>(i).fill(0);
    for (let j = 0; j < levels; j++) {
      const start = Math.floor((j * i) / levels);
      const end = Math.floor(((j + 1) * i) / levels);
      let sum = 0,
        nonzero = 0;
      for (let k = start; k < end; k++) {
        sum += h[k]!;
        if (h[k]! > 0) nonzero++;
      }
      if (nonzero > 0) for (let k = start; k < end; k++) if (h[k]! > 0) q[k] = sum / nonzero;
    }
    const kl = klDivergence(p, q);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

function klDivergence(p: readonly number[], q: readonly number[]): number {
  const ps = p.reduce((s, v) => s + v, 0),
    qs = q.reduce((s, v) => s + v, 0);
  if (ps === 0 || qs === 0) return 0;
  let kl = 0;
  for (let k = 0; k < p.length; k++) {
    if (p[k]! === 0) continue;
    const pk = p[k]! / ps;
    const qk = q[k]! / qs;
    kl += qk > 0 ? pk * Math.log(pk / qk) : pk * Math.log(pk / 1e-12);
  }
  return kl;
}
