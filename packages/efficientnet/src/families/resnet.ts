/** ResNet-50/101/152 (He et al., 2016), torchvision layout: own builder (resnet.ts), registered as a family. */
import { IMAGENET_MEAN, IMAGENET_STD, type Family, type OwnModel } from '../family.js';
import { RESNET_DEPTHS, resNet } from '../resnet.js';
import { scaleModel } from '../scaling.js';

export const RESNET: Family = {
  id: 'resnet',
  title: 'ResNet-50/101/152',
  scaling: 'depth: blocks of each stage × d, rounded up; width: every channel count (stem, bottleneck and expansion) × w, rounded to a multiple of 8',
  naming: 'torchvision',
  models: (['resnet50', 'resnet101', 'resnet152'] as const).map((id): OwnModel => ({
    id,
    aliases: [],
    description: `ResNet-${id.slice(6)} (torchvision layout, v1.5 strides)`,
    resolution: 224,
    preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bilinear' },
    scalable: true,
    build: (o) => {
      const s = scaleModel({ width: 1, depth: 1, resolution: 224 }, o);
      const built = resNet({ ...o, name: id, layers: RESNET_DEPTHS[id], width: s.width, depth: s.depth, resolution: s.resolution });
      return Object.keys(s.metadata).length > 0 ? { ...built, resolution: s.resolution, metadata: s.metadata } : built;
    },
  })),
};
