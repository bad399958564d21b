/**
 * Latency measurement with tinybench: warm-up runs, then timed runs until both a minimum number of
 * iterations and a minimum time are reached (or a maximum time runs out), then order statistics.
 */
import { OptionError } from '@effnet/graph-builder';
import { Bench } from 'tinybench';

export interface LatencyStats {
  /** Milliseconds. */
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation (n − 1). */
  readonly stddev: number;
  /** Number of timed runs. */
  readonly samples: number;
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of ascending `sorted` by linear interpolation between closest
 * ranks (the method numpy calls 'linear', R type 7).
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new OptionError('p', `percentile p must be in [0, 100], got ${p}`);
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Summary statistics of latency samples (milliseconds, any order). */
export function summarize(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) throw new RangeError('no latency samples');
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return {
    mean,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    min: s[0]!,
    max: s[n - 1]!,
    stddev: Math.sqrt(variance),
    samples: n,
  };
}

export interface TimingOptions {
  /** Untimed runs before measuring. */
  readonly warmup: number;
  /** Minimum timed runs. */
  readonly iterations: number;
  /** Minimum measuring time, ms: fast models run more than `iterations` times. */
  readonly minTimeMs: number;
  /** Stop measuring after this long even if fewer than `iterations` ran (at least one run is kept). */
  readonly maxTimeMs?: number;
  /** Called after each timed run. */
  readonly onIteration?: (done: number, elapsedMs: number) => void;
  /** Called after each warm-up run. */
  readonly onWarmup?: (done: number) => void;
}

export interface TimingResult {
  readonly latency: LatencyStats;
  readonly warmup: number;
  /** True when maxTimeMs ended the measurement before `iterations` runs. */
  readonly truncated: boolean;
}

/** Times `fn` (one inference per call). Errors thrown by `fn` propagate. */
export async function measureLatency(fn: () => Promise<unknown>, o: TimingOptions): Promise<TimingResult> {
  for (let i = 0; i < o.warmup; i++) {
    await fn();
    o.onWarmup?.(i + 1);
  }
  const abort = new AbortController();
  const started = performance.now();
  let runs = 0;
  const bench = new Bench({
    iterations: o.iterations,
    time: o.minTimeMs,
    // Warm-up ran above, reported per run; tinybench's own is off.
    warmup: false,
    retainSamples: true,
    throws: true,
    signal: abort.signal,
  });
  bench.add('inference', async () => {
    await fn();
    runs++;
    const elapsed = performance.now() - started;
    o.onIteration?.(runs, elapsed);
    if (o.maxTimeMs !== undefined && elapsed >= o.maxTimeMs) abort.abort();
  });
  const [task] = await bench.run();
  const r = task!.result;
  if (r.state === 'errored') throw r.error;
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') throw new Error(`latency measurement ended without samples (${r.state})`);
  const samples = r.latency.samples;
  if (!samples || samples.length === 0) throw new Error('latency measurement ended without samples');
  return { latency: summarize([...samples]), warmup: o.warmup, truncated: samples.length < o.iterations };
}
