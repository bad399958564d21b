/** Flag value parsers: each error names the flag and what was expected. */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { MAX_FIXED_BATCH } from '@effnet/preprocess';

/**
 * The documented ranges of the numeric flags (README "CLI"; each flag's --help says its range).
 * Generous for real use, finite so that a slip (1000000 threads, batch 100000) fails at once with
 * exit 2 instead of spinning or ending in an engine error.
 */
export const LIMITS = {
  /** --threads: intra-op threads; 256 is far above any CPU effnet runs on, yet spawns in milliseconds. */
  threads: 256,
  /** --batch (export, eval, bench): images per inference; the largest fixed batch effnet reads in a file. */
  batch: MAX_FIXED_BATCH,
  /** --prefetch: batches decoded ahead. */
  prefetch: 64,
  /** --iterations: timed runs. */
  iterations: 1_000_000,
  /** --warmup: untimed runs. */
  warmup: 10_000,
  /** --time, --max-time, --budget-ms: one hour, in ms. */
  timeMs: 3_600_000,
  /** --top: classes printed per image. */
  top: 1000,
  /** --limit: images evaluated. */
  limit: 100_000_000,
  /** --crop-pct: the crop's share of the resized shorter side. */
  cropPct: { min: 0.1, max: 1 },
  /** --budget-flops: multiply-adds per image (B7 is 3.7e10). */
  flops: 1e15,
} as const;

export function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got '${v}'`);
    return n;
  };
}

export function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} expects a non-negative integer, got '${v}'`);
    return n;
  };
}

export function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive number, got '${v}'`);
    return n;
  };
}

export function nonNegativeNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} expects a non-negative number, got '${v}'`);
    return n;
  };
}

export function intInRange(flag: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`${flag} expects an integer from ${lo} to ${hi}, got '${v}'`);
    return n;
  };
}

/**
 * --threads: an integer in 1..LIMITS.threads, with a warning above this machine's cores
 * (onnxruntime's threads then compete for them: 256 threads on 2 cores ran eval 60× slower).
 */
export function threadsOption(flag: string) {
  const parse = intInRange(flag, 1, LIMITS.threads);
  return (v: string): number => {
    const n = parse(v);
    const cores = availableParallelism();
    if (n > cores)
      process.stderr.write(`effnet: warning: ${flag} ${n} is more than this machine's ${cores} cores: the threads compete for them and run slower (leave ${flag} out for the runtime's choice)\n`);
    return n;
  };
}

/** A number in [lo, hi], or (lo, hi] with `{ aboveLo: true }`. */
export function numberInRange(flag: string, lo: number, hi: number, o: { aboveLo?: boolean } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (o.aboveLo ? n <= lo : n < lo) || n > hi)
      throw new InvalidArgumentError(`${flag} expects a number ${o.aboveLo ? `> ${lo}` : `>= ${lo}`} and <= ${hi}, got '${v}'`);
    return n;
  };
}

/** A tensor name: not empty, no control characters. */
export function tensorName(flag: string) {
  return (v: string): string => {
    if (v.trim() === '' || /[\u0000-\u001f\u007f]/.test(v)) throw new InvalidArgumentError(`${flag} expects a non-empty tensor name, got '${v}'`);
    return v;
  };
}

/** `--batch N|dynamic` */
export function batchOption(v: string): number | 'dynamic' {
  if (v === 'dynamic') return 'dynamic';
  return intInRange('--batch', 1, LIMITS.batch)(v);
}

/** Comma-separated integers in [lo, hi], e.g. `--batch 1,8,32`. */
export function intList(flag: string, lo = 1, hi = Number.MAX_SAFE_INTEGER) {
  return (v: string): number[] => {
    try {
      return v.split(',').map((s) => intInRange(flag, lo, hi)(s));
    } catch {
      throw new InvalidArgumentError(`${flag} expects comma-separated integers from ${lo} to ${hi}, got '${v}'`);
    }
  };
}

/** Comma-separated numbers, e.g. `--mean 0.485,0.456,0.406`. */
export function numberList(flag: string, length?: number) {
  return (v: string): number[] => {
    const xs = v.split(',').map(Number);
    if (xs.some((x) => !Number.isFinite(x)) || (length !== undefined && xs.length !== length))
      throw new InvalidArgumentError(`${flag} expects ${length ?? 'some'} comma-separated numbers, got '${v}'`);
    return xs;
  };
}

export function choice<T extends string>(flag: string, values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${flag} expects one of ${values.join(', ')}, got '${v}'`);
    return v as T;
  };
}
