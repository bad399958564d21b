import { describe, expect, it } from 'vitest';
import { COMPOUND, flopsGrowth } from '@effnet/efficientnet';
import { coefficientGrid, countModel, paretoFront, scaleSearch, type Candidate } from './scale-search.js';

describe('coefficient grid', () => {
  it("keeps only triples with α·β²·γ² ≈ 2 and includes the paper's", () => {
    const g = coefficientGrid();
    expect(g.length).toBeGreaterThan(10);
    for (const c of g) expect(Math.abs(flopsGrowth(c) / 2 - 1)).toBeLessThanOrEqual(0.05 + 1e-12);
    expect(g).toContainEqual({ ...COMPOUND });
  });
  it("tolerance 0 on a coarse grid leaves only exact products (and the paper's point)", () => {
    const g = coefficientGrid({ grid: { min: 1, max: 2, step: 1 }, tolerance: 0 });
    // 2·1·1, 1·1·2² no; with step 1 only α=2 (β=γ=1) gives exactly 2.
    expect(g).toEqual([{ alpha: 2, beta: 1, gamma: 1 }, { ...COMPOUND }]);
  });
  it('rejects a bad grid', () => expect(() => coefficientGrid({ grid: { min: 0.5, max: 1, step: 0.1 } })).toThrow(/grid must have 1 <= min/));
});

describe('pareto front', () => {
  const c = (macs: number, latencyMs?: number, params = 1): Candidate => ({
    coefficients: COMPOUND,
    phi: 1,
    width: 1,
    depth: 1,
    resolution: 224,
    growth: 2,
    params,
    macs,
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    fits: true,
  });
  it('drops candidates slower and smaller than another', () => {
    const a = c(100, 10),
      b = c(200, 20),
      d = c(150, 25),
      e = c(200, 15);
    expect(paretoFront([a, b, d, e])).toEqual([a, e]);
  });
  it('without latency, trades parameters against FLOPs', () => {
    const a = c(100, undefined, 5),
      b = c(100, undefined, 4),
      d = c(120, undefined, 6);
    expect(paretoFront([a, b, d])).toEqual([b, d]);
  });
});

describe('scale search with a MACs budget', () => {
  it('finds for each triple the largest φ under budget, and picks the largest model', async () => {
    const budget = 1.0e9;
    const r = await scaleSearch({ budget: { kind: 'macs', macs: budget }, grid: { min: 1, max: 1.4, step: 0.1 }, tolerance: 0.06, phiStep: 0.1 });
    expect(r.candidates.length).toBeGreaterThan(0);
    expect(r.rankedBy).toMatch(/proxy/);
    for (const cand of r.candidates) {
      expect(cand.macs).toBeLessThanOrEqual(budget);
      // one more φ step would not fit
      const next = countModel({ ...cand, ...nextModel(cand) });
      expect(next.macs).toBeGreaterThan(budget);
    }
    expect(r.best!.macs).toBe(Math.max(...r.candidates.map((x) => x.macs)));
  });

  it('uses the external score when given', async () => {
    const r = await scaleSearch({
      budget: { kind: 'macs', macs: 0.6e9 },
      grid: { min: 1, max: 1.3, step: 0.15 },
      tolerance: 0.1,
      phiStep: 0.25,
      score: async (m) => -Math.abs(m.coefficients.alpha - 1.15), // prefers α near 1.15
    });
    expect(r.rankedBy).toBe('score');
    expect(r.best!.score).toBe(Math.max(...r.candidates.map((x) => x.score!)));
  });
});

import { compoundScaling } from '@effnet/efficientnet';
function nextModel(c: Candidate) {
  const s = compoundScaling(c.phi + 0.1, c.coefficients);
  return { width: s.width, depth: s.depth, resolution: s.resolution };
}
