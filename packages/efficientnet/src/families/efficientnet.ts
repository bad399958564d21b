/** EfficientNet B0–B7 (Tan & Le, 2019): B0's stage table, compound-scaled (timm efficientnet_b*, tf_efficientnet_b*). */
import { efficientNet, SE_TIMM, type Architecture } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, PT, TF, type Family, type FamilyModel, type OwnModel } from '../family.js';
import { compoundScaling, VARIANTS, type Variant } from '../scaling.js';

/** Stage 2..8 of Table 1 (stage 1 is the stem conv, stage 9 the head), SiLU throughout. */
export const EFFICIENTNET_B0: Architecture = {
  stages: [
    ['ds_r1_k3_s1_e1_c16_se0.25'],
    ['ir_r2_k3_s2_e6_c24_se0.25'],
    ['ir_r2_k5_s2_e6_c40_se0.25'],
    ['ir_r3_k3_s2_e6_c80_se0.25'],
    ['ir_r3_k5_s1_e6_c112_se0.25'],
    ['ir_r4_k5_s2_e6_c192_se0.25'],
    ['ir_r1_k3_s1_e6_c320_se0.25'],
  ],
  stem: { channels: 32, scale: 'scaled' },
  head: { kind: 'conv', channels: 1280, scale: 'scaled' },
  act: 'silu',
  se: SE_TIMM,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'none' } },
};

/** timm's crop_pct for the TF-ported weights (tf_efficientnet_b*), which were evaluated that way. */
const TF_CROP_PCT: Readonly<Record<Variant, number>> = { b0: 0.875, b1: 0.882, b2: 0.89, b3: 0.904, b4: 0.922, b5: 0.934, b6: 0.942, b7: 0.949 };

/**
 * Any point of the family: `--phi` applies compound scaling to B0; `--width/--depth/--resolution`
 * set the multipliers directly (each overrides what φ gives). Same rounding rules as B0–B7.
 */
const CUSTOM: OwnModel = {
  id: 'efficientnet',
  aliases: ['efficientnet-custom'],
  description: 'EfficientNet at any compound coefficient: --phi P, or --width W --depth D --resolution R (PyTorch-style padding)',
  resolution: 224,
  preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' },
  scaling: 'compound from B0 at any φ (--phi), or --width/--depth/--resolution directly',
  scalable: true,
  build: (o) => {
    const s = compoundScaling(o.phi ?? 0, o.coefficients);
    const width = o.width ?? s.width;
    const depth = o.depth ?? s.depth;
    const resolution = o.resolutionGiven ? o.resolution : s.resolution;
    const built = efficientNet({ ...o, ...EFFICIENTNET_B0, name: 'efficientnet', width, depth, resolution, ...PT, bnEps: o.bnEps ?? PT.bnEps });
    const meta: Record<string, string> = { 'effnet.width': String(width), 'effnet.depth': String(depth), 'effnet.resolution': String(resolution) };
    if (o.phi !== undefined) meta['effnet.phi'] = String(o.phi);
    return { ...built, resolution, metadata: meta };
  },
};

export const EFFICIENTNET: Family = {
  id: 'efficientnet',
  title: 'EfficientNet B0–B7',
  scaling: 'compound: B0 scaled in width (stem and head too), depth and resolution (w = β^φ, d = α^φ, r = γ^φ)',
  naming: 'timm',
  models: [
    ...(Object.keys(VARIANTS) as Variant[]).flatMap((v): FamilyModel[] => {
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
    CUSTOM,
  ],
};
