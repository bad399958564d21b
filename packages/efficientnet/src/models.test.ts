import { describe, expect, it } from 'vitest';
import { graphStats, OptionError } from '@effnet/graph-builder';
import { buildModel, findModel, MODELS } from './models.js';
import { roundFilters, roundRepeats, scaleStageRepeats, VARIANTS } from './scaling.js';
import { decodeBlock, type IrSpec } from './arch.js';
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

/**
 * timm 1.0.29 counts of the EfficientNetV2 and EfficientNet-Lite families at their default resolution
 * (params as PyTorch counts them, MACs of Conv and Linear for one image), made by
 * reference/timm-families/count.py (its --check reproduces the summary.json counts of ../shared/fixtures and fixtures-families first).
 */
const FAMILY_COUNTS: Record<string, [number, number, number]> = {
  'tf-efficientnetv2-b0': [224, 7_139_704, 718_086_176],
  'tf-efficientnetv2-b1': [240, 8_141_052, 1_196_819_360],
  'tf-efficientnetv2-b2': [260, 10_096_086, 1_697_542_832],
  'tf-efficientnetv2-b3': [300, 14_358_406, 3_011_458_816],
  'tf-efficientnetv2-s': [384, 21_458_488, 8_365_617_152],
  'tf-efficientnetv2-m': [480, 54_139_356, 24_582_460_384],
  'tf-efficientnetv2-l': [480, 118_515_272, 56_079_699_008],
  'tf-efficientnetv2-xl': [512, 208_119_808, 93_353_451_520],
  'efficientnetv2-s': [384, 21_458_488, 8_365_617_152],
  'efficientnetv2-m': [480, 54_139_356, 24_582_460_384],
  'efficientnetv2-l': [480, 118_515_272, 56_079_699_008],
  'efficientnetv2-xl': [512, 208_119_808, 93_353_451_520],
  'tf-efficientnet-lite0': [224, 4_652_008, 385_187_552],
  'tf-efficientnet-lite1': [240, 5_416_680, 600_185_232],
  'tf-efficientnet-lite2': [260, 6_092_072, 859_736_272],
  'tf-efficientnet-lite3': [280, 8_197_096, 1_383_321_872],
  'tf-efficientnet-lite4': [300, 13_006_568, 2_553_034_336],
  'efficientnet-lite0': [224, 4_652_008, 385_187_552],
  'efficientnet-lite1': [240, 5_416_680, 600_185_232],
  'efficientnet-lite2': [260, 6_092_072, 859_736_272],
  'efficientnet-lite3': [280, 8_197_096, 1_383_321_872],
  'efficientnet-lite4': [300, 13_006_568, 2_553_034_336],
};

