/**
 * MnasNet (Tan et al., 2019): the platform-aware NAS networks EfficientNet grew from. B1 (`mnasnet-100`)
 * has no squeeze-excite; A1 (`semnasnet-100`) has SE in three stages (timm's defaults: from the block
 * input, sigmoid gate). ReLU, stem 32, head 1280 not scaled. As timm 1.0.29 `_gen_mnasnet_b1` / `_gen_mnasnet_a1`.
 */
import { SE_TIMM, type Architecture } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, PT, type Family } from '../family.js';

const COMMON = {
  stem: { channels: 32, scale: 'scaled' },
  head: { kind: 'conv', channels: 1280, scale: 'fixed' },
  act: 'relu',
  se: SE_TIMM,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'none' } },
} as const satisfies Omit<Architecture, 'stages'>;

export const MNASNET_B1: Architecture = {
  ...COMMON,
  stages: [['ds_r1_k3_s1_c16_noskip'], ['ir_r3_k3_s2_e3_c24'], ['ir_r3_k5_s2_e3_c40'], ['ir_r3_k5_s2_e6_c80'], ['ir_r2_k3_s1_e6_c96'], ['ir_r4_k5_s2_e6_c192'], ['ir_r1_k3_s1_e6_c320_noskip']],
};

export const MNASNET_A1: Architecture = {
  ...COMMON,
  stages: [
    ['ds_r1_k3_s1_e1_c16_noskip'],
    ['ir_r2_k3_s2_e6_c24'],
    ['ir_r3_k5_s2_e3_c40_se0.25'],
    ['ir_r4_k3_s2_e6_c80'],
    ['ir_r2_k3_s1_e6_c112_se0.25'],
    ['ir_r3_k5_s2_e6_c160_se0.25'],
    ['ir_r1_k3_s1_e6_c320'],
  ],
};

const common = { ...PT, width: 1, depth: 1, resolution: 224, preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' } } as const;

export const MNASNET: Family = {
  id: 'mnasnet',
  title: 'MnasNet A1 / B1',
  scaling: 'width multiplier on every block channel and the stem, rounded to a multiple of 8 (the 1280 head stays); depth multiplies the repeats of each stage',
  naming: 'timm',
  models: [
    { ...common, id: 'mnasnet-100', aliases: ['mnasnet_100', 'mnasnet-b1'], description: 'MnasNet-B1 (w=1.0), no SE, ReLU (timm mnasnet_100)', arch: MNASNET_B1 },
    { ...common, id: 'semnasnet-100', aliases: ['semnasnet_100', 'mnasnet-a1'], description: 'MnasNet-A1 (w=1.0), SE in three stages, ReLU (timm semnasnet_100)', arch: MNASNET_A1 },
  ],
};
