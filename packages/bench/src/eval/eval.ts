/**
 * Top-1 / top-5 accuracy over a labelled image set, streaming: images are decoded and
 * preprocessed by sharp (libuv's thread pool) a bounded number of batches ahead of inference, so
 * the runner stays busy and memory does not grow with the number of images.
 */
import type { Runner } from '@effnet/runtime';
import type { Dataset, Sample } from '@effnet/images';
import { cropNormalizeInto, ImageDecodeError, loadPixels, loadResized, type Pixels, type PreprocessOptions, type ResizedImage } from '@effnet/images';
import { noClassesMessage, type ClassOutputs } from '@effnet/preprocess';
import { summarizeEval, type ClassAccuracy, type EvalRecord } from './summary.js';

export type { ClassAccuracy };

export interface EvalOptions extends PreprocessOptions {
  /** Images per inference call. */
  readonly batch: number;
  /**
   * The model's input has a fixed batch size equal to `batch`: a short last batch (or one with
   * unreadable images) is padded to it. Otherwise the runner gets [k,3,R,R].
   */
  readonly fixedBatch?: boolean;
  /** Batches decoded ahead of the one running (default 2). */
  readonly prefetch?: number;
  /** Fail on the first unreadable image instead of counting and skipping it. */
  readonly strict?: boolean;
  /** The model's name, for messages (non-finite logits). */
  readonly model?: string;
  /** Called after every batch. */
  readonly onProgress?: (p: EvalProgress) => void;
  /** Called when a batch has been decoded (instrumentation: how far decoding runs ahead). */
  readonly onBatchReady?: (batch: number) => void;
  /** Called for every evaluated image, in listing order, with its top-5 class indices. */
  readonly onPrediction?: (sample: Sample, top5: readonly number[]) => void;
  /** What the model outputs (effnet.outputs: metadataOutputs): logits (default), probabilities, or top-K scores and classes. */
  readonly outputs?: ClassOutputs;
}

export interface EvalProgress {
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  readonly top1: number;
  readonly imagesPerSecond: number;
}

export interface EvalResult {
  /** Images evaluated (listed minus failed). */
  readonly n: number;
  readonly listed: number;
  readonly top1: number;
  readonly top5: number;
  /** Classes with at least one listed image. */
  readonly perClass: readonly ClassAccuracy[];
  readonly failed: readonly { readonly file: string; readonly error: string }[];
  readonly imagesPerSecond: number;
  /** Every evaluated image's top-5, in evaluation order (what sharded parts carry). */
  readonly records: readonly EvalRecord[];
  readonly seconds: {
    /** Wall time during which some image was being read/decoded/resized (overlaps inference). */
    readonly decode: number;
    /** Sum of the runner's wall time. */
    readonly inference: number;
    /** Time inference sat waiting for decoded batches. */
    readonly stall: number;
    readonly total: number;
  };
}

/** Logits with NaN or ±Inf: a broken model, never an answer. */
export class NonFiniteLogitsError extends Error {
  override name = 'NonFiniteLogitsError';
}

/** Throws NonFiniteLogitsError, naming the model and the image, when a row of the first `rows` holds NaN or ±Inf. */
export function assertFiniteLogits(data: Float32Array, classes: number, rows: number, image: (row: number) => string, model = 'the model'): void {
  for (let i = 0; i < rows * classes; i++) {
    if (Number.isFinite(data[i]!)) continue;
    const r = Math.floor(i / classes);
    throw new NonFiniteLogitsError(`${model}: non-finite logits (${data[i]} for class ${i - r * classes}) on ${image(r)}; its weights or graph are broken`);
  }
}

/** Indices of the k largest values of row `r` of a [rows, classes] matrix, largest first. */
export function topK(data: Float32Array, classes: number, r: number, k: number): number[] {
  const best: number[] = [];
  const base = r * classes;
  for (let j = 0; j < classes; j++) {
    const v = data[base + j]!;
    if (best.length === k && v <= data[base + best[k - 1]!]!) continue;
    let i = Math.min(best.length, k - 1);
    while (i > 0 && data[base + best[i - 1]!]! < v) i--;
    best.splice(i, 0, j);
    if (best.length > k) best.pop();
  }
  return best;
}