describe('EfficientNetV2 and EfficientNet-Lite: params and MACs equal timm at the default resolution', () => {
  it('covers all 22 ids', () => expect(Object.keys(FAMILY_COUNTS)).toHaveLength(22));
  for (const [id, [resolution, params, macs]] of Object.entries(FAMILY_COUNTS)) {
    it(id, () => {
      const m = buildModel(id);
      const s = graphStats(m.ir);
      expect({ resolution: m.resolution, params: s.params, macs: s.macs }).toEqual({ resolution, params, macs });
    });
  }
  it('the padding and BN eps of each flavour', () => {
    const eps = (id: string) => buildModel(id, { resolution: 64 }).ir.nodes.find((n) => n.op === 'BatchNormalization')!.attrs.epsilon;
    expect(eps('tf-efficientnetv2-s')).toEqual({ kind: 'float', value: 1e-3 });
    expect(eps('efficientnetv2-s')).toEqual({ kind: 'float', value: 1e-5 });
    expect(eps('tf-efficientnet-lite0')).toEqual({ kind: 'float', value: 1e-3 });
    const stem = (id: string) => buildModel(id).ir.nodes.find((n) => n.name === 'conv_stem')!.attrs.pads;
    expect(stem('tf-efficientnet-lite0')).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    expect(stem('efficientnet-lite0')).toEqual({ kind: 'ints', value: [1, 1, 1, 1] });
  });
  it('Lite: ReLU6 (Clip 0..6), no SE, stem and head not scaled; V2: Fused-MBConv early, SiLU + SE late', () => {
    const lite4 = buildModel('efficientnet-lite4');
    const ops = graphStats(lite4.ir).ops;
    expect(ops.Clip).toBeGreaterThan(0);
    expect(ops.Sigmoid).toBeUndefined();
    expect(lite4.stages![0]!.channels).toBe(32);
    expect(lite4.stages!.at(-1)!.channels).toBe(1280);
    // first and last stage keep their repeats at depth 1.8
    expect(lite4.stages![1]!.layers).toBe(1);
    expect(lite4.stages!.at(-2)!.layers).toBe(1);
    const v2 = buildModel('tf-efficientnetv2-s').stages!.map((r) => r.operator);
    expect(v2).toEqual(['Conv3x3', 'Conv3x3', 'Fused-MBConv4, k3x3', 'Fused-MBConv4, k3x3', 'MBConv4, k3x3', 'MBConv6, k3x3', 'MBConv6, k3x3', 'Conv1x1 & Pooling & FC']);
  });
  it('aliases with underscores as timm names them', () => {
    expect(findModel('tf_efficientnetv2_b0').id).toBe('tf-efficientnetv2-b0');
    expect(findModel('efficientnetv2_xl').id).toBe('efficientnetv2-xl');
    expect(findModel('tf_efficientnet_lite3').id).toBe('tf-efficientnet-lite3');
    expect(findModel('efficientnet_lite0').id).toBe('efficientnet-lite0');
  });
  it('--phi/--width/--depth on a family that declares no scaling rule (AmoebaNet): an OptionError naming the option', () => {
    for (const [o, flag] of [
      [{ phi: 1 }, 'phi'],
      [{ width: 1.2 }, 'width'],
      [{ depth: 2 }, 'depth'],
    ] as const) {
      let err: unknown;
      try {
        buildModel('amoebanet-b', { ...o, cells: 1, filters: 8 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as OptionError).option).toBe(flag);
      expect((err as Error).message).toBe(`--${flag} applies to models whose family declares how it scales only, not 'amoebanet-b'`);
    }
  });
});

describe('scaling every family that declares how it scales', () => {
  const stats = (id: string, o = {}) => graphStats(buildModel(id, o).ir);
  it('no flag: the model as published (the scaling metadata is absent)', () => {
    expect(buildModel('mobilenetv2-100').metadata['effnet.width']).toBeUndefined();
  });
  it("--width multiplies the model's own width, rounding as the family rounds (MobileNetV2-100 × 1.4 = mobilenetv2-140)", () => {
    expect(stats('mobilenetv2-100', { width: 1.4 })).toMatchObject({ params: 6_108_776, macs: 582_195_824 });
    expect(buildModel('mobilenetv2-100', { width: 1.4 }).metadata['effnet.width']).toBe('1.4');
  });
  it('--depth multiplies the repeats of every stage (multi-string stages shared out as timm)', () => {
    const rows = buildModel('mobilenetv3-large-100', { depth: 2, resolution: 64 }).stages!.map((r) => r.layers);
    expect(rows).toEqual([1, 2, 4, 6, 8, 4, 6, 2, 1]);
    const base = buildModel('mobilenetv3-large-100', { resolution: 64 }).stages!.map((r) => r.layers);
    expect(base).toEqual([1, 1, 2, 3, 4, 2, 3, 1, 1]);
  });
  it('--phi: width β^φ, depth α^φ, resolution 224·γ^φ rounded to 8 (unless --resolution is given)', () => {
    const m = buildModel('resnet50', { phi: 2 });
    expect(m.resolution).toBe(296);
    expect(m.metadata).toMatchObject({ 'effnet.phi': '2', 'effnet.resolution': '296' });
    expect(buildModel('resnet50', { phi: 2, resolution: 224 }).resolution).toBe(224);
  });
  it('ResNet-50: depth × 4 and width × 2 as the family declares (blocks of each stage rounded up, channels to a multiple of 8)', () => {
    expect(stats('resnet50', { depth: 4 })).toMatchObject({ macs: 14_570_749_952 });
    expect(stats('resnet50', { width: 2 })).toMatchObject({ macs: 16_116_613_120 });
    expect(buildModel('resnet50', { depth: 4, resolution: 32 }).ir.nodes.filter((n) => /^layer1\.\d+\.conv1$/.test(n.name))).toHaveLength(12);
  });
  // timm's own channel_multiplier / depth_multiplier builds (reference/timm-mobile/scaled.py → scaled.json).
  it.each([
    ['mobilenetv3-large-100', { depth: 2 }, 9_826_600, 473_066_464],
    ['mobilenetv2-100', { width: 2 }, 11_258_088, 1_137_428_224],
    ['mobilenetv2-100', { depth: 4 }, 12_051_800, 1_219_587_776],
    ['mobilenetv1-100', { width: 1.2, depth: 1.4, resolution: 288 }, 8_677_512, 2_242_960_136],
  ] as const)('%s %j equals timm scaling it itself', (id, o, params, macs) => expect(stats(id, o)).toMatchObject({ params, macs }));
  it('the smallest widths and depths still give at least one block and 8 channels per stage', () => {
    const m = buildModel('mobilenetv1-100', { width: 1e-6, depth: 1e-6, resolution: 32 });
    expect(m.stages!.slice(1, -1).every((r) => r.layers === 1 && r.channels === 8)).toBe(true);
  });
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
  // timm _scale_stage_depth: the stage total scaled, then shared out from the last block string back.
  it.each([
    [[1, 1, 2], 1.0, 'ceil', [1, 1, 2]],
    [[1, 1, 2], 1.4, 'ceil', [1, 2, 3]],
    [[1, 1, 2], 4, 'ceil', [4, 4, 8]],
    [[1, 2], 0.5, 'round', [1, 1]],
    [[3], 1.4, 'ceil', [5]],
  ] as const)('scaleStageRepeats(%j, %f, %s) = %j', (r, d, trunc, out) => expect(scaleStageRepeats(r, d, trunc)).toEqual(out));
  it('has the paper table for every variant', () => expect(Object.keys(VARIANTS)).toHaveLength(8));
});

describe('block strings', () => {
  it('decodes ir with SE', () =>
    expect(decodeBlock('ir_r2_k3_s2_e6_c24_se0.25')).toEqual({
      type: 'ir',
      repeats: 2,
      kernel: 3,
      stride: 2,
      expand: 6,
      channels: 24,
      se: { ratio: 0.25 },
      expKernel: 1,
      pwKernel: 1,
    }));
  it('decodes er, cn with skip, ds with noskip, activation and SE options', () => {
    expect(decodeBlock('er_r4_k3_s2_e4_c48')).toEqual({ type: 'er', repeats: 4, kernel: 3, stride: 2, expand: 4, channels: 48, pwKernel: 1 });
    expect(decodeBlock('cn_r1_k3_s1_e1_c16_skip')).toEqual({ type: 'cn', repeats: 1, kernel: 3, stride: 1, channels: 16, skip: true });
    expect(decodeBlock('ds_r1_k3_s1_c16_noskip_nre')).toEqual({ type: 'ds', repeats: 1, kernel: 3, stride: 1, channels: 16, act: 'relu', skip: false, pwKernel: 1, pwAct: false });
    // MobileNetV1's dsa: depthwise-separable with an activation after the pointwise conv and no shortcut.
    expect(decodeBlock('dsa_r2_k3_s2_c128')).toEqual({ type: 'ds', repeats: 2, kernel: 3, stride: 2, channels: 128, skip: false, pwKernel: 1, pwAct: true });
    expect(() => decodeBlock('dsa_r1_k3_c64_skip')).toThrow(/dsa blocks have no shortcut/);
    expect((decodeBlock('ir_r1_k5_e6_c40_se0.25_sx_sare_sghsig_nhs') as IrSpec).se).toEqual({ ratio: 0.25, base: 'mid', act: 'relu', gate: 'hardSigmoid' });
    expect(decodeBlock('ir_r1_k3_e6_c8_nr6').act).toBe('relu6');
    expect(decodeBlock('ir_r1_k3_e6_c8_nsw').act).toBe('silu');
  });
  it.each([
    ['xx_r1_c8', /unknown block type 'xx'/],
    ['ir_r1_k3', /missing output channels/],
    ['ir_q2_c8', /cannot read token 'q2'/],
    ['ir_r0_c8', /'r0' must be a positive integer/],
    ['cn_r1_k3_c8_se0.25', /block 'cn_r1_k3_c8_se0.25': 'se0.25' does not apply to cn blocks/],
    ['ds_r1_k3_e6_c8', /ds blocks have no expansion \(got 'e6'\)/],
    ['ir_r1_k3_e6_c8_nxx', /unknown activation 'xx' in 'nxx'/],
    ['ir_r1_k3_e6_c8_se0.25_sgfoo', /unknown gate 'foo' in 'sgfoo'/],
    ['ir_r1_k3_e6_c8_sx', /SE options .* need an SE ratio/],
    ['cn_r1_k3_c8_a3', /'a3' does not apply to cn blocks/],
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
    expect(() => buildModel('b0', { resolution: 20000 })).toThrow(/resolution must be at most 4096, got 20000/);
    expect(() => buildModel('b0', { numClasses: 100000000 })).toThrow(/num-classes must be at most 100000, got 100000000/);
  });
  it('every model id is unique', () => {
    const ids = MODELS.flatMap((m) => [m.id, ...m.aliases]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/**
 * timm 1.0.29 counts of the mobile baselines at 224 (reference/timm-mobile/summary.json, made by
 * reference/timm-mobile/count.py, whose --check reproduces ../shared/fixtures-mobilenet/summary.json first).
 */
const MOBILE_COUNTS: Record<string, [number, number]> = {
  'mobilenetv1-100': [4_231_976, 568_740_352],
  'mobilenetv1-125': [6_270_840, 879_516_800],
  'mobilenetv2-100': [3_504_872, 300_774_272],
  'mobilenetv2-140': [6_108_776, 582_195_824],
  'mobilenetv2-120d': [5_831_144, 668_857_568],
  'mobilenetv3-large-100': [5_483_032, 216_589_760],
  'mobilenetv3-large-075': [3_993_528, 154_560_624],
  'mobilenetv3-small-100': [2_542_856, 56_510_400],
  'tf-mobilenetv3-large-100': [5_483_032, 216_589_760],
  'mnasnet-100': [4_383_312, 314_415_872],
  'semnasnet-100': [3_887_038, 311_579_072],
};

describe('mobile baselines: params and MACs equal timm at 224', () => {
  for (const [id, [params, macs]] of Object.entries(MOBILE_COUNTS)) {
    it(id, () => {
      const m = buildModel(id);
      const s = graphStats(m.ir);
      expect({ resolution: m.resolution, params: s.params, macs: s.macs }).toEqual({ resolution: 224, params, macs });
      expect(findModel(id.replace(/-/g, '_')).id, 'the timm name is an alias').toBe(id);
    });
  }
});

describe('stage tables of the mobile baselines', () => {
  it('a stage of several block strings lists each operator once; MobileNetV1 names its dsa blocks; no head conv row', () => {
    const v3 = buildModel('mobilenetv3-large-100').stages!;
    expect(v3[2]).toMatchObject({ operator: 'MBConv4, k3x3 / MBConv3, k3x3', channels: 24, layers: 2 });
    expect(v3[4]).toMatchObject({ operator: 'MBConv6, k3x3 / MBConv2.5, k3x3 / MBConv2.3, k3x3', channels: 80, layers: 4 });
    const v1 = buildModel('mobilenetv1-100').stages!;
    expect(v1.map((r) => r.operator)).toEqual(['Conv3x3', ...Array(5).fill('DepthwiseSeparable, k3x3'), 'Pooling & FC']);
  });
});

describe('feature taps and embedding (timm feature_info, pre_logits)', () => {
  it('ResNet-50: act1, layer1…layer4 as timm taps them, and the pooled embedding', () => {
    const m = buildModel('resnet50', { resolution: 64 });
    expect(m.features!.map((f) => [f.module, f.reduction, f.channels])).toEqual([
      ['act1', 2, 64],
      ['layer1', 4, 256],
      ['layer2', 8, 512],
      ['layer3', 16, 1024],
      ['layer4', 32, 2048],
    ]);
    expect(m.ir.nodes.find((n) => n.op === 'Gemm')!.inputs[0]).toBe(m.embedding);
  });
  it('MobileNetV3-Small: the first block has stride 2, so the stem is tapped (timm bn1); the embedding is after the efficient head', () => {
    const m = buildModel('mobilenetv3-small-100', { resolution: 64 });
    expect(m.features!.map((f) => [f.module, f.reduction, f.channels])).toEqual([
      ['bn1', 2, 16],
      ['blocks.0', 4, 16],
      ['blocks.1', 8, 24],
      ['blocks.3', 16, 48],
      ['blocks.5', 32, 576],
    ]);
    const gemm = m.ir.nodes.find((n) => n.op === 'Gemm')!;
    expect(gemm.inputs[0]).toBe(m.embedding);
    // The efficient head: pool, then a 1×1 conv with bias and hard-swish, no BN after it.
    const head = m.ir.nodes.find((n) => n.name === 'conv_head')!;
    expect(head.inputs).toHaveLength(3);
    expect(m.ir.nodes.filter((n) => n.op === 'BatchNormalization').some((n) => n.inputs.includes(head.outputs[0]!))).toBe(false);
  });
  it('B0: one tap per stride-2 reduction where timm taps it, and the pooled embedding', () => {
    const m = buildModel('efficientnet-b0', { resolution: 64 });
    expect(m.features!.map((f) => [f.module, f.reduction, f.channels])).toEqual([
      ['blocks.0', 2, 16],
      ['blocks.1', 4, 24],
      ['blocks.2', 8, 40],
      ['blocks.4', 16, 112],
      ['blocks.6', 32, 320],
    ]);
    for (const f of m.features!) expect(m.ir.nodes.some((n) => n.outputs.includes(f.tensor))).toBe(true);
    const gemm = m.ir.nodes.find((n) => n.op === 'Gemm')!;
    expect(gemm.inputs[0]).toBe(m.embedding);
  });
});
