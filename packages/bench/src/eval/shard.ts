/**
 * Sharded evaluation: N processes (on N machines: Kubernetes Indexed Jobs, Slurm job arrays) each
 * evaluate a deterministic 1/N of the data set and write a part file; merging the parts gives
 * exactly the report of one unsharded run, because both are computed by {@link summarizeEval}
 * from the same per-image records.
 *
 * Shard K of N takes the images at positions K, K+N, K+2N, … of the listing sorted by key (code
 * point order), so every class is spread evenly over the shards. Part files carry what was
 * evaluated (model identity, preprocessing, data set fingerprint): parts of different models or
 * data folders, overlapping or missing shards are refused at merge time.
 */
import { createHash } from 'node:crypto';
import { OptionError } from '@effnet/graph-builder';
import type { Dataset, Sample } from '@effnet/images';
import { summarizeEval, type EvalRecord, type EvalSummary } from './summary.js';

export interface Shard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

/** Most shards one evaluation may be split into. */
export const MAX_SHARDS = 100_000;

/** Environment variables holding a job's index, first found wins: Kubernetes Indexed Jobs, Slurm job arrays. */
export const SHARD_INDEX_ENV = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'] as const;

/**
 * `K/N` (K in 0..N-1) or `auto/N`: K from JOB_COMPLETION_INDEX (Kubernetes, 0-based) or
 * SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN, so `--array=1-N` works too).
 */
export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const m = /^(\d+|auto)\/(\d+)$/.exec(spec.trim());
  const bad = (why: string): never => {
    throw new OptionError('shard', `--shard ${spec}: ${why}`);
  };
  if (!m) return bad('expected K/N (K = 0..N-1) or auto/N');
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS) bad(`N must be 1..${MAX_SHARDS}`);
  let index: number;
  if (m[1] === 'auto') {
    const name = SHARD_INDEX_ENV.find((v) => env[v] !== undefined && env[v] !== '');
    if (!name) return bad(`auto needs ${SHARD_INDEX_ENV.join(' or ')} in the environment (set by a Kubernetes Indexed Job or a Slurm job array)`);
    const raw = env[name]!;
    if (!/^\d+$/.test(raw)) bad(`${name}='${raw}' is not a non-negative integer`);
    index = Number(raw);
    if (name === 'SLURM_ARRAY_TASK_ID' && env.SLURM_ARRAY_TASK_MIN && /^\d+$/.test(env.SLURM_ARRAY_TASK_MIN)) index -= Number(env.SLURM_ARRAY_TASK_MIN);
    if (index < 0 || index >= count) bad(`${name}=${raw} gives shard ${index}, outside 0..${count - 1}`);
  } else {
    index = Number(m[1]);
    if (index >= count) bad(`K must be 0..${count - 1}`);
  }
  return { index, count };
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The samples of shard K of N: positions K, K+N, … of the listing sorted by key. */
export function selectShard<T extends Pick<Sample, 'key'>>(samples: readonly T[], shard: Shard): T[] {
  return [...samples].sort((a, b) => byCodePoint(a.key, b.key)).filter((_, i) => i % shard.count === shard.index);
}

/** sha256 of the whole listing (every key and label, in key order) and the class names. */
export function datasetFingerprint(ds: Pick<Dataset, 'classes' | 'samples'>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(ds.classes));
  for (const s of [...ds.samples].sort((a, b) => byCodePoint(a.key, b.key))) h.update(`\n${s.key}\t${s.label}`);
  return h.digest('hex');
}

export const PART_FORMAT = 'effnet-eval-part/1';

/** What a part file holds. */
export interface EvalPart {
  readonly format: typeof PART_FORMAT;
  /** What was evaluated and how: identical in every part of one evaluation (model, weights, preprocessing, batch-independent settings). */
  readonly evaluated: Readonly<Record<string, unknown>>;
  readonly data: { readonly root: string; readonly fingerprint: string; readonly listed: number; readonly classes: readonly string[] };
  readonly shard: Shard;
  /** The shard's images, in evaluation order: [key, label, top-5] or [key, label, null, error] for an unreadable one. */
  readonly records: readonly (readonly [string, number, readonly number[] | null, string?])[];
  readonly seconds: number;
}

export function makePart(o: {
  evaluated: Readonly<Record<string, unknown>>;
  dataset: Dataset;
  shard: Shard;
  records: readonly EvalRecord[];
  failed: readonly { readonly file: string; readonly error: string }[];
  seconds: number;
}): EvalPart {
  const failed = new Map(o.failed.map((f) => [f.file, f.error]));
  const top = new Map(o.records.map((r) => [r.key, r]));
  const mine = selectShard(o.dataset.samples, o.shard);
  return {
    format: PART_FORMAT,
    evaluated: o.evaluated,
    data: { root: o.dataset.root, fingerprint: datasetFingerprint(o.dataset), listed: o.dataset.samples.length, classes: o.dataset.classes },
    shard: o.shard,
    records: mine.map((s): readonly [string, number, readonly number[] | null, string?] => {
      const r = top.get(s.key);
      if (r) return [s.key, s.label, r.top5];
      return [s.key, s.label, null, failed.get(s.key) ?? 'not evaluated'];
    }),
    seconds: o.seconds,
  };
}

