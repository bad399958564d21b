/**
 * Block strings, the way timm writes architectures, decoded once into typed block specs.
 *
 * `ir_r2_k3_s2_e6_c24_se0.25` = inverted residual (MBConv), 2 repeats, 3×3 depthwise kernel,
 * stride 2 on the first repeat, expansion 6, 24 output channels, squeeze-excite ratio 0.25.
 *
 * Block types: `ds` depthwise-separable (MBConv1), `dsa` depthwise-separable with an activation after
 * the pointwise conv and no shortcut (MobileNetV1), `ir` inverted residual (MBConv), `er` edge
 * residual (Fused-MBConv: one k×k expansion conv instead of 1×1 expand + depthwise), `cn` conv-BN-act.
 *
 * Tokens (the table TOKENS below is the whole grammar):
 * - numbers: `r` repeats, `k` kernel, `s` stride, `e` expansion, `c` output channels, `se` SE ratio,
 *   `a` / `p` kernel of the expansion / projection conv of `ir` (default 1);
 * - `skip` / `noskip`: force the identity shortcut on (cn: off by default) or off (ds/ir/er: on
 *   whenever stride is 1 and channels match);
 * - `n<act>`: the block's activation instead of the model's (`nre` ReLU, `nr6` ReLU6, `nhs`
 *   hard-swish, `nsw` SiLU/swish, as timm);
 * - SE options (effnet's, beyond timm's; without them the family's SE defaults apply, see
 *   `SeDefaults`): `sx` = SE width from the expanded channels (timm's `se_from_exp`), `sa<act>` the
 *   SE reduce activation, `sg<gate>` the gate (`sgsig` sigmoid; `sghsig` hard-sigmoid as MobileNetV3).
 */

/** Activations a block string can name; the builder maps each to graph ops. */
export type Activation = 'relu' | 'relu6' | 'silu' | 'hardSwish';
/** What squeeze-excite multiplies by. */
export type Gate = 'sigmoid' | 'hardSigmoid';

/**
 * A family's squeeze-excite defaults (timm's `se_layer` / `se_from_exp`); block tokens (`sx`, `sa<act>`,
 * `sg<gate>`) override them per block.
 * - from: 'in' = reduced width from the block input (timm EfficientNet: ratio / expansion of the expanded width),
 *   'mid' = from the expanded width (MobileNetV3);
 * - round: 'round' = Python round (timm's default), 'divisible' = make_divisible(·, 8) (MobileNetV3's round_channels);
 * - act: the reduce activation (undefined = the block's; MobileNetV3 forces ReLU);
 * - gate: sigmoid, or hard-sigmoid (MobileNetV3).
 */
export interface SeDefaults {
  readonly from: 'in' | 'mid';
  readonly round: 'round' | 'divisible';
  readonly gate: Gate;
  readonly act?: Activation;
}

/** timm's SqueezeExcite defaults (EfficientNet, MnasNet). */
export const SE_TIMM: SeDefaults = { from: 'in', round: 'round', gate: 'sigmoid' };

export type BlockType = 'ds' | 'ir' | 'er' | 'cn';

/** What a block string may start with: the block types, and `dsa` (decoded as `ds` with pwAct, no skip). */
const PREFIXES = ['ds', 'dsa', 'ir', 'er', 'cn'] as const;

export interface SeSpec {
  readonly ratio: number;
  /** 'in': width from the block's input channels (EfficientNet); 'mid': its expanded channels (MobileNetV3); undefined = the family's. */
  readonly base?: 'in' | 'mid';
  /** Activation after the reduce conv; undefined = the family's (else the block's). */
  readonly act?: Activation;
  /** Undefined = the family's. */
  readonly gate?: Gate;
}

interface BlockCommon {
  readonly repeats: number;
  readonly kernel: number;
  /** Stride of the first repeat (the others have stride 1). */
  readonly stride: number;
  readonly channels: number;
  /** Undefined: the model's activation. */
  readonly act?: Activation;
  /** Undefined: the block type's default rule (see `hasSkip` in blocks.ts). */
  readonly skip?: boolean;
}

/** Depthwise-separable: k×k depthwise → BN → act → SE → 1×1 project → BN (→ act when pwAct, `dsa`). */
export interface DsSpec extends BlockCommon {
  readonly type: 'ds';
  readonly se?: SeSpec;
  readonly pwKernel: number;
  readonly pwAct: boolean;
}

/** Inverted residual (MBConv): 1×1 expand → BN → act → k×k depthwise → BN → act → SE → 1×1 project → BN. */
export interface IrSpec extends BlockCommon {
  readonly type: 'ir';
  readonly expand: number;
  readonly se?: SeSpec;
  readonly expKernel: number;
  readonly pwKernel: number;
}

/** Edge residual (Fused-MBConv): k×k expand → BN → act → SE → 1×1 project → BN. */
export interface ErSpec extends BlockCommon {
  readonly type: 'er';
  readonly expand: number;
  readonly se?: SeSpec;
  readonly pwKernel: number;
}

/** Conv → BN → act. */
export interface CnSpec extends BlockCommon {
  readonly type: 'cn';
}

export type BlockSpec = DsSpec | IrSpec | ErSpec | CnSpec;

export class BlockStringError extends Error {
  override name = 'BlockStringError';
}

/** The activation codes of `n<act>` / `sa<act>` tokens (timm's names). */
const ACTIVATIONS: Readonly<Record<string, Activation>> = { re: 'relu', r6: 'relu6', hs: 'hardSwish', sw: 'silu' };
const GATES: Readonly<Record<string, Gate>> = { sig: 'sigmoid', hsig: 'hardSigmoid' };

type Field = 'repeats' | 'kernel' | 'stride' | 'expand' | 'channels' | 'seRatio' | 'expKernel' | 'pwKernel';

