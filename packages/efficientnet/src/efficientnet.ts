/**
 * The EfficientNet-style network, built top to bottom like the paper's Figure 2 / Table 1:
 * stem conv → stages of blocks (from block strings) → 1×1 head conv → pooling → classifier.
 * Everything that differs between EfficientNet, EfficientNetV2 and EfficientNet-Lite is data
 * (an Architecture, see families/); parameter names follow timm (`conv_stem`, `blocks.S.I.conv_dw`, ...).
 */
import { flatten, globalAveragePool, Graph, type Dim, type GraphIR, type Tensor } from '@effnet/graph-builder';
import { decodeBlock, type Activation } from './arch.js';
import { buildBlock, operatorName } from './blocks.js';
import { Layers, type Padding } from './layers.js';
import { roundFilters, roundRepeats } from './scaling.js';
import type { WeightSource } from './weights.js';

/** A family's network as data. */
export interface Architecture {
  /** One block string per stage (between the stem and the head). */
  readonly stages: readonly string[];
  /** Stem and head widths before width scaling. */
  readonly stem: number;
  readonly head: number;
  /** The model's activation (blocks may name their own). */
  readonly act: Activation;
  /** Whether the width multiplier scales the stem / head (EfficientNet-Lite: neither). */
  readonly scaleStem: boolean;
  readonly scaleHead: boolean;
  /** timm round_channels' round_limit: 0.9 (never more than 10% down), 0 for EfficientNetV2-B*. */
  readonly roundLimit: number;
  /** Stages the depth multiplier leaves alone: EfficientNet-Lite keeps the first and last at their repeats. */
  readonly fixedDepth: 'none' | 'first-last';
}

export interface EfficientNetConfig extends Architecture {
  readonly name: string;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly numClasses: number;
  readonly padding: Padding;
  readonly bnEps: number;
  readonly batch: Dim;
  readonly weights: WeightSource;
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

export function efficientNet(c: EfficientNetConfig): EfficientNetGraph {
  const g = new Graph(c.name);
  const L = new Layers(g, c.weights, { padding: c.padding, bnEps: c.bnEps });
  const ctx = { L, act: c.act };
  const width = (channels: number, scaled = true) => (scaled ? roundFilters(channels, c.width, 8, c.roundLimit) : channels);
  const rows: StageRow[] = [];
  const hw = (t: Tensor): [number, number] => [t.shape[2] as number, t.shape[3] as number];

  let x = g.input('input', 'float32', [c.batch, 3, c.resolution, c.resolution]);

  const stem = width(c.stem, c.scaleStem);
  rows.push({ stage: 1, operator: 'Conv3x3', resolution: hw(x), channels: stem, layers: 1 });
  x = L.conv(x, 'conv_stem', stem, 3, { stride: 2 });
  x = L.act(L.bn(x, 'bn1'), c.act, 'bn1');

  const blocks = c.stages.map(decodeBlock);
  blocks.forEach((block, s) => {
    const out = width(block.channels);
    const fixed = c.fixedDepth === 'first-last' && (s === 0 || s === blocks.length - 1);
    const repeats = fixed ? block.repeats : roundRepeats(block.repeats, c.depth);
    rows.push({ stage: s + 2, operator: operatorName(block), resolution: hw(x), channels: out, layers: repeats });
    for (let i = 0; i < repeats; i++) x = buildBlock(ctx, x, `blocks.${s}.${i}`, block, out, i === 0 ? block.stride : 1);
  });

  const head = width(c.head, c.scaleHead);
  rows.push({ stage: rows.length + 1, operator: 'Conv1x1 & Pooling & FC', resolution: hw(x), channels: head, layers: 1 });
  x = L.conv(x, 'conv_head', head, 1);
  x = L.act(L.bn(x, 'bn2'), c.act, 'bn2');
  x = flatten(globalAveragePool(x, { label: 'global_pool' }), { label: 'flatten' });
  x = L.linear(x, 'classifier', c.numClasses);
  g.output(x, 'logits');
  return { ir: g.build(), stages: rows };
}
