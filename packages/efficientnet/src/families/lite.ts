/**
 * EfficientNet-Lite0–4 (tensorflow/tpu efficientnet/lite): B0's stages without squeeze-excite, ReLU6
 * throughout, stem (32) and head (1280) not scaled, first and last stage never deepened — the
 * int8/mobile-friendly family. As timm 1.0.29 `_gen_efficientnet_lite`.
 */
import { SE_TIMM, type Architecture } from '../efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, PT, TF, type Family, type FamilyModel } from '../family.js';

export const EFFICIENTNET_LITE0: Architecture = {
  stages: [['ds_r1_k3_s1_e1_c16'], ['ir_r2_k3_s2_e6_c24'], ['ir_r2_k5_s2_e6_c40'], ['ir_r3_k3_s2_e6_c80'], ['ir_r3_k5_s1_e6_c112'], ['ir_r4_k5_s2_e6_c192'], ['ir_r1_k3_s1_e6_c320']],
  stem: { channels: 32, scale: 'fixed' },
  head: { kind: 'conv', channels: 1280, scale: 'fixed' },
  act: 'relu6',
  se: SE_TIMM,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'first-last' } },
};

/**
 * width, depth, official evaluation resolution; timm's crop_pct of the TF-ported weights (and of its
 * own efficientnet_lite* configs), and the TF ports' resize interpolation.
 */
const VARIANTS = {
  lite0: [1.0, 1.0, 224, 0.875, 0.875, 'bicubic'],
  lite1: [1.0, 1.1, 240, 0.882, 0.882, 'bicubic'],
  lite2: [1.1, 1.2, 260, 0.89, 0.89, 'bicubic'],
  lite3: [1.2, 1.4, 280, 0.904, 0.904, 'bilinear'],
  lite4: [1.4, 1.8, 300, 0.92, 0.922, 'bilinear'],
} as const;

export const EFFICIENTNET_LITE: Family = {
  id: 'efficientnet-lite',
  title: 'EfficientNet-Lite0–4',
  scaling: 'width, depth and resolution as B0–B4, but the stem and head stay 32/1280 and the first and last stage keep their repeats',
  naming: 'timm',
  models: Object.entries(VARIANTS).flatMap(([v, [width, depth, resolution, tfCrop, ptCrop, interpolation]]): FamilyModel[] => {
    const n = v.slice(4);
    const common = { arch: EFFICIENTNET_LITE0, width, depth, resolution };
    return [
      {
        ...common,
        ...TF,
        id: `tf-efficientnet-${v}`,
        aliases: [`tf_efficientnet_${v}`],
        description: `EfficientNet-Lite${n} (w=${width}, d=${depth}), TensorFlow "SAME" padding, BN eps 1e-3 (timm tf_efficientnet_${v})`,
        preprocess: { mean: INCEPTION_MEAN, std: INCEPTION_STD, cropPct: tfCrop, interpolation },
      },
      {
        ...common,
        ...PT,
        id: `efficientnet-${v}`,
        aliases: [`efficientnet_${v}`],
        description: `EfficientNet-Lite${n} (w=${width}, d=${depth}), PyTorch-style padding, BN eps 1e-5 (timm efficientnet_${v})`,
        preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: ptCrop, interpolation: 'bicubic' },
      },
    ];
  }),
};
