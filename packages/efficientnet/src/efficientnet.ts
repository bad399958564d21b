/**
 * EfficientNet (Tan & Le, 2019), built top to bottom like the paper's Figure 2 / Table 1:
 * stem conv → seven stages of MBConv blocks → 1×1 head conv → pooling → classifier.
 * Parameter names follow timm (`conv_stem`, `blocks.S.I.conv_dw`, `classifier`, ...).
 */
import { flatten, globalAveragePool, Graph, mul, sigmoid, type Dim, type GraphIR, type Tensor } from '@effnet/graph-builder';
import { decodeBlock, EFFICIENTNET_B0_HEAD, EFFICIENTNET_B0_STAGES, EFFICIENTNET_B0_STEM, type BlockSpec } from './arch.js';
import { Layers, type Padding } from './layers.js';
import { roundFilters, roundRepeats } from './scaling.js';
import type { WeightSource } from './weights.js';

export interface EfficientNetConfig {
  readonly name: string;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly numClasses: number;
  readonly padding: Padding;
  readonly bnEps: number;
  readonly batch: Dim;
  readonly weights: WeightSource;
  /** Block strings of the baseline; B0's by default. */
  readonly stages?: readonly string[];
}

/** One row of the paper's Table 1 for the scaled network. */
export interface StageRow {
  readonly stage: number;
  readonly operator: string;
  /** Input resolution of the stage. */
  readonly resolution: readonly [number, number];
  readonly channels: number;
  readonly layers: number;
}

export interface EfficientNetGraph {
  readonly ir: GraphIR;
  readonly stages: readonly StageRow[];
}

/** Squeeze-and-excitation: global pool → reduce (SiLU) → expand → sigmoid gate. */
function squeezeExcite(L: Layers, x: Tensor, name: string, reduced: number): Tensor {
  const channels = x.shape[1] as number;
  let s = globalAveragePool(x, { label: `${name}.pool` });
  s = L.conv(s, `${name}.conv_reduce`, reduced, 1, { bias: true });
  s = L.silu(s, `${name}.act`);
  s = L.conv(s, `${name}.conv_expand`, channels, 1, { bias: true });
  return mul(x, sigmoid(s, { label: `${name}.gate` }), { label: `${name}.scale` });
}

/**
 * MBConv. 'ir': 1×1 expand → BN → SiLU → k×k depthwise → BN → SiLU → SE → 1×1 project → BN.
 * 'ds' (expansion 1): the same without the expand conv. Identity skip only when stride is 1 and
 * input and output channels match.
 */
function mbconv(L: Layers, x: Tensor, name: string, b: BlockSpec, outChannels: number, stride: number): Tensor {
  const inChannels = x.shape[1] as number;
  const mid = inChannels * b.expand;
  const seChannels = Math.max(1, Math.floor(inChannels * b.seRatio));
  let y = x;
  if (b.type === 'ir') {
    y = L.conv(y, `${name}.conv_pw`, mid, 1);
    y = L.silu(L.bn(y, `${name}.bn1`), `${name}.bn1`);
  }
  const dwBn = b.type === 'ir' ? 'bn2' : 'bn1';
  y = L.conv(y, `${name}.conv_dw`, mid, b.kernel, { stride, groups: mid });
  y = L.silu(L.bn(y, `${name}.${dwBn}`), `${name}.${dwBn}`);
  if (b.seRatio > 0) y = squeezeExcite(L, y, `${name}.se`, seChannels);
  const pw = b.type === 'ir' ? 'conv_pwl' : 'conv_pw';
  y = L.conv(y, `${name}.${pw}`, outChannels, 1);
  y = L.bn(y, `${name}.${b.type === 'ir' ? 'bn3' : 'bn2'}`);
  return stride === 1 && inChannels === outChannels ? L.add(y, x, `${name}.residual`) : y;
}

export function efficientNet(c: EfficientNetConfig): EfficientNetGraph {
  const g = new Graph(c.name);
  const L = new Layers(g, c.weights, { padding: c.padding, bnEps: c.bnEps });
  const rows: StageRow[] = [];
  const hw = (t: Tensor): [number, number] => [t.shape[2] as number, t.shape[3] as number];

  let x = g.input('input', 'float32', [c.batch, 3, c.resolution, c.resolution]);

  const stem = roundFilters(EFFICIENTNET_B0_STEM, c.width);
  rows.push({ stage: 1, operator: 'Conv3x3', resolution: hw(x), channels: stem, layers: 1 });
  x = L.conv(x, 'conv_stem', stem, 3, { stride: 2 });
  x = L.silu(L.bn(x, 'bn1'), 'bn1');

  (c.stages ?? EFFICIENTNET_B0_STAGES).map(decodeBlock).forEach((block, s) => {
    const out = roundFilters(block.channels, c.width);
    const repeats = roundRepeats(block.repeats, c.depth);
    rows.push({ stage: s + 2, operator: `MBConv${block.expand}, k${block.kernel}x${block.kernel}`, resolution: hw(x), channels: out, layers: repeats });
    for (let i = 0; i < repeats; i++) x = mbconv(L, x, `blocks.${s}.${i}`, block, out, i === 0 ? block.stride : 1);
  });

  const head = roundFilters(EFFICIENTNET_B0_HEAD, c.width);
  rows.push({ stage: rows.length + 1, operator: 'Conv1x1 & Pooling & FC', resolution: hw(x), channels: head, layers: 1 });
  x = L.conv(x, 'conv_head', head, 1);
  x = L.silu(L.bn(x, 'bn2'), 'bn2');
  x = flatten(globalAveragePool(x, { label: 'global_pool' }), { label: 'flatten' });
  x = L.linear(x, 'classifier', c.numClasses);
  g.output(x, 'logits');
  return { ir: g.build(), stages: rows };
}
