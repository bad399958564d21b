/** Top-K classes with softmax probabilities for individual image files. */
import type { Runner } from '@effnet/runtime';
import { assertFiniteLogits, topK } from './eval.js';
import { cropNormalizeInto, loadPixels, loadResized, type PreprocessOptions } from '@effnet/images';
import { noClassesMessage, rankClasses, type ClassOutputs } from '@effnet/preprocess';

export interface ClassifyOptions extends PreprocessOptions {
  /** Classes to report per image (default 5). */
  readonly top?: number;
  /** The model's name, for messages (non-finite logits). */
  readonly model?: string;
  /** Images per inference call (default 8). */
  readonly batch?: number;
  /** The model's input has a fixed batch size equal to `batch` (short batches are padded). */
  readonly fixedBatch?: boolean;
  /** What the model outputs (effnet.outputs: metadataOutputs): logits (default), probabilities or top-K. */
  readonly outputs?: ClassOutputs;
}

export interface Classification {
  readonly file: string;
  readonly top: readonly { readonly index: number; readonly probability: number }[];
}

/** Softmax of row `r` of a [rows, classes] logits matrix (max-subtracted, float64 sums). */
export function softmaxRow(logits: Float32Array, classes: number, r: number): Float64Array {
  const row = logits.subarray(r * classes, (r + 1) * classes);
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const out = new Float64Array(classes);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += out[j] = Math.exp(row[j]! - max);
  for (let j = 0; j < classes; j++) out[j] = out[j]! / sum;
  return out;
}

export async function classifyImages(runner: Runner, files: readonly string[], numClasses: number, o: ClassifyOptions): Promise<Classification[]> {
  const R = o.resolution;
  const per = 3 * R * R;
  const B = o.batch ?? 8;
  const k = Math.min(o.top ?? 5, numClasses);
  const kind = o.outputs ?? { kind: 'logits' };
  if (kind.kind === 'none') throw new Error(noClassesMessage(o.model ?? 'the model', kind));
  // A topk:K file: `scores` [N,K] first, its int64 `classes` the second output.
  const classesOutput = kind.kind === 'topk' ? runner.session.outputs[1]?.name : undefined;
  if (kind.kind === 'topk' && !classesOutput) throw new Error(`${o.model ?? 'the model'}: a topk:${kind.k} file needs a second output (classes)`);
  const also = classesOutput ? [classesOutput] : [];
  const width = kind.kind === 'topk' ? kind.k : numClasses;
  const rank = (out: { data: Float32Array; also: Record<string, { data: unknown }> }, r: number) =>
    kind.kind === 'logits'
      ? (() => {
          const p = softmaxRow(out.data, numClasses, r);
          return topK(out.data, numClasses, r, k).map((index) => ({ index, probability: p[index]! }));
        })()
      : rankClasses(kind, out.data, width, r, k, classesOutput ? (out.also[classesOutput]!.data as ArrayLike<bigint>) : undefined);
  const results: Classification[] = [];
  if (runner.inputKind === 'pixels') {
    // An embedded-preprocessing file: each decoded picture as it is (sizes differ: one per call).
    for (const file of files) {
      const px = await loadPixels(file);
      const out = await runner.runPixels(px.data, [1, px.height, px.width, 3], also);
      if (out.dims.length !== 2 || out.dims[0] !== 1 || out.dims[1] !== width) throw new Error(`model output is [${out.dims.join(',')}], expected [1,${width}]`);
      assertFiniteLogits(out.data, width, 1, () => file, o.model);
      results.push({ file, top: rank(out, 0) });
    }
    return results;
  }
  for (let b = 0; b < files.length; b += B) {
    const chunk = files.slice(b, b + B);
    const rows = o.fixedBatch ? B : chunk.length;
    const data = new Float32Array(rows * per);
    const images = await Promise.all(chunk.map((f) => loadResized(f, o)));
    images.forEach((img, i) => cropNormalizeInto(img, data, i * per, o));
    const out = await runner.run(data, [rows, 3, R, R], also);
    if (out.dims.length !== 2 || out.dims[0] !== rows || out.dims[1] !== width) throw new Error(`model output is [${out.dims.join(',')}], expected [${rows},${width}]`);
    assertFiniteLogits(out.data, width, chunk.length, (r) => chunk[r]!, o.model);
    chunk.forEach((file, r) => results.push({ file, top: rank(out, r) }));
  }
  return results;
}