interface NumberToken {
  readonly field: Field;
  readonly integer: boolean;
  readonly types: readonly BlockType[];
}

/** Numeric tokens: prefix → field, whether it is a positive integer, which block types take it. */
const TOKENS: Readonly<Record<string, NumberToken>> = {
  r: { field: 'repeats', integer: true, types: ['ds', 'ir', 'er', 'cn'] },
  k: { field: 'kernel', integer: true, types: ['ds', 'ir', 'er', 'cn'] },
  s: { field: 'stride', integer: true, types: ['ds', 'ir', 'er', 'cn'] },
  c: { field: 'channels', integer: true, types: ['ds', 'ir', 'er', 'cn'] },
  // ds and cn take `e1` (timm writes `ds_..._e1_...`, `cn_..._e1_...`) and nothing else.
  e: { field: 'expand', integer: false, types: ['ds', 'ir', 'er', 'cn'] },
  se: { field: 'seRatio', integer: false, types: ['ds', 'ir', 'er'] },
  a: { field: 'expKernel', integer: true, types: ['ir'] },
  p: { field: 'pwKernel', integer: true, types: ['ds', 'ir', 'er'] },
};

/** Options tokens that are words, and which block types take them. */
const SE_TYPES: readonly BlockType[] = ['ds', 'ir', 'er'];

export function decodeBlock(s: string): BlockSpec {
  const [prefix, ...tokens] = s.split('_');
  const fail = (msg: string): never => {
    throw new BlockStringError(`block '${s}': ${msg}`);
  };
  if (!PREFIXES.includes(prefix as (typeof PREFIXES)[number])) fail(`unknown block type '${prefix}' (expected ${PREFIXES.join(', ')})`);
  const pwAct = prefix === 'dsa';
  const t: BlockType = pwAct ? 'ds' : (prefix as BlockType);
  const v: Partial<Record<Field, number>> = {};
  let skip: boolean | undefined;
  let act: Activation | undefined;
  let seBase: 'in' | 'mid' | undefined;
  let seAct: Activation | undefined;
  let gate: Gate | undefined;
  const seOnly = (tok: string) => {
    if (!SE_TYPES.includes(t)) fail(`'${tok}' does not apply to ${t} blocks`);
  };
  for (const tok of tokens) {
    if (tok === 'skip' || tok === 'noskip') {
      skip = tok === 'skip';
      continue;
    }
    const word = /^(n|sa|sg)([a-z][a-z0-9]*)$/.exec(tok);
    if (tok === 'sx') {
      seOnly(tok);
      seBase = 'mid';
      continue;
    }
    if (word) {
      const [, key, code] = word as unknown as [string, string, string];
      if (key === 'sg') {
        seOnly(tok);
        gate = Object.hasOwn(GATES, code) ? GATES[code]! : fail(`unknown gate '${code}' in '${tok}' (known: ${Object.keys(GATES).join(', ')})`);
      } else {
        if (key === 'sa') seOnly(tok);
        const a = Object.hasOwn(ACTIVATIONS, code) ? ACTIVATIONS[code]! : fail(`unknown activation '${code}' in '${tok}' (known: ${Object.keys(ACTIVATIONS).join(', ')})`);
        if (key === 'n') act = a;
        else seAct = a;
      }
      continue;
    }
    const m = /^([a-z]+)(\d+(?:\.\d+)?)$/.exec(tok);
    if (!m || !Object.hasOwn(TOKENS, m[1]!)) fail(`cannot read token '${tok}'`);
    const def = TOKENS[m![1]!]!;
    if (!def.types.includes(t)) fail(`'${tok}' does not apply to ${t} blocks`);
    const n = Number(m![2]);
    if (def.integer && (!Number.isInteger(n) || n < 1)) fail(`'${tok}' must be a positive integer`);
    if (!def.integer && !(n > 0) && def.field !== 'seRatio') fail(`'${tok}' must be a positive number`);
    v[def.field] = n;
  }
  if (v.channels === undefined) fail('missing output channels (c<N>)');
  if ((t === 'ds' || t === 'cn') && v.expand !== undefined && v.expand !== 1) fail(`${t} blocks have no expansion (got 'e${v.expand}')`);
  if (pwAct && skip === true) fail("dsa blocks have no shortcut ('skip' does not apply)");
  if (pwAct) skip = false;
  const common = { repeats: v.repeats ?? 1, kernel: v.kernel ?? 3, stride: v.stride ?? 1, channels: v.channels!, ...(act ? { act } : {}), ...(skip !== undefined ? { skip } : {}) };
  const seRatio = v.seRatio ?? 0;
  if (seRatio > 1) fail(`'se${seRatio}' must be at most 1`);
  const hasSeOptions = seBase !== undefined || seAct !== undefined || gate !== undefined;
  if (hasSeOptions && seRatio === 0) fail('SE options (sx, sa<act>, sg<gate>) need an SE ratio (se<R>)');
  const se: SeSpec | undefined = seRatio > 0 ? { ratio: seRatio, ...(seBase ? { base: seBase } : {}), ...(seAct ? { act: seAct } : {}), ...(gate ? { gate } : {}) } : undefined;
  const withSe = se ? { se } : {};
  switch (t) {
    case 'ds':
      return { type: t, ...common, ...withSe, pwKernel: v.pwKernel ?? 1, pwAct };
    case 'ir':
      return { type: t, ...common, expand: v.expand ?? 1, ...withSe, expKernel: v.expKernel ?? 1, pwKernel: v.pwKernel ?? 1 };
    case 'er':
      return { type: t, ...common, expand: v.expand ?? 1, ...withSe, pwKernel: v.pwKernel ?? 1 };
    case 'cn':
      return { type: t, ...common };
  }
}
