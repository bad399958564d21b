/** Top-K classes with softmax probabilities for individual image files. */
import type { Runner } from '@effnet/runtime';
import { assertFiniteLogits, topK } from './eval.js';
import { cropNormalizeInto, loadPixels, loadResized, type PreprocessOptions } from '@effnet/images';

export interface ClassifyOptions extends PreprocessOptions {
  /** Classes to report per image (default 5). */
  readonly top?: number;
  /** The model's name, for messages (non-finite logits). */
  readonly model?: string;
  /** Images per inference call (default 8). */
  readonly batch?: number;
  /** The model's input has a fixed batch size equal to `batch` (short batches are padded). */
  readonly fixedBatch?: boolean;
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
  const results: Classification[] = [];
  if (runner.inputKind === 'pixels') {
    // An embedded-preprocessing file: each decoded picture as it is (sizes differ: one per call).
    for (const file of files) {
      const px = await loadPixels(file);
      const out = await runner.runPixels(px.data, [1, px.height, px.width, 3]);
      if (out.dims.length !== 2 || out.dims[0] !== 1 || out.dims[1] !== numClasses) throw new Error(`model output is [${out.dims.join(',')}], expected [1,${numClasses}]`);
      assertFiniteLogits(out.data, numClasses, 1, () => file, o.model);
      const p = softmaxRow(out.data, numClasses, 0);
      results.push({ file, top: topK(out.data, numClasses, 0, k).map((index) => ({ index, probability: p[index]! })) });
    }
    return results;
  }
  for (let b = 0; b < files.length; b += B) {
    const chunk = files.slice(b, b + B);
    const rows = o.fixedBatch ? B : chunk.length;
    const data = new Float32Array(rows * per);
    const images = await Promise.all(chunk.map((f) => loadResized(f, o)));
    images.forEach((img, i) => cropNormalizeInto(img, data, i * per, o));
    const out = await runner.run(data, [rows, 3, R, R]);
    if (out.dims.length !== 2 || out.dims[0] !== rows || out.dims[1] !== numClasses) throw new Error(`model output is [${out.dims.join(',')}], expected [${rows},${numClasses}]`);
    assertFiniteLogits(out.data, numClasses, chunk.length, (r) => chunk[r]!, o.model);
    chunk.forEach((file, r) => {
      const p = softmaxRow(out.data, numClasses, r);
      results.push({ file, top: topK(out.data, numClasses, r, k).map((index) => ({ index, probability: p[index]! })) });
    });
  }
  return results;
}
