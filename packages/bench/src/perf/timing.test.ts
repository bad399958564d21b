import { describe, expect, it } from 'vitest';
import { OptionError } from '@effnet/graph-builder';
import { measureLatency, percentile, summarize } from './timing.js';

describe('percentile / summarize', () => {
  it('interpolates linearly between closest ranks', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(s, 0)).toBe(1);
    expect(percentile(s, 100)).toBe(10);
    expect(percentile(s, 50)).toBeCloseTo(5.5, 12);
    expect(percentile(s, 90)).toBeCloseTo(9.1, 12);
    expect(percentile(s, 99)).toBeCloseTo(9.91, 12);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile(s, 101)).toThrow(OptionError);
  });

  it('summarizes unsorted samples', () => {
    const st = summarize([4, 1, 3, 2]);
    expect(st).toMatchObject({ mean: 2.5, min: 1, max: 4, samples: 4 });
    expect(st.p50).toBeCloseTo(2.5, 12);
    expect(st.p90).toBeCloseTo(3.7, 12);
    expect(st.stddev).toBeCloseTo(Math.sqrt(5 / 3), 12); // sample standard deviation
    expect(summarize([5]).stddev).toBe(0);
  });
});

describe('measureLatency', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Busy-waits: timers may fire up to a millisecond early, this never returns early. */
  const spin = async (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };

  it('warms up, then runs at least `iterations` times and at least minTimeMs', async () => {
    let calls = 0;
    let warm = 0;
    const r = await measureLatency(() => (calls++, spin(2)), { warmup: 2, iterations: 3, minTimeMs: 60, onWarmup: (n) => (warm = n) });
    expect(warm).toBe(2);
    expect(r.latency.samples).toBeGreaterThanOrEqual(3);
    expect(r.latency.samples * r.latency.mean).toBeGreaterThanOrEqual(50);
    expect(calls).toBe(r.latency.samples + 2);
    expect(r.latency.min).toBeGreaterThanOrEqual(2);
    expect(r.latency.p50).toBeLessThanOrEqual(r.latency.p90);
    expect(r.latency.p90).toBeLessThanOrEqual(r.latency.p99);
    expect(r.truncated).toBe(false);
  });

  it('stops at maxTimeMs with the runs done so far', async () => {
    const r = await measureLatency(() => sleep(20), { warmup: 0, iterations: 50, minTimeMs: 0, maxTimeMs: 50 });
    expect(r.latency.samples).toBeGreaterThanOrEqual(1);
    expect(r.latency.samples).toBeLessThan(10);
    expect(r.truncated).toBe(true);
  });

  it('propagates errors of the measured function', async () => {
    await expect(measureLatency(() => Promise.reject(new Error('boom')), { warmup: 0, iterations: 2, minTimeMs: 0 })).rejects.toThrow(/boom/);
  });
});
