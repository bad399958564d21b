/** ResNet-50/101/152 (He et al., 2016), torchvision layout: own builder (resnet.ts), registered as a family. */
import { IMAGENET_MEAN, IMAGENET_STD, type Family, type OwnModel } from '../family.js';
import { RESNET_DEPTHS, resNet } from '../resnet.js';

export const RESNET: Family = {
  id: 'resnet',
  title: 'ResNet-50/101/152',
  scaling: 'depth: blocks per stage (3-4-6-3, 3-4-23-3, 3-8-36-3)',
  naming: 'torchvision',
  models: (['resnet50', 'resnet101', 'resnet152'] as const).map((id): OwnModel => ({
    id,
    aliases: [],
    description: `ResNet-${id.slice(6)} (torchvision layout, v1.5 strides)`,
    resolution: 224,
    preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bilinear' },
    build: (o) => resNet({ name: id, layers: RESNET_DEPTHS[id], ...o }),
  })),
};