interface Prepared {
  readonly data: Float32Array;
  /** Decoded pictures, for a model that takes pixels (embedded preprocessing). */
  readonly pixels?: readonly Pixels[];
  readonly samples: readonly Sample[];
  readonly failed: readonly { readonly file: string; readonly error: string }[];
}

type Scores = { data: Float32Array; dims: readonly number[] };

/**
 * A topk:K file's outputs as a [rows, classes] score matrix: each row's K scores (probabilities)
 * at their classes' indices, -1 elsewhere (below every probability), so top-K ranks as the file did.
 */
function topkScores(out: { data: Float32Array; dims: readonly number[]; also: Record<string, { data: unknown }> }, classesOutput: string, k: number, numClasses: number): Scores {
  const rows = out.dims[0]!;
  if (out.dims.length !== 2 || out.dims[1] !== k) throw new Error(`model output is [${out.dims.join(',')}], expected [${rows},${k}] (a topk:${k} file)`);
  const classes = out.also[classesOutput]!.data as ArrayLike<bigint | number>;
  const data = new Float32Array(rows * numClasses).fill(-1);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < k; j++) {
      const c = Number(classes[r * k + j]!);
      if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`model output '${classesOutput}' holds class ${c}; the model has ${numClasses} classes`);
      data[r * numClasses + c] = out.data[r * k + j]!;
    }
  return { data, dims: [rows, numClasses] };
}

/** Logits [k, classes] of decoded pictures run one by one through a pixels model. */
async function runPictures(runner: Runner, pixels: readonly Pixels[], numClasses: number, run: (out: Awaited<ReturnType<Runner['runPixels']>>) => Scores, also: readonly string[]): Promise<Scores> {
  const data = new Float32Array(pixels.length * numClasses);
  for (const [i, px] of pixels.entries()) {
    const out = run(await runner.runPixels(px.data, [1, px.height, px.width, 3], also));
    if (out.data.length !== numClasses) throw new Error(`model output is [${out.dims.join(',')}], expected [1,${numClasses}]`);
    data.set(out.data, i * numClasses);
  }
  return { data, dims: [pixels.length, numClasses] };
}

