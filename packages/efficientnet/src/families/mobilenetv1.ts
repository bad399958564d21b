/**
 * MobileNetV1 (Howard et al., 2017): a stem conv and thirteen depthwise-separable blocks with an
 * activation after each pointwise conv and no shortcut (`dsa`), ReLU6, no head conv: pool → classifier.
 * As timm 1.0.29 `_gen_mobilenet_v1` (mobilenetv1_100, mobilenetv1_125).
 */
import { SE_TIMM, type Architecture } from '../efficientnet.js';
import { INCEPTION_MEAN, INCEPTION_STD, PT, type Family, type FamilyModel } from '../family.js';

export const MOBILENETV1: Architecture = {
  stages: [['dsa_r1_k3_s1_c64'], ['dsa_r2_k3_s2_c128'], ['dsa_r2_k3_s2_c256'], ['dsa_r6_k3_s2_c512'], ['dsa_r2_k3_s2_c1024']],
  stem: { channels: 32, scale: 'scaled' },
  head: { kind: 'none' },
  act: 'relu6',
  se: SE_TIMM,
  scaling: { channels: { divisor: 8, roundLimit: 0.9 }, depth: { trunc: 'ceil', fixed: 'none' } },
};

/** width, timm's crop_pct of the weights. */
const VARIANTS = { '100': [1.0, 0.875], '125': [1.25, 0.9] } as const;

export const MOBILENET_V1: Family = {
  id: 'mobilenetv1',
  title: 'MobileNetV1',
  scaling: 'width multiplier on every channel (stem too), rounded to a multiple of 8; depth multiplies the repeats of each stage',
  naming: 'timm',
  models: Object.entries(VARIANTS).map(([v, [width, cropPct]]): FamilyModel => ({
    ...PT,
    id: `mobilenetv1-${v}`,
    aliases: [`mobilenetv1_${v}`],
    description: `MobileNetV1 (w=${width}), ReLU6, no head conv (timm mobilenetv1_${v})`,
    arch: MOBILENETV1,
    width,
    depth: 1,
    resolution: 224,
    preprocess: { mean: INCEPTION_MEAN, std: INCEPTION_STD, cropPct, interpolation: 'bicubic' },
  })),
};
