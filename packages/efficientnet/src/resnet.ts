/**
 * ResNet (He et al., 2016) with bottleneck blocks, torchvision layout ("v1.5": stride on the 3×3
 * conv). Parameter names follow torchvision (`conv1`, `layer1.0.conv1`, `fc`).
 */
import { flatten, globalAveragePool, Graph, maxPool, type Dim, type GraphIR, type Tensor } from '@effnet/graph-builder';
import type { FeatureTap } from './efficientnet.js';
import { Layers } from './layers.js';
import { makeDivisible, roundRepeats } from './scaling.js';
import type { WeightSource } from './weights.js';

export const RESNET_DEPTHS = {
  resnet50: [3, 4, 6, 3],
  resnet101: [3, 4, 23, 3],
  resnet152: [3, 8, 36, 3],
} as const;

export interface ResNetConfig {
  readonly name: string;
  readonly layers: readonly number[];
  /** Width multiplier on every channel count (stem, bottleneck, expansion), rounded to a multiple of 8 (default 1). */
  readonly width?: number;
  /** Depth multiplier on the blocks of each stage, rounded up (default 1). */
  readonly depth?: number;
  readonly resolution: number;
  readonly numClasses: number;
  readonly batch: Dim;
  readonly weights: WeightSource;
}

const EXPANSION = 4;

function bottleneck(L: Layers, x: Tensor, name: string, width: number, out: number, stride: number): Tensor {
  const inChannels = x.shape[1] as number;
  let y = L.relu(L.bn(L.conv(x, `${name}.conv1`, width, 1), `${name}.bn1`), `${name}.bn1`);
  y = L.relu(L.bn(L.conv(y, `${name}.conv2`, width, 3, { stride }), `${name}.bn2`), `${name}.bn2`);
  y = L.bn(L.conv(y, `${name}.conv3`, out, 1), `${name}.bn3`);
  const shortcut = stride !== 1 || inChannels !== out ? L.bn(L.conv(x, `${name}.downsample.0`, out, 1, { stride }), `${name}.downsample.1`) : x;
  return L.relu(L.add(y, shortcut, `${name}.residual`), name);
}

/**
 * The graph, with the tensors timm's `features_only` ResNet returns (feature_info: the stem's ReLU
 * `act1` at stride 2, then `layer1`…`layer4`) and the pooled embedding the classifier reads.
 */
export function resNet(c: ResNetConfig): { ir: GraphIR; features: FeatureTap[]; embedding: string; padding: 'symmetric' } {
  const g = new Graph(c.name);
  const L = new Layers(g, c.weights, { padding: 'symmetric', bnEps: 1e-5 });
  let x = g.input('input', 'float32', [c.batch, 3, c.resolution, c.resolution]);
  const channels = (n: number) => makeDivisible(n * (c.width ?? 1));
  x = L.relu(L.bn(L.conv(x, 'conv1', channels(64), 7, { stride: 2 }), 'bn1'), 'bn1');
  const features: FeatureTap[] = [{ module: 'act1', tensor: x.name, channels: x.shape[1] as number, reduction: 2, stage: 0 }];
  x = maxPool(x, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], label: 'maxpool' });
  c.layers.forEach((blocks, i) => {
    const width = channels(64 * 2 ** i);
    const out = channels(64 * 2 ** i * EXPANSION);
    const repeats = roundRepeats(blocks, c.depth ?? 1);
    for (let j = 0; j < repeats; j++) x = bottleneck(L, x, `layer${i + 1}.${j}`, width, out, j === 0 && i > 0 ? 2 : 1);
    features.push({ module: `layer${i + 1}`, tensor: x.name, channels: out, reduction: 4 * 2 ** i, stage: i + 1 });
  });
  x = flatten(globalAveragePool(x, { label: 'avgpool' }), { label: 'flatten' });
  const embedding = x.name;
  g.output(L.linear(x, 'fc', c.numClasses), 'logits');
  return { ir: g.build(), features, embedding, padding: 'symmetric' };
}
