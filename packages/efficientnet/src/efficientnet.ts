/**
 * The block-string network (timm's `_efficientnet_builder` as data), built top to bottom like the
 * paper's Figure 2 / Table 1: stem conv → stages of blocks (each stage a list of block strings,
 * timm's `arch_def`) → head → classifier. Everything that differs between EfficientNet, V2, Lite,
 * MobileNetV1/V2/V3 and MnasNet is data (an Architecture, see families/); parameter names follow
 * timm (`conv_stem`, `blocks.S.I.conv_dw`, `conv_head`, `classifier`).
 */
import { flatten, globalAveragePool, Graph, type Dim, type GraphIR, type Tensor } from '@effnet/graph-builder';
import { decodeBlock, type Activation, type BlockSpec, type SeDefaults } from './arch.js';
import { buildBlock, operatorName } from './blocks.js';
import { Layers, type Padding } from './layers.js';
import { makeDivisible, scaleStageRepeats, type ChannelRule, type Coefficients, type DepthRule } from './scaling.js';
import type { WeightSource } from './weights.js';

export { SE_TIMM, type SeDefaults } from './arch.js';

/** How a width multiplier applies to the stem: 'scaled', 'fixed', or fixed only below a multiplier (timm MobileNetV3: fix_stem = w < 0.75). */
export interface StemSpec {
  readonly channels: number;
  readonly scale: 'scaled' | 'fixed';
  readonly fixedBelow?: number;
}

/**
 * The head between the last stage and the classifier.
 * - 'conv': 1×1 conv → BN → act → global pool → classifier (EfficientNet, MobileNetV2, MnasNet);
 * - 'efficient': global pool → 1×1 conv with bias → act → flatten → classifier, no BN (MobileNetV3);
 * - 'none': global pool → classifier (MobileNetV1).
 * `scale`: 'scaled' = round(channels · w), 'fixed', 'grow' = max(channels, round(channels · w)) (MobileNetV2).
 */
export type HeadSpec = { readonly kind: 'conv' | 'efficient'; readonly channels: number; readonly scale: 'scaled' | 'fixed' | 'grow' } | { readonly kind: 'none' };

/**
 * How a family scales: channels (timm round_channels), depth (timm _scale_stage_depth), and the
 * compound coefficients --phi uses (undefined: EfficientNet's α=1.2, β=1.1, γ=1.15).
 */
export interface ScalingRule {
  readonly channels: ChannelRule;
  readonly depth: DepthRule;
  readonly compound?: Coefficients;
}

