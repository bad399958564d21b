/**
 * MobileNetV3 (Howard et al., 2019): inverted residuals with ReLU early and hard-swish later (`nre`),
 * squeeze-excite from the expanded width rounded to a multiple of 8 with a ReLU and a hard-sigmoid
 * gate, stem 16 (fixed below w 0.75), and the "efficient" head: pool → 1×1 conv with bias → hard-swish
 * → classifier, no BN. As timm 1.0.29 `_gen_mobilenet_v3`.
 */
import type { Architecture, SeDefaults } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, PT, TF, type BlockModel, type Family, type FamilyModel } from '../family.js';

/** timm's MobileNetV3 se_layer: SqueezeExcite(gate hard_sigmoid, force_act ReLU, rd_round_fn round_channels), se_from_exp. */
const SE_MOBILENETV3: SeDefaults = { from: 'mid', round: 'divisible', gate: 'hardSigmoid', act: 'relu' };

const COMMON = {
  stem: { channels: 16, scale: 'scaled', fixedBelow: 0.75 },
  act: 'hardSwish',
  se: SE_MOBILENETV3,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'none' } },
} as const satisfies Omit<Architecture, 'stages' | 'head'>;

export const MOBILENETV3_LARGE: Architecture = {
  ...COMMON,
  stages: [
    ['ds_r1_k3_s1_e1_c16_nre'],
    ['ir_r1_k3_s2_e4_c24_nre', 'ir_r1_k3_s1_e3_c24_nre'],
    ['ir_r3_k5_s2_e3_c40_se0.25_nre'],
    ['ir_r1_k3_s2_e6_c80', 'ir_r1_k3_s1_e2.5_c80', 'ir_r2_k3_s1_e2.3_c80'],
    ['ir_r2_k3_s1_e6_c112_se0.25'],
    ['ir_r3_k5_s2_e6_c160_se0.25'],
    ['cn_r1_k1_s1_c960'],
  ],
  head: { kind: 'efficient', channels: 1280, scale: 'fixed' },
};

export const MOBILENETV3_SMALL: Architecture = {
  ...COMMON,
  stages: [
    ['ds_r1_k3_s2_e1_c16_se0.25_nre'],
    ['ir_r1_k3_s2_e4.5_c24_nre', 'ir_r1_k3_s1_e3.67_c24_nre'],
    ['ir_r1_k5_s2_e4_c40_se0.25', 'ir_r2_k5_s1_e6_c40_se0.25'],
    ['ir_r2_k5_s1_e3_c48_se0.25'],
    ['ir_r3_k5_s2_e6_c96_se0.25'],
    ['cn_r1_k1_s1_c576'],
  ],
  head: { kind: 'efficient', channels: 1024, scale: 'fixed' },
};

const imagenet = (interpolation: 'bicubic' | 'bilinear') => ({ mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation });

/** The four timm models: network, width, flavour, preprocessing of the weights. */
const VARIANTS: readonly Omit<BlockModel, 'aliases' | 'description' | 'depth' | 'resolution'>[] = [
  { ...PT, id: 'mobilenetv3-large-100', arch: MOBILENETV3_LARGE, width: 1.0, preprocess: imagenet('bicubic') },
  { ...PT, id: 'mobilenetv3-large-075', arch: MOBILENETV3_LARGE, width: 0.75, preprocess: imagenet('bilinear') },
  { ...PT, id: 'mobilenetv3-small-100', arch: MOBILENETV3_SMALL, width: 1.0, preprocess: imagenet('bicubic') },
  {
    ...TF,
    id: 'tf-mobilenetv3-large-100',
    arch: MOBILENETV3_LARGE,
    width: 1.0,
    preprocess: { mean: INCEPTION_MEAN, std: INCEPTION_STD, cropPct: 0.875, interpolation: 'bilinear' },
  },
];

export const MOBILENET_V3: Family = {
  id: 'mobilenetv3',
  title: 'MobileNetV3 Large/Small',
  scaling: 'width multiplier on every block channel and the stem (fixed below 0.75), rounded to a multiple of 8; the head stays 1280 (Large) / 1024 (Small)',
  naming: 'timm',
  models: VARIANTS.map((m): FamilyModel => ({
    ...m,
    aliases: [m.id.replace(/-/g, '_')],
    description: `MobileNetV3-${m.arch === MOBILENETV3_LARGE ? 'Large' : 'Small'} (w=${m.width}), ${m.padding === 'same' ? 'TensorFlow "SAME" padding, BN eps 1e-3' : 'PyTorch-style padding, BN eps 1e-5'} (timm ${m.id.replace(/-/g, '_')})`,
    depth: 1,
    resolution: 224,
  })),
};