export async function evaluate(runner: Runner, dataset: Dataset, numClasses: number, o: EvalOptions): Promise<EvalResult> {
  const R = o.resolution;
  const per = 3 * R * R;
  const { samples } = dataset;
  const maxLabel = samples.reduce((m, s) => Math.max(m, s.label), -1);
  if (maxLabel >= numClasses)
    throw new Error(`${dataset.root}: ${dataset.classes.length} classes but the model has ${numClasses} outputs (class '${dataset.classes[maxLabel]}' has index ${maxLabel})`);
  if (!(Number.isInteger(o.batch) && o.batch > 0)) throw new RangeError(`batch ${o.batch}: expected a positive integer`);
  const B = o.batch;
  const kind = o.outputs ?? { kind: 'logits' };
  if (kind.kind === 'none') throw new Error(noClassesMessage(o.model ?? 'the model', kind));
  // A topk:K file: `scores` [N,K] first, its int64 `classes` the second output; ranked at most K deep.
  const classesOutput = kind.kind === 'topk' ? runner.session.outputs[1]?.name : undefined;
  if (kind.kind === 'topk' && !classesOutput) throw new Error(`${o.model ?? 'the model'}: a topk:${kind.k} file needs a second output (classes)`);
  const also = classesOutput ? [classesOutput] : [];
  const scores = (out: Awaited<ReturnType<Runner['run']>>): Scores => (kind.kind === 'topk' ? topkScores(out, classesOutput!, kind.k, numClasses) : out);
  const depth = kind.kind === 'topk' ? Math.min(5, kind.k) : 5;
  // An embedded-preprocessing file takes each decoded picture as it is (one per call: sizes differ).
  const takesPixels = runner.inputKind === 'pixels';
  const batches = Math.ceil(samples.length / B);
  const prefetch = Math.max(1, o.prefetch ?? 2);

  // Decode wall time: the union of the intervals during which at least one batch was decoding.
  let decoding = 0;
  let decodeSince = 0;
  let decodeMs = 0;
  const prepare = async (b: number): Promise<Prepared> => {
    const t0 = performance.now();
    if (decoding++ === 0) decodeSince = t0;
    const chunk = samples.slice(b * B, (b + 1) * B);
    const pixels: Pixels[] | undefined = takesPixels ? [] : undefined;
    const data = new Float32Array(takesPixels ? 0 : B * per);
    const settled = await Promise.allSettled(chunk.map((s) => (pixels ? loadPixels(s.path, s.key) : loadResized(s.path, o, s.key))));
    const ok: Sample[] = [];
    const failed: { file: string; error: string }[] = [];
    settled.forEach((r, i) => {
      const s = chunk[i]!;
      if (r.status === 'fulfilled') {
        if (pixels) pixels.push(r.value as Pixels);
        else cropNormalizeInto(r.value as ResizedImage, data, ok.length * per, o);
        ok.push(s);
      } else {
        const e = r.reason as Error;
        failed.push({ file: s.key, error: e instanceof ImageDecodeError ? e.message.replace(`${s.key}: `, '') : String(e?.message ?? e) });
      }
    });
    const t1 = performance.now();
    if (--decoding === 0) decodeMs += t1 - decodeSince;
    o.onBatchReady?.(b);
    return { data, samples: ok, failed, ...(pixels ? { pixels } : {}) };
  };

  const records: EvalRecord[] = [];
  const failed: { file: string; error: string }[] = [];
  let n = 0;
  let top1 = 0;
  let inferMs = 0;
  let stallMs = 0;
  const t0 = performance.now();

  const queue: Promise<Prepared>[] = [];
  const fill = (next: number) => {
    while (queue.length < prefetch && next + queue.length < batches) queue.push(prepare(next + queue.length));
  };
  for (let b = 0; b < batches; b++) {
    fill(b);
    const tw = performance.now();
    const p = await queue.shift()!;
    stallMs += performance.now() - tw;
    fill(b + 1); // keep decoding while this batch runs
    if (p.failed.length) {
      if (o.strict) throw new ImageDecodeError(`${p.failed[0]!.file}: ${p.failed[0]!.error} (--strict)`);
      failed.push(...p.failed);
    }
    const k = p.samples.length;
    if (k > 0) {
      const rows = o.fixedBatch && !p.pixels ? B : k;
      const ti = performance.now();
      const out = p.pixels ? await runPictures(runner, p.pixels, numClasses, scores, also) : scores(await runner.run(rows === B ? p.data : p.data.subarray(0, rows * per), [rows, 3, R, R], also));
      inferMs += performance.now() - ti;
      const classes = out.dims[out.dims.length - 1]!;
      if (out.dims.length !== 2 || out.dims[0] !== rows || classes !== numClasses) throw new Error(`model output is [${out.dims.join(',')}], expected [${rows},${numClasses}]`);
      assertFiniteLogits(out.data, numClasses, k, (r) => p.samples[r]!.key, o.model);
      for (let r = 0; r < k; r++) {
        const s = p.samples[r]!;
        const t5 = topK(out.data, classes, r, Math.min(depth, classes));
        top1 += t5[0] === s.label ? 1 : 0;
        records.push({ key: s.key, label: s.label, top5: t5 });
        o.onPrediction?.(s, t5);
      }
      n += k;
    }
    const elapsed = (performance.now() - t0) / 1000;
    o.onProgress?.({ done: n + failed.length, total: samples.length, failed: failed.length, top1: n ? top1 / n : 0, imagesPerSecond: n / elapsed });
  }
  const total = (performance.now() - t0) / 1000;
  const summary = summarizeEval(
    records,
    samples.map((s) => s.label),
    failed,
    dataset.classes,
  );
  return {
    ...summary,
    records,
    imagesPerSecond: n / total,
    seconds: { decode: decodeMs / 1000, inference: inferMs / 1000, stall: stallMs / 1000, total },
  };
}
