/**
 * EfficientNet-B0's stage table (paper Table 1) as block strings, the way timm writes
 * architectures: `ir_r2_k3_s2_e6_c24_se0.25` = inverted residual (MBConv), 2 repeats, 3×3
 * depthwise kernel, stride 2 on the first repeat, expansion 6, 24 output channels, SE ratio 0.25.
 */

export type BlockType = 'ds' | 'ir';

export interface BlockSpec {
  /** 'ds' = depthwise-separable (MBConv1, no expansion conv), 'ir' = inverted residual (MBConv6). */
  readonly type: BlockType;
  readonly repeats: number;
  readonly kernel: number;
  readonly stride: number;
  readonly expand: number;
  readonly channels: number;
  /** Squeeze-excite channels as a fraction of the block's *input* channels. */
  readonly seRatio: number;
}

/** Stage 2..8 of Table 1 (stage 1 is the stem conv, stage 9 the head). */
export const EFFICIENTNET_B0_STAGES: readonly string[] = [
  'ds_r1_k3_s1_e1_c16_se0.25',
  'ir_r2_k3_s2_e6_c24_se0.25',
  'ir_r2_k5_s2_e6_c40_se0.25',
  'ir_r3_k3_s2_e6_c80_se0.25',
  'ir_r3_k5_s1_e6_c112_se0.25',
  'ir_r4_k5_s2_e6_c192_se0.25',
  'ir_r1_k3_s1_e6_c320_se0.25',
];

/** Stem and head widths of B0, before width scaling. */
export const EFFICIENTNET_B0_STEM = 32;
export const EFFICIENTNET_B0_HEAD = 1280;

export class BlockStringError extends Error {
  override name = 'BlockStringError';
}

const KEYS: Readonly<Record<string, keyof BlockSpec>> = { r: 'repeats', k: 'kernel', s: 'stride', e: 'expand', c: 'channels', se: 'seRatio' };

export function decodeBlock(s: string): BlockSpec {
  const [type, ...tokens] = s.split('_');
  if (type !== 'ds' && type !== 'ir') throw new BlockStringError(`block '${s}': unknown block type '${type}' (expected ds or ir)`);
  const v: Record<string, number> = { repeats: 1, kernel: 3, stride: 1, expand: 1, seRatio: 0 };
  for (const tok of tokens) {
    const m = /^(se|[rksec])(\d+(?:\.\d+)?)$/.exec(tok);
    if (!m) throw new BlockStringError(`block '${s}': cannot read token '${tok}'`);
    const key = KEYS[m[1]!]!;
    const n = Number(m[2]);
    if (key !== 'seRatio' && (!Number.isInteger(n) || n < 1)) throw new BlockStringError(`block '${s}': '${tok}' must be a positive integer`);
    v[key] = n;
  }
  if (v.channels === undefined) throw new BlockStringError(`block '${s}': missing output channels (c<N>)`);
  if (type === 'ds' && v.expand !== 1) throw new BlockStringError(`block '${s}': ds blocks have no expansion`);
  return { type, repeats: v.repeats!, kernel: v.kernel!, stride: v.stride!, expand: v.expand!, channels: v.channels, seRatio: v.seRatio! };
}