export class MergeError extends Error {
  override name = 'MergeError';
}

/** Checks a parsed part file's shape; `path` names it in errors. */
export function checkPart(value: unknown, path: string): EvalPart {
  const bad = (why: string): never => {
    throw new MergeError(`${path}: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return bad('not a JSON object');
  const p = value as Partial<EvalPart>;
  if (p.format !== PART_FORMAT) bad(`not an effnet eval part file (format ${JSON.stringify(p.format)}, expected '${PART_FORMAT}'; write parts with effnet eval --shard K/N --predictions FILE)`);
  const s = p.shard;
  if (!s || !Number.isInteger(s.index) || !Number.isInteger(s.count) || s.count < 1 || s.index < 0 || s.index >= s.count) bad('malformed shard');
  const d = p.data;
  if (!d || typeof d.fingerprint !== 'string' || !Number.isInteger(d.listed) || !Array.isArray(d.classes)) bad('malformed data section');
  if (!Array.isArray(p.records)) bad('malformed records');
  for (const r of p.records!)
    if (!Array.isArray(r) || typeof r[0] !== 'string' || !Number.isInteger(r[1]) || (r[2] !== null && !(Array.isArray(r[2]) && r[2].every((x) => Number.isInteger(x)))))
      bad(`malformed record ${JSON.stringify(r).slice(0, 80)}`);
  if (typeof p.evaluated !== 'object' || p.evaluated === null) bad('malformed evaluated section');
  return p as EvalPart;
}

export interface Merged {
  readonly evaluated: Readonly<Record<string, unknown>>;
  readonly data: EvalPart['data'];
  readonly shards: number;
  readonly summary: EvalSummary;
  /** key → top-5, in key order (as a single run with --predictions lists them when sorted). */
  readonly predictions: ReadonlyMap<string, readonly number[]>;
  readonly seconds: number;
}

/**
 * Merges the parts of one evaluation. Refuses parts of different models / preprocessing / data
 * folders, a shard given twice, and missing shards, naming the files.
 */
export function mergeParts(parts: readonly { readonly path: string; readonly part: EvalPart }[]): Merged {
  if (parts.length === 0) throw new MergeError('--merge: no part files given');
  const [first, ...rest] = parts;
  const f = first!.part;
  const diff = (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string | undefined =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().find((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  for (const { path, part } of rest) {
    const k = diff(f.evaluated, part.evaluated);
    if (k !== undefined) throw new MergeError(`${path} and ${first!.path} evaluated different things: ${k} is ${JSON.stringify(part.evaluated[k])} vs ${JSON.stringify(f.evaluated[k])}`);
    if (part.data.fingerprint !== f.data.fingerprint)
      throw new MergeError(
        `${path} and ${first!.path} come from different data (${part.data.root}: ${part.data.listed} images vs ${f.data.root}: ${f.data.listed} images; the listings' fingerprints differ)`,
      );
    if (part.shard.count !== f.shard.count) throw new MergeError(`${path} is shard ${part.shard.index}/${part.shard.count}, ${first!.path} is ${f.shard.index}/${f.shard.count}: different N`);
  }
  const seen = new Map<number, string>();
  for (const { path, part } of parts) {
    const other = seen.get(part.shard.index);
    if (other !== undefined) throw new MergeError(`${path} and ${other} are both shard ${part.shard.index}/${part.shard.count} (overlapping parts)`);
    seen.set(part.shard.index, path);
  }
  const missing = [...Array(f.shard.count).keys()].filter((i) => !seen.has(i));
  if (missing.length)
    throw new MergeError(`missing shard${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} of ${f.shard.count}: merge needs every part`);

  const all = parts.flatMap((p) => p.part.records);
  if (all.length !== f.data.listed) throw new MergeError(`the parts hold ${all.length} images, the data set lists ${f.data.listed}`);
  const byKey = new Map<string, (typeof all)[number]>();
  for (const r of all) {
    if (byKey.has(r[0])) throw new MergeError(`image ${r[0]} appears in two parts`);
    byKey.set(r[0], r);
  }
  const sorted = [...byKey.values()].sort((a, b) => byCodePoint(a[0], b[0]));
  const records: EvalRecord[] = sorted.filter((r) => r[2] !== null).map((r) => ({ key: r[0], label: r[1], top5: r[2]! }));
  const failed = sorted.filter((r) => r[2] === null).map((r) => ({ file: r[0], error: r[3] ?? 'unreadable' }));
  const summary = summarizeEval(
    records,
    sorted.map((r) => r[1]),
    failed,
    f.data.classes,
  );
  return {
    evaluated: f.evaluated,
    data: f.data,
    shards: f.shard.count,
    summary,
    predictions: new Map(records.map((r) => [r.key, r.top5])),
    seconds: parts.reduce((s, p) => s + p.part.seconds, 0),
  };
}
