import { describe, expect, it } from 'vitest';
import { graphStats } from '@effnet/graph-builder';
import { buildModel } from './models.js';
import { COMPOUND, compoundScaling, flopsGrowth, VARIANTS } from './scaling.js';

describe('compound scaling for any φ', () => {
  it('FLOPs grow as (α·β²·γ²)^φ ≈ 2^φ, params grow monotonically (table printed)', () => {
    const b0 = graphStats(buildModel('efficientnet', { phi: 0 }).ir);
    const rows = [];
    for (let phi = 0; phi <= 7; phi++) {
      const m = buildModel('efficientnet', { phi });
      const s = graphStats(m.ir);
      const exactResolution = 224 * COMPOUND.gamma ** phi;
      // The prediction for the exact (unrounded) network, corrected for the rounded resolution.
      const predicted = flopsGrowth(COMPOUND) ** phi * (m.resolution / exactResolution) ** 2;
      const ratio = s.macs / b0.macs;
      rows.push({
        phi,
        width: +compoundScaling(phi).width.toFixed(3),
        depth: +compoundScaling(phi).depth.toFixed(3),
        resolution: m.resolution,
        params: s.params,
        macs: s.macs,
        'macs/B0': +ratio.toFixed(3),
        '2^phi': 2 ** phi,
        'actual/predicted': +(ratio / predicted).toFixed(3),
      });
      // Rounding only ever adds: repeats are ceiled and channels rounded to multiples of 8
      // (never more than 10% down), so the measured growth sits at or a little above the formula.
      expect(ratio / predicted).toBeGreaterThanOrEqual(0.97);
      expect(ratio / predicted).toBeLessThanOrEqual(1.3);
      // ...and within 0.4 of a doubling per unit of φ.
      expect(Math.abs(Math.log2(ratio) - phi)).toBeLessThanOrEqual(0.4);
    }
    console.table(rows);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.params).toBeGreaterThan(rows[i - 1]!.params);
    expect(flopsGrowth(COMPOUND)).toBeCloseTo(1.92, 2);
  });

  it('φ = 0 is exactly B0', () => {
    const a = graphStats(buildModel('efficientnet', { phi: 0 }).ir);
    const b = graphStats(buildModel('efficientnet-b0').ir);
    expect(a).toEqual(b);
  });

  it('--width/--depth/--resolution set the network directly; φ fills in the rest', () => {
    const direct = buildModel('efficientnet', { width: VARIANTS.b3.width, depth: VARIANTS.b3.depth, resolution: VARIANTS.b3.resolution });
    expect(graphStats(direct.ir).params).toBe(graphStats(buildModel('efficientnet-b3').ir).params);
    expect(direct.resolution).toBe(300);
    expect(direct.ir.inputs[0]!.shape).toEqual(['N', 3, 300, 300]);
    const mixed = buildModel('efficientnet', { phi: 2.5, resolution: 128 });
    expect(mixed.resolution).toBe(128);
    expect(mixed.metadata['effnet.phi']).toBe('2.5');
  });

  it('the published table is not exactly the formula (B7: 600 px vs 224·1.15^7 ≈ 596 → 592; depth 3.1 vs 1.2^7 ≈ 3.58)', () => {
    const f = compoundScaling(7);
    expect(f.resolution).toBe(592);
    expect(f.depth).toBeCloseTo(3.583, 3);
    expect(VARIANTS.b7).toMatchObject({ resolution: 600, depth: 3.1, width: 2.0 });
  });

  it('rejects bad values and options on the wrong model', () => {
    expect(() => buildModel('efficientnet', { phi: -1 })).toThrow(/phi must be a non-negative number, got -1/);
    expect(() => buildModel('efficientnet', { width: 0 })).toThrow(/width must be a positive number, got 0/);
    expect(() => buildModel('amoebanet-b', { phi: 1 })).toThrow(/--phi applies to models whose family declares how it scales only, not 'amoebanet-b'/);
    expect(() => compoundScaling(1, { alpha: 0.9, beta: 1.1, gamma: 1.1 })).toThrow(/alpha must be >= 1/);
  });
});
