/**
 * The block vocabulary: one function per block type, each reading top to bottom like its figure.
 * Parameter names follow timm (`conv_pw`, `conv_dw`, `conv_exp`, `conv_pwl`, `se.conv_reduce`, ...),
 * so timm checkpoints load by name.
 */
import { globalAveragePool, mul, type Tensor } from '@effnet/graph-builder';
import { roundHalfEven } from '@effnet/preprocess';
import type { Activation, BlockSpec, BlockType, CnSpec, DsSpec, ErSpec, IrSpec, SeDefaults, SeSpec } from './arch.js';
import type { Layers } from './layers.js';
import { makeDivisible } from './scaling.js';

export interface BlockContext {
  readonly L: Layers;
  /** The model's activation; a block's `n<act>` token overrides it. */
  readonly act: Activation;
  /** The family's squeeze-excite defaults; a block's SE tokens override them. */
  readonly se: SeDefaults;
}

/** One block: `x` in, `outChannels` out, `stride` on this repeat. */
export type BlockFn<S extends BlockSpec> = (ctx: BlockContext, x: Tensor, name: string, spec: S, outChannels: number, stride: number) => Tensor;

const channelsOf = (x: Tensor): number => x.shape[1] as number;

/** The identity shortcut: cn blocks only on `skip`; the others unless `noskip`; always needs stride 1 and equal widths. */
function hasSkip(spec: BlockSpec, inChannels: number, outChannels: number, stride: number): boolean {
  const wanted = spec.type === 'cn' ? spec.skip === true : spec.skip !== false;
  return wanted && stride === 1 && inChannels === outChannels;
}

function residual(ctx: BlockContext, y: Tensor, x: Tensor, name: string, spec: BlockSpec, stride: number): Tensor {
  return hasSkip(spec, channelsOf(x), channelsOf(y), stride) ? ctx.L.add(y, x, `${name}.residual`) : y;
}

/**
 * Squeeze-and-excitation: global pool → 1×1 reduce → act → 1×1 expand → gate → scale.
 * Reduced width as timm: mid · ratio / expansion from the block input, mid · ratio from the expanded
 * width, rounded by the family's rule (Python's round, or make_divisible(·, 8) as MobileNetV3).
 */
function squeezeExcite(ctx: BlockContext, x: Tensor, name: string, se: SeSpec, blockAct: Activation, expand: number): Tensor {
  const { L } = ctx;
  const d = ctx.se;
  const channels = channelsOf(x);
  const exact = channels * ((se.base ?? d.from) === 'in' ? se.ratio / expand : se.ratio);
  const reduced = d.round === 'divisible' ? makeDivisible(exact) : Math.max(1, roundHalfEven(exact));
  let s = globalAveragePool(x, { label: `${name}.pool` });
  s = L.conv(s, `${name}.conv_reduce`, reduced, 1, { bias: true });
  s = L.act(s, se.act ?? d.act ?? blockAct, `${name}.act`);
  s = L.conv(s, `${name}.conv_expand`, channels, 1, { bias: true });
  return mul(x, L.gate(s, se.gate ?? d.gate, `${name}.gate`), { label: `${name}.scale` });
}

/** Depthwise-separable (MBConv1): k×k depthwise → BN → act → SE → 1×1 project → BN (→ act for `dsa`, MobileNetV1). */
export const depthwiseSeparable: BlockFn<DsSpec> = (ctx, x, name, b, out, stride) => {
  const { L } = ctx;
  const act = b.act ?? ctx.act;
  const inChannels = channelsOf(x);
  let y = L.conv(x, `${name}.conv_dw`, inChannels, b.kernel, { stride, groups: inChannels });
  y = L.act(L.bn(y, `${name}.bn1`), act, `${name}.bn1`);
  if (b.se) y = squeezeExcite(ctx, y, `${name}.se`, b.se, act, 1);
  y = L.bn(L.conv(y, `${name}.conv_pw`, out, b.pwKernel), `${name}.bn2`);
  if (b.pwAct) y = L.act(y, act, `${name}.bn2`);
  return residual(ctx, y, x, name, b, stride);
};

/** Inverted residual (MBConv): 1×1 expand → BN → act → k×k depthwise → BN → act → SE → 1×1 project → BN. */
export const invertedResidual: BlockFn<IrSpec> = (ctx, x, name, b, out, stride) => {
  const { L } = ctx;
  const act = b.act ?? ctx.act;
  const mid = makeDivisible(channelsOf(x) * b.expand);
  let y = L.conv(x, `${name}.conv_pw`, mid, b.expKernel);
  y = L.act(L.bn(y, `${name}.bn1`), act, `${name}.bn1`);
  y = L.conv(y, `${name}.conv_dw`, mid, b.kernel, { stride, groups: mid });
  y = L.act(L.bn(y, `${name}.bn2`), act, `${name}.bn2`);
  if (b.se) y = squeezeExcite(ctx, y, `${name}.se`, b.se, act, b.expand);
  y = L.bn(L.conv(y, `${name}.conv_pwl`, out, b.pwKernel), `${name}.bn3`);
  return residual(ctx, y, x, name, b, stride);
};

/** Edge residual (Fused-MBConv, EfficientNetV2): k×k expand → BN → act → SE → 1×1 project → BN. */
export const edgeResidual: BlockFn<ErSpec> = (ctx, x, name, b, out, stride) => {
  const { L } = ctx;
  const act = b.act ?? ctx.act;
  const mid = makeDivisible(channelsOf(x) * b.expand);
  let y = L.conv(x, `${name}.conv_exp`, mid, b.kernel, { stride });
  y = L.act(L.bn(y, `${name}.bn1`), act, `${name}.bn1`);
  if (b.se) y = squeezeExcite(ctx, y, `${name}.se`, b.se, act, b.expand);
  y = L.bn(L.conv(y, `${name}.conv_pwl`, out, b.pwKernel), `${name}.bn2`);
  return residual(ctx, y, x, name, b, stride);
};

/** Conv → BN → act. */
export const convBnAct: BlockFn<CnSpec> = (ctx, x, name, b, out, stride) => {
  const { L } = ctx;
  const y = L.act(L.bn(L.conv(x, `${name}.conv`, out, b.kernel, { stride }), `${name}.bn1`), b.act ?? ctx.act, `${name}.bn1`);
  return residual(ctx, y, x, name, b, stride);
};

/** Block type → its function. */
export const BLOCKS: { readonly [T in BlockType]: BlockFn<Extract<BlockSpec, { type: T }>> } = {
  ds: depthwiseSeparable,
  ir: invertedResidual,
  er: edgeResidual,
  cn: convBnAct,
};

export function buildBlock(ctx: BlockContext, x: Tensor, name: string, spec: BlockSpec, outChannels: number, stride: number): Tensor {
  return (BLOCKS[spec.type] as BlockFn<BlockSpec>)(ctx, x, name, spec, outChannels, stride);
}

/** The stage table's operator name of a block (the paper's notation). */
export function operatorName(b: BlockSpec): string {
  const k = `k${b.kernel}x${b.kernel}`;
  switch (b.type) {
    case 'ds':
      // MobileNetV1's dsa: depthwise then pointwise conv, each with BN and activation (no shortcut).
      return b.pwAct ? `DepthwiseSeparable, ${k}` : `MBConv1, ${k}`;
    case 'ir':
      return `MBConv${b.expand}, ${k}`;
    case 'er':
      return `Fused-MBConv${b.expand}, ${k}`;
    case 'cn':
      return `Conv${b.kernel}x${b.kernel}`;
  }
}
