import { describe, expect, it } from 'vitest';
import { table3, TABLE3 } from './table3.js';

describe("the paper's Table 3, rebuilt with effnet's scaling flags and counted", () => {
  const rows = table3();
  it('has the 14 rows: baseline, d=4 (not MobileNetV1), w=2, r=2 and compound for each network', () => {
    expect(rows.map((r) => `${r.network} ${r.scaling}`)).toHaveLength(14);
    expect(new Set(rows.map((r) => r.network))).toEqual(new Set(['MobileNetV1', 'MobileNetV2', 'ResNet-50']));
  });
  it.each(TABLE3.filter((r) => Number.isFinite(r.tolerance)).map((r) => [`${r.network} ${r.scaling}`, r] as const))('%s: MACs within the target of the paper (printed to 0.1B)', (_, r) => {
    const got = rows.find((x) => x.network === r.network && x.scaling === r.scaling)!;
    expect(got.diffRounded, `${(got.macs / 1e9).toFixed(2)}B vs the paper's ${(r.paperFlops / 1e9).toFixed(1)}B`).toBeLessThanOrEqual(r.tolerance);
  });
  it("the rounding allowance is only the paper's last digit", () => {
    const v1 = rows.find((r) => r.network === 'MobileNetV1' && r.scaling === 'baseline')!;
    expect(v1.diff).toBeCloseTo(-0.052, 3);
    expect(v1.diffRounded).toBe(0);
    const r50w = rows.find((r) => r.network === 'ResNet-50' && r.scaling.startsWith('width'))!;
    expect(r50w.diffRounded).toBeCloseTo((r50w.macs - 14.75e9) / 14.7e9, 6);
  });
  it('the scaled rows are really scaled: each grows the baseline by roughly its FLOPS factor', () => {
    const base = (n: string) => rows.find((r) => r.network === n && r.scaling === 'baseline')!.macs;
    for (const r of rows.filter((x) => x.scaling !== 'baseline')) expect(r.macs / base(r.network), `${r.network} ${r.scaling}`).toBeGreaterThan(3);
    // Resolution scaling changes no parameter; width and depth do.
    for (const r of rows.filter((x) => x.scaling.startsWith('resolution'))) expect(r.params).toBe(rows.find((x) => x.network === r.network && x.scaling === 'baseline')!.params);
    expect(rows.find((r) => r.network === 'ResNet-50' && r.scaling.startsWith('depth'))!.params).toBeGreaterThan(80e6);
  });
  it('measured figures (timm-style definitions): MobileNetV1 0.57, 2.22, 2.27; MobileNetV2 0.30, 1.22, 1.14, 1.20; ResNet-50 4.09, 16.35', () => {
    const g = (n: string, s: string) => Number((rows.find((r) => r.network === n && r.scaling.startsWith(s))!.macs / 1e9).toFixed(2));
    expect([g('MobileNetV1', 'baseline'), g('MobileNetV1', 'width'), g('MobileNetV1', 'resolution')]).toEqual([0.57, 2.22, 2.27]);
    expect([g('MobileNetV2', 'baseline'), g('MobileNetV2', 'depth'), g('MobileNetV2', 'width'), g('MobileNetV2', 'resolution')]).toEqual([0.3, 1.22, 1.14, 1.2]);
    expect([g('ResNet-50', 'baseline'), g('ResNet-50', 'resolution')]).toEqual([4.09, 16.35]);
  });
});