/** A family's network as data. */
export interface Architecture {
  /** Stages between the stem and the head, each a list of block strings (timm's arch_def). */
  readonly stages: readonly (readonly string[])[];
  readonly stem: StemSpec;
  readonly head: HeadSpec;
  /** The model's activation (blocks may name their own). */
  readonly act: Activation;
  readonly se: SeDefaults;
  readonly scaling: ScalingRule;
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

/**
 * A tensor timm's `features_only` would return (its `feature_info`): the output of the stage after
 * which the next stride-2 reduction starts (or the last stage), or the stem when the first block
 * already has stride 2.
 */
export interface FeatureTap {
  /** timm's module name (`bn1`, `blocks.3`). */
  readonly module: string;
  /** Graph tensor name. */
  readonly tensor: string;
  readonly channels: number;
  /** Total stride at this point. */
  readonly reduction: number;
  /** timm's `stage` (0 = stem, S + 1 = after blocks.S). */
  readonly stage: number;
}

export interface EfficientNetGraph {
  readonly ir: GraphIR;
  readonly stages: readonly StageRow[];
  /** One per stride-2 reduction, as timm's feature_info (not graph outputs). */
  readonly features: readonly FeatureTap[];
  /** The pooled embedding the classifier reads (timm's pre_logits), as a graph tensor name. */
  readonly embedding: string;
  /** The padding rule of every conv (what `--dynamic-size` re-expresses for symbolic H and W). */
  readonly padding: Padding;
}

/** Channels × width as the family rounds them (timm round_chs_fn). */
export function scaleChannels(channels: number, width: number, rule: ChannelRule): number {
  return makeDivisible(channels * width, rule.divisor, rule.roundLimit);
}

/** Width of the stem for multiplier `width`. */
export function stemChannels(s: StemSpec, width: number, rule: ChannelRule): number {
  const fixed = s.scale === 'fixed' || (s.fixedBelow !== undefined && width < s.fixedBelow);
  return fixed ? s.channels : scaleChannels(s.channels, width, rule);
}

/** Width of the head conv for multiplier `width` (undefined: no head conv). */
export function headChannels(h: HeadSpec, width: number, rule: ChannelRule): number | undefined {
  if (h.kind === 'none') return undefined;
  if (h.scale === 'fixed') return h.channels;
  const scaled = scaleChannels(h.channels, width, rule);
  return h.scale === 'grow' ? Math.max(h.channels, scaled) : scaled;
}

/** The decoded blocks of every stage, each repeated as the depth rule gives (timm decode_arch_def). */
export function stageBlocks(a: Architecture, depth: number): BlockSpec[][] {
  const n = a.stages.length;
  return a.stages.map((strings, s) => {
    const specs = strings.map(decodeBlock);
    const fixed = a.scaling.depth.fixed === 'first-last' && (s === 0 || s === n - 1);
    const repeats = scaleStageRepeats(
      specs.map((b) => b.repeats),
      fixed ? 1 : depth,
      a.scaling.depth.trunc,
    );
    return specs.flatMap((b, i) => Array.from({ length: repeats[i]! }, () => b));
  });
}

function stageOperator(blocks: readonly BlockSpec[]): string {
  return [...new Set(blocks.map(operatorName))].join(' / ');
}

export function efficientNet(c: EfficientNetConfig): EfficientNetGraph {
  const g = new Graph(c.name);
  const L = new Layers(g, c.weights, { padding: c.padding, bnEps: c.bnEps });
  const ctx = { L, act: c.act, se: c.se };
  const rule = c.scaling.channels;
  const rows: StageRow[] = [];
  const features: FeatureTap[] = [];
  const hw = (t: Tensor): [number, number] => [t.shape[2] as number, t.shape[3] as number];
  const channels = (t: Tensor) => t.shape[1] as number;

  let x = g.input('input', 'float32', [c.batch, 3, c.resolution, c.resolution]);

  const stem = stemChannels(c.stem, c.width, rule);
  rows.push({ stage: 1, operator: 'Conv3x3', resolution: hw(x), channels: stem, layers: 1 });
  x = L.conv(x, 'conv_stem', stem, 3, { stride: 2 });
  x = L.act(L.bn(x, 'bn1'), c.act, 'bn1');
  let reduction = 2;

  const stages = stageBlocks(c, c.depth);
  if (stages[0]?.[0] && stages[0][0].stride > 1) features.push({ module: 'bn1', tensor: x.name, channels: channels(x), reduction, stage: 0 });
  stages.forEach((blocks, s) => {
    rows.push({ stage: s + 2, operator: stageOperator(blocks), resolution: hw(x), channels: scaleChannels(blocks.at(-1)!.channels, c.width, rule), layers: blocks.length });
    blocks.forEach((block, i) => {
      const stride = i === 0 ? block.stride : 1;
      reduction *= stride;
      x = buildBlock(ctx, x, `blocks.${s}.${i}`, block, scaleChannels(block.channels, c.width, rule), stride);
    });
    const next = stages[s + 1];
    if (!next || next[0]!.stride > 1) features.push({ module: `blocks.${s}`, tensor: x.name, channels: channels(x), reduction, stage: s + 1 });
  });

  const head = headChannels(c.head, c.width, rule);
  rows.push({ stage: rows.length + 1, operator: c.head.kind === 'none' ? 'Pooling & FC' : 'Conv1x1 & Pooling & FC', resolution: hw(x), channels: head ?? channels(x), layers: 1 });
  if (c.head.kind === 'conv') {
    x = L.conv(x, 'conv_head', head!, 1);
    x = L.act(L.bn(x, 'bn2'), c.act, 'bn2');
    x = flatten(globalAveragePool(x, { label: 'global_pool' }), { label: 'flatten' });
  } else if (c.head.kind === 'efficient') {
    x = globalAveragePool(x, { label: 'global_pool' });
    x = L.act(L.conv(x, 'conv_head', head!, 1, { bias: true }), c.act, 'act2');
    x = flatten(x, { label: 'flatten' });
  } else {
    x = flatten(globalAveragePool(x, { label: 'global_pool' }), { label: 'flatten' });
  }
  const embedding = x.name;
  x = L.linear(x, 'classifier', c.numClasses);
  g.output(x, 'logits');
  return { ir: g.build(), stages: rows, features, embedding, padding: c.padding };
}
