/**
 * MobileNetV2 (Sandler et al., 2018): inverted residuals with linear bottlenecks, ReLU6, no SE; head
 * 1280 grown (never shrunk) with width. mobilenetv2-120d keeps stem and head fixed and the first and
 * last stage at their repeats (timm fix_stem_head). As timm 1.0.29 `_gen_mobilenet_v2`.
 */
import { SE_TIMM, type Architecture } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, PT, type Family, type FamilyModel } from '../family.js';

export const MOBILENETV2: Architecture = {
  stages: [['ds_r1_k3_s1_c16'], ['ir_r2_k3_s2_e6_c24'], ['ir_r3_k3_s2_e6_c32'], ['ir_r4_k3_s2_e6_c64'], ['ir_r3_k3_s1_e6_c96'], ['ir_r3_k3_s2_e6_c160'], ['ir_r1_k3_s1_e6_c320']],
  stem: { channels: 32, scale: 'scaled' },
  head: { kind: 'conv', channels: 1280, scale: 'grow' },
  act: 'relu6',
  se: SE_TIMM,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'none' } },
};

/** timm's fix_stem_head: stem and head not scaled, first and last stage not deepened. */
export const MOBILENETV2_FIXED_STEM_HEAD: Architecture = {
  ...MOBILENETV2,
  stem: { channels: 32, scale: 'fixed' },
  head: { kind: 'conv', channels: 1280, scale: 'fixed' },
  scaling: { ...MOBILENETV2.scaling, depth: { trunc: 'ceil', fixed: 'first-last' } },
};

/** width, depth, fix_stem_head. */
const VARIANTS = { '100': [1.0, 1.0, false], '140': [1.4, 1.0, false], '120d': [1.2, 1.4, true] } as const;

export const MOBILENET_V2: Family = {
  id: 'mobilenetv2',
  title: 'MobileNetV2',
  scaling: 'width multiplier on every channel (stem too; the 1280 head only grows), rounded to a multiple of 8; depth multiplies the repeats of each stage',
  naming: 'timm',
  models: Object.entries(VARIANTS).map(([v, [width, depth, fixed]]): FamilyModel => ({
    ...PT,
    id: `mobilenetv2-${v}`,
    aliases: [`mobilenetv2_${v}`],
    description: `MobileNetV2 (w=${width}${depth !== 1 ? `, d=${depth}, stem/head and first/last stage fixed` : ''}), ReLU6 (timm mobilenetv2_${v})`,
    arch: fixed ? MOBILENETV2_FIXED_STEM_HEAD : MOBILENETV2,
    width,
    depth,
    resolution: 224,
    preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' },
  })),
};
