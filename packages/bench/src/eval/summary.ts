/**
 * The accuracy report from per-image results: the one function behind a single `effnet eval` run
 * and a merge of sharded parts, so both give the same figures for the same images.
 */

export interface ClassAccuracy {
  readonly class: string;
  readonly index: number;
  readonly n: number;
  readonly top1: number;
  readonly top5: number;
}

/** One evaluated image: its key, true class index and the model's top-5 class indices (best first). */
export interface EvalRecord {
  readonly key: string;
  readonly label: number;
  readonly top5: readonly number[];
}

export interface EvalSummary {
  /** Images evaluated (listed minus failed). */
  readonly n: number;
  readonly listed: number;
  readonly top1: number;
  readonly top5: number;
  /** Classes with at least one listed image, by index. */
  readonly perClass: readonly ClassAccuracy[];
  /** Unreadable images, by key. */
  readonly failed: readonly { readonly file: string; readonly error: string }[];
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `records`: the evaluated images; `listedLabels`: the label of every listed image (evaluated or
 * not); `failed`: the unreadable ones; `classes`: class names by index.
 */
export function summarizeEval(
  records: readonly EvalRecord[],
  listedLabels: readonly number[],
  failed: readonly { readonly file: string; readonly error: string }[],
  classes: readonly string[],
): EvalSummary {
  const count = new Map<number, number>();
  const c1 = new Map<number, number>();
  const c5 = new Map<number, number>();
  let top1 = 0;
  let top5 = 0;
  for (const r of records) {
    const h1 = r.top5[0] === r.label ? 1 : 0;
    const h5 = r.top5.includes(r.label) ? 1 : 0;
    top1 += h1;
    top5 += h5;
    count.set(r.label, (count.get(r.label) ?? 0) + 1);
    c1.set(r.label, (c1.get(r.label) ?? 0) + h1);
    c5.set(r.label, (c5.get(r.label) ?? 0) + h5);
  }
  const n = records.length;
  const perClass = [...new Set(listedLabels)]
    .sort((a, b) => a - b)
    .map((index) => {
      const c = count.get(index) ?? 0;
      return { class: classes[index] ?? String(index), index, n: c, top1: c ? c1.get(index)! / c : 0, top5: c ? c5.get(index)! / c : 0 };
    });
  return {
    n,
    listed: listedLabels.length,
    top1: n ? top1 / n : 0,
    top5: n ? top5 / n : 0,
    perClass,
    failed: [...failed].sort((a, b) => byCodePoint(a.file, b.file)),
  };
}
