import { describe, expect, it } from 'vitest';
import { graphStats } from '@effnet/graph-builder';
import { buildModel, findModel, MODELS } from './models.js';
import { roundFilters, roundRepeats, VARIANTS } from './scaling.js';
import { decodeBlock } from './arch.js';
import { padAmounts } from './layers.js';

/** timm 1.0.29 / torchvision 0.26 counts (../shared/fixtures/summary.json). */
const EXPECTED: Record<string, [number, number]> = {
  b0: [5_288_548, 385_814_752],
  b1: [7_794_184, 686_802_832],
  b2: [9_109_994, 993_561_872],
  b3: [12_233_232, 1_827_141_392],
  b4: [19_341_616, 4_393_771_024],
  b5: [30_389_784, 10_266_384_752],
  b6: [43_040_704, 19_067_593_536],
  b7: [66_347_960, 37_745_884_192],
};

describe('params and MACs counted from the graph equal timm/torchvision', () => {
  for (const [v, [params, macs]] of Object.entries(EXPECTED)) {
    for (const id of [`efficientnet-${v}`, `tf-efficientnet-${v}`]) {
      it(id, () => {
        const s = graphStats(buildModel(id).ir);
        expect({ params: s.params, macs: s.macs }).toEqual({ params, macs });
      });
    }
  }
  it('resnet50', () => {
    const s = graphStats(buildModel('resnet50').ir);
    expect({ params: s.params, macs: s.macs }).toEqual({ params: 25_557_032, macs: 4_089_184_256 });
  });
  it('resnet152', () => expect(graphStats(buildModel('resnet152').ir).params).toBe(60_192_808));
});

describe('scaling rules', () => {
  it.each([
    [32, 1.0, 32],
    [32, 1.1, 32],
    [16, 1.1, 16],
    [40, 1.1, 48],
    [112, 1.2, 136],
    [1280, 1.4, 1792],
    [24, 2.0, 48],
    [1280, 2.0, 2560],
    [16, 0.5, 8],
  ])('roundFilters(%d, %f) = %d', (c, w, out) => expect(roundFilters(c, w)).toBe(out));
  it('never rounds more than 10% down', () => {
    for (let c = 8; c < 2000; c += 8) for (const w of [0.5, 0.75, 1.1, 1.3, 1.7]) expect(roundFilters(c, w)).toBeGreaterThanOrEqual(0.9 * c * w);
  });
  it.each([
    [1, 1.1, 2],
    [4, 1.8, 8],
    [3, 3.1, 10],
    [2, 1.0, 2],
  ])('roundRepeats(%d, %f) = %d', (r, d, out) => expect(roundRepeats(r, d)).toBe(out));
  it('has the paper table for every variant', () => expect(Object.keys(VARIANTS)).toHaveLength(8));
});

describe('block strings', () => {
  it('decodes', () =>
    expect(decodeBlock('ir_r2_k3_s2_e6_c24_se0.25')).toEqual({ type: 'ir', repeats: 2, kernel: 3, stride: 2, expand: 6, channels: 24, seRatio: 0.25 }));
  it.each([
    ['xx_r1_c8', /unknown block type 'xx'/],
    ['ir_r1_k3', /missing output channels/],
    ['ir_q2_c8', /cannot read token 'q2'/],
    ['ir_r0_c8', /'r0' must be a positive integer/],
  ])('rejects %s', (s, msg) => expect(() => decodeBlock(s)).toThrow(msg));
});

describe('padding', () => {
  it.each([
    // size, k, s, symmetric, same
    [224, 3, 2, [1, 1], [0, 1]],
    [225, 3, 2, [1, 1], [1, 1]],
    [112, 5, 2, [2, 2], [1, 2]],
    [65, 5, 2, [2, 2], [2, 2]],
    [28, 3, 1, [1, 1], [1, 1]],
    [240, 3, 2, [1, 1], [0, 1]],
    [33, 5, 2, [2, 2], [2, 2]],
  ])('size %d k%d s%d', (size, k, s, sym, same) => {
    expect(padAmounts(size, k, s, 1, 'symmetric')).toEqual(sym);
    expect(padAmounts(size, k, s, 1, 'same')).toEqual(same);
  });
  it('TF variants get asymmetric pads for odd sizes (B2 at 260 → 130 → 65 → 33 → 17)', () => {
    const ir = buildModel('tf-efficientnet-b2').ir;
    const pads = (name: string) => ir.nodes.find((n) => n.name === name)!.attrs.pads;
    expect(pads('conv_stem')).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    // k3 s2 on 130: out 65, total pad = 64*2+3-130 = 1 -> [0,1]
    expect(pads('blocks.1.0.conv_dw')).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    // k5 s2 on 65: out 33, total pad = 32*2+5-65 = 4 -> [2,2]
    expect(pads('blocks.2.0.conv_dw')).toEqual({ kind: 'ints', value: [2, 2, 2, 2] });
    expect(pads('blocks.3.0.conv_dw')).toEqual({ kind: 'ints', value: [1, 1, 1, 1] });
  });
});

describe('registry', () => {
  it('resolves aliases and rejects unknown ids with the list', () => {
    expect(findModel('b3').id).toBe('efficientnet-b3');
    expect(findModel('tf_efficientnet_b3').id).toBe('tf-efficientnet-b3');
    expect(() => findModel('b9')).toThrow(/unknown model 'b9'.*efficientnet-b0/);
  });
  it('--resolution and --num-classes change input and classifier', () => {
    const m = buildModel('b0', { resolution: 160, numClasses: 10, batch: 4 });
    expect(m.ir.inputs[0]!.shape).toEqual([4, 3, 160, 160]);
    expect(m.ir.outputs[0]!.shape).toEqual([4, 10]);
    expect(() => buildModel('b0', { resolution: 0 })).toThrow(/resolution must be a positive integer, got 0/);
    expect(() => buildModel('b0', { batch: -1 })).toThrow(/batch must be a positive integer, got -1/);
  });
  it('every model id is unique', () => {
    const ids = MODELS.flatMap((m) => [m.id, ...m.aliases]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
