/**
 * EfficientNetV2 (Tan & Le, ICML 2021): Fused-MBConv (`er`) in the early stages, smaller expansion,
 * SiLU. B0–B3 are the base network scaled in width/depth (channels rounded with round_limit 0);
 * S/M/L/XL each have their own stage table (not compound-scaled from one baseline).
 * As timm 1.0.29 `_gen_efficientnetv2_base` / `_gen_efficientnetv2_s/m/l/xl`.
 */
import { SE_TIMM, type Architecture } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, PT, TF, type Family, type FamilyModel } from '../family.js';

const V2 = {
  stem: { channels: 32, scale: 'scaled' },
  head: { kind: 'conv', channels: 1280, scale: 'scaled' },
  act: 'silu',
  se: SE_TIMM,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'none' } },
} as const satisfies Omit<Architecture, 'stages'>;

/** The B0 network that B1–B3 scale (rounding channels to the nearest multiple of 8). */
export const EFFICIENTNETV2_BASE: Architecture = {
  ...V2,
  scaling: { ...V2.scaling, channels: { divisor: 8, roundLimit: 0 } },
  stages: [['cn_r1_k3_s1_e1_c16_skip'], ['er_r2_k3_s2_e4_c32'], ['er_r2_k3_s2_e4_c48'], ['ir_r3_k3_s2_e4_c96_se0.25'], ['ir_r5_k3_s1_e6_c112_se0.25'], ['ir_r8_k3_s2_e6_c192_se0.25']],
};

export const EFFICIENTNETV2_S: Architecture = {
  ...V2,
  stem: { channels: 24, scale: 'scaled' },
  stages: [['cn_r2_k3_s1_e1_c24_skip'], ['er_r4_k3_s2_e4_c48'], ['er_r4_k3_s2_e4_c64'], ['ir_r6_k3_s2_e4_c128_se0.25'], ['ir_r9_k3_s1_e6_c160_se0.25'], ['ir_r15_k3_s2_e6_c256_se0.25']],
};

export const EFFICIENTNETV2_M: Architecture = {
  ...V2,
  stem: { channels: 24, scale: 'scaled' },
  stages: [
    ['cn_r3_k3_s1_e1_c24_skip'],
    ['er_r5_k3_s2_e4_c48'],
    ['er_r5_k3_s2_e4_c80'],
    ['ir_r7_k3_s2_e4_c160_se0.25'],
    ['ir_r14_k3_s1_e6_c176_se0.25'],
    ['ir_r18_k3_s2_e6_c304_se0.25'],
    ['ir_r5_k3_s1_e6_c512_se0.25'],
  ],
};

export const EFFICIENTNETV2_L: Architecture = {
  ...V2,
  stages: [
    ['cn_r4_k3_s1_e1_c32_skip'],
    ['er_r7_k3_s2_e4_c64'],
    ['er_r7_k3_s2_e4_c96'],
    ['ir_r10_k3_s2_e4_c192_se0.25'],
    ['ir_r19_k3_s1_e6_c224_se0.25'],
    ['ir_r25_k3_s2_e6_c384_se0.25'],
    ['ir_r7_k3_s1_e6_c640_se0.25'],
  ],
};

export const EFFICIENTNETV2_XL: Architecture = {
  ...V2,
  stages: [
    ['cn_r4_k3_s1_e1_c32_skip'],
    ['er_r8_k3_s2_e4_c64'],
    ['er_r8_k3_s2_e4_c96'],
    ['ir_r16_k3_s2_e4_c192_se0.25'],
    ['ir_r24_k3_s1_e6_c256_se0.25'],
    ['ir_r32_k3_s2_e6_c512_se0.25'],
    ['ir_r8_k3_s1_e6_c640_se0.25'],
  ],
};

/** B0–B3: width, depth, the official evaluation resolution, timm's crop_pct of the weights. */
const BASE_VARIANTS = { b0: [1.0, 1.0, 224, 0.875], b1: [1.0, 1.1, 240, 0.882], b2: [1.1, 1.2, 260, 0.89], b3: [1.2, 1.4, 300, 0.904] } as const;

/** S/M/L/XL: own network and the official evaluation resolution. */
const SIZED_VARIANTS = { s: [EFFICIENTNETV2_S, 384], m: [EFFICIENTNETV2_M, 480], l: [EFFICIENTNETV2_L, 480], xl: [EFFICIENTNETV2_XL, 512] } as const;

const imagenet = { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' } as const;
/** timm's efficientnetv2_s/m/l/xl configs: evaluated without a crop margin. */
const ptSized = { ...imagenet, cropPct: 1.0 } as const;
/** timm's tf_efficientnetv2_s/m/l/xl weights: Inception normalization, no crop margin. */
const tfSized = { mean: INCEPTION_MEAN, std: INCEPTION_STD, cropPct: 1.0, interpolation: 'bicubic' } as const;

export const EFFICIENTNETV2: Family = {
  id: 'efficientnetv2',
  title: 'EfficientNetV2 B0–B3, S/M/L/XL',
  scaling: 'B0–B3: the base network scaled in width and depth (channels to the nearest multiple of 8); S/M/L/XL: each its own stage table, not compound-scaled',
  naming: 'timm',
  models: [
    ...Object.entries(BASE_VARIANTS).map(([v, [width, depth, resolution, cropPct]]): FamilyModel => ({
      ...TF,
      id: `tf-efficientnetv2-${v}`,
      aliases: [`tf_efficientnetv2_${v}`],
      description: `EfficientNetV2-${v.toUpperCase()} (w=${width}, d=${depth}), TensorFlow "SAME" padding, BN eps 1e-3 (timm tf_efficientnetv2_${v})`,
      arch: EFFICIENTNETV2_BASE,
      width,
      depth,
      resolution,
      preprocess: { ...imagenet, cropPct },
    })),
    ...Object.entries(SIZED_VARIANTS).flatMap(([v, [arch, resolution]]): FamilyModel[] => [
      {
        ...TF,
        id: `tf-efficientnetv2-${v}`,
        aliases: [`tf_efficientnetv2_${v}`],
        description: `EfficientNetV2-${v.toUpperCase()}, TensorFlow "SAME" padding, BN eps 1e-3 (timm tf_efficientnetv2_${v})`,
        arch,
        width: 1,
        depth: 1,
        resolution,
        preprocess: tfSized,
      },
      {
        ...PT,
        id: `efficientnetv2-${v}`,
        aliases: [`efficientnetv2_${v}`],
        description: `EfficientNetV2-${v.toUpperCase()}, PyTorch-style padding, BN eps 1e-5 (timm efficientnetv2_${v})`,
        arch,
        width: 1,
        depth: 1,
        resolution,
        preprocess: ptSized,
      },
    ]),
  ],
};
