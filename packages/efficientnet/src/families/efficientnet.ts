/** EfficientNet B0–B7 (Tan & Le, 2019): B0's stage table, compound-scaled (timm efficientnet_b*, tf_efficientnet_b*). */
import type { Architecture } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, PT, TF, type Family, type FamilyModel } from '../family.js';
import { VARIANTS, type Variant } from '../scaling.js';

/** Stage 2..8 of Table 1 (stage 1 is the stem conv, stage 9 the head), SiLU throughout. */
export const EFFICIENTNET_B0: Architecture = {
  stages: [
    'ds_r1_k3_s1_e1_c16_se0.25',
    'ir_r2_k3_s2_e6_c24_se0.25',
    'ir_r2_k5_s2_e6_c40_se0.25',
    'ir_r3_k3_s2_e6_c80_se0.25',
    'ir_r3_k5_s1_e6_c112_se0.25',
    'ir_r4_k5_s2_e6_c192_se0.25',
    'ir_r1_k3_s1_e6_c320_se0.25',
  ],
  stem: 32,
  head: 1280,
  act: 'silu',
  scaleStem: true,
  scaleHead: true,
  roundLimit: 0.9,
  fixedDepth: 'none',
};

/** timm's crop_pct for the TF-ported weights (tf_efficientnet_b*), which were evaluated that way. */
const TF_CROP_PCT: Readonly<Record<Variant, number>> = { b0: 0.875, b1: 0.882, b2: 0.89, b3: 0.904, b4: 0.922, b5: 0.934, b6: 0.942, b7: 0.949 };

export const EFFICIENTNET: Family = {
  id: 'efficientnet',
  title: 'EfficientNet B0–B7',
  scaling: 'compound: B0 scaled in width (stem and head too), depth and resolution (w = β^φ, d = α^φ, r = γ^φ)',
  models: (Object.keys(VARIANTS) as Variant[]).flatMap((v): FamilyModel[] => {
    const s = VARIANTS[v];
    const common = { arch: EFFICIENTNET_B0, width: s.width, depth: s.depth, resolution: s.resolution };
    return [
      {
        ...common,
        ...PT,
        id: `efficientnet-${v}`,
        aliases: [v, `efficientnet_${v}`],
        description: `EfficientNet-${v.toUpperCase()} (w=${s.width}, d=${s.depth}), PyTorch-style padding, BN eps 1e-5 (timm efficientnet_${v}, torchvision)`,
        preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' },
      },
      {
        ...common,
        ...TF,
        id: `tf-efficientnet-${v}`,
        aliases: [`tf_efficientnet_${v}`],
        description: `EfficientNet-${v.toUpperCase()}, TensorFlow "SAME" padding, BN eps 1e-3 (the paper's models; timm tf_efficientnet_${v})`,
        preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: TF_CROP_PCT[v], interpolation: 'bicubic' },
      },
    ];
  }),
};
