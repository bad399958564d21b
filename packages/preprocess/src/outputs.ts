/**
 * What an effnet file's outputs are, from `effnet.outputs` (written by the deploy passes of
 * `effnet export`), and the one way every consumer — `effnet classify` and the browser demo —
 * turns them into ranked classes with probabilities:
 *
 *   (absent), logits   one output [N,classes] of logits: softmax (float64 sums), ranked
 *   probs              one output [N,classes] of probabilities (softmax in the graph): ranked as they are
 *   topk:K             `scores` float [N,K] (probabilities, best first) and `classes` int64 [N,K]
 *   features.i,…, embedding   a backbone (--features) or pooled embedding (--head none): no classes
 */

export type ClassOutputs =
  | { readonly kind: 'logits' }
  | { readonly kind: 'probs' }
  | { readonly kind: 'topk'; readonly k: number }
  /** A backbone or embedding file: `names` are its outputs (features.0, …, embedding). */
  | { readonly kind: 'none'; readonly names: readonly string[] };

const BACKBONE_OUTPUT = /^(features\.\d+|embedding)$/;

/** Decodes effnet.outputs; a value effnet never writes is an error naming the key. */
export function metadataOutputs(metadata: Readonly<Record<string, string>>, source?: string): ClassOutputs {
  const raw = metadata['effnet.outputs'];
  if (raw === undefined || raw === 'logits') return { kind: 'logits' };
  if (raw === 'probs') return { kind: 'probs' };
  const topk = /^topk:(\d+)$/.exec(raw);
  if (topk && Number(topk[1]) >= 1) return { kind: 'topk', k: Number(topk[1]) };
  const names = raw.split(',').map((s) => s.trim());
  if (names.length > 0 && names.every((n) => BACKBONE_OUTPUT.test(n))) return { kind: 'none', names };
  throw new RangeError(`${source ? `${source}: ` : ''}metadata effnet.outputs '${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw}': expected logits, probs, topk:K or a list of features.i / embedding`);
}

/** One line for a file without classes (what classify says, and what the page shows). */
export function noClassesMessage(name: string, outputs: { readonly names: readonly string[] }): string {
  const what = outputs.names.every((n) => n === 'embedding') ? 'an embedding file (--head none)' : 'a backbone file (--features)';
  return `${name} is ${what}: its outputs are ${outputs.names.join(', ')}, with no class scores, so there are no classes to show`;
}

export interface RankedClass {
  readonly index: number;
  readonly probability: number;
}

/**
 * The best `k` classes of row `r` with their probabilities. `first` is the first output's data
 * (logits, probabilities or top-K scores, [rows, width] row-major); `classes` is the second output's
 * data for a topk file (int64 as bigint or number). For topk at most K classes come back.
 */
export function rankClasses(outputs: ClassOutputs, first: ArrayLike<number>, width: number, r: number, k: number, classes?: ArrayLike<number | bigint>): RankedClass[] {
  if (outputs.kind === 'none') throw new Error(noClassesMessage('the model', outputs));
  const row = Array.from({ length: width }, (_, j) => first[r * width + j]!);
  if (outputs.kind === 'topk') {
    if (!classes) throw new Error("a topk file's classes output is missing");
    return row.slice(0, Math.min(k, width)).map((probability, j) => ({ index: Number(classes[r * width + j]!), probability }));
  }
  // Ranked on the output itself (ties: the lower index first); probabilities as softmax (float64) of logits.
  const order = [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, Math.min(k, width));
  if (outputs.kind === 'probs') return order.map((index) => ({ index, probability: row[index]! }));
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  const e = row.map((v) => Math.exp(v - max));
  for (const v of e) sum += v;
  return order.map((index) => ({ index, probability: e[index]! / sum }));
}
