/**
 * Compound scaling (Tan & Le, 2019, §3.3): depth d = α^φ, width w = β^φ, resolution r = γ^φ with
 * α·β²·γ² ≈ 2. This file holds the paper's facts as data and the only two rounding functions.
 */
import { OptionError } from '@effnet/graph-builder';
import { roundHalfEven } from '@effnet/preprocess';

export const COMPOUND = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;

export interface Scaling {
  /** Channel multiplier (the paper's w). */
  readonly width: number;
  /** Layer-count multiplier (the paper's d). */
  readonly depth: number;
  /** Input resolution. */
  readonly resolution: number;
  /** Dropout before the classifier (training only; recorded as metadata). */
  readonly dropout: number;
}

/** The published B0–B7 table (timm `efficientnet_b*`, TF `efficientnet_builder.py`). */
export const VARIANTS = {
  b0: { width: 1.0, depth: 1.0, resolution: 224, dropout: 0.2 },
  b1: { width: 1.0, depth: 1.1, resolution: 240, dropout: 0.2 },
  b2: { width: 1.1, depth: 1.2, resolution: 260, dropout: 0.3 },
  b3: { width: 1.2, depth: 1.4, resolution: 300, dropout: 0.3 },
  b4: { width: 1.4, depth: 1.8, resolution: 380, dropout: 0.4 },
  b5: { width: 1.6, depth: 2.2, resolution: 456, dropout: 0.4 },
  b6: { width: 1.8, depth: 2.6, resolution: 528, dropout: 0.5 },
  b7: { width: 2.0, depth: 3.1, resolution: 600, dropout: 0.5 },
} as const satisfies Record<string, Scaling>;

export type Variant = keyof typeof VARIANTS;

/**
 * `v` rounded to a multiple of `divisor` (at least `divisor`); when that lands below
 * `roundLimit · v` one more `divisor` is added (timm `make_divisible`; 0.9 = never more than 10% down,
 * 0 = plain rounding as EfficientNetV2-B*).
 */
export function makeDivisible(v: number, divisor = 8, roundLimit = 0.9): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < roundLimit * v) rounded += divisor;
  return rounded;
}

/** Channels × width, rounded to a multiple of `divisor` (8), by default never more than 10% below the exact value. */
export function roundFilters(channels: number, width: number, divisor = 8, roundLimit = 0.9): number {
  return makeDivisible(channels * width, divisor, roundLimit);
}

/** Repeats × depth, rounded up ('ceil', the default) or to nearest (at least 1). */
export function roundRepeats(repeats: number, depth: number, trunc: 'ceil' | 'round' = 'ceil'): number {
  return trunc === 'ceil' ? Math.ceil(repeats * depth) : Math.max(1, roundHalfEven(repeats * depth));
}

/** How a family rounds scaled channels (timm round_channels: a multiple of `divisor`, never below roundLimit · exact). */
export interface ChannelRule {
  readonly divisor: number;
  readonly roundLimit: number;
}

/** How a family scales repeats: rounding of each stage's total, and whether the first and last stage keep theirs. */
export interface DepthRule {
  readonly trunc: 'ceil' | 'round';
  readonly fixed: 'none' | 'first-last';
}

/**
 * A stage's repeats (one per block string) × depth, as timm's _scale_stage_depth: the stage total is
 * scaled and rounded, then shared out from the last block string to the first in proportion (each at
 * least 1, Python rounding).
 */
export function scaleStageRepeats(repeats: readonly number[], depth: number, trunc: 'ceil' | 'round' = 'ceil'): number[] {
  let total = repeats.reduce((a, b) => a + b, 0);
  let scaled = roundRepeats(total, depth, trunc);
  const out: number[] = [];
  for (let i = repeats.length - 1; i >= 0; i--) {
    const r = repeats[i]!;
    const rs = Math.max(1, roundHalfEven((r / total) * scaled));
    out.unshift(rs);
    total -= r;
    scaled -= rs;
  }
  return out;
}

export interface Coefficients {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

/** Base resolution the compound coefficient scales (B0's). */
export const BASE_RESOLUTION = 224;

/** Resolutions are rounded to a multiple of this (the published table uses multiples of 4/8). */
export const RESOLUTION_MULTIPLE = 8;

/**
 * Compound scaling for any φ: depth α^φ, width β^φ, resolution base·γ^φ (base 224) rounded to a multiple of 8.
 * The published B1–B7 do not follow this exactly (e.g. B7 is 600 px where 224·1.15^7 ≈ 596 and
 * its depth is 3.1 where 1.2^7 ≈ 3.58): the paper fixed them by hand per model.
 */
export function compoundScaling(phi: number, c: Coefficients = COMPOUND, baseResolution = BASE_RESOLUTION): Omit<Scaling, 'dropout'> {
  if (!Number.isFinite(phi) || phi < 0) throw new OptionError('phi', `phi must be a non-negative number, got ${phi}`);
  for (const [k, v] of Object.entries(c)) if (!(v >= 1)) throw new OptionError('coefficients', `${k} must be >= 1, got ${v}`);
  const resolution = Math.max(RESOLUTION_MULTIPLE, Math.round((baseResolution * c.gamma ** phi) / RESOLUTION_MULTIPLE) * RESOLUTION_MULTIPLE);
  return { depth: c.alpha ** phi, width: c.beta ** phi, resolution };
}

/** α·β²·γ²: how much FLOPs grow per unit of φ (the paper constrains it to ≈ 2). */
export function flopsGrowth(c: Coefficients): number {
  return c.alpha * c.beta ** 2 * c.gamma ** 2;
}

/** What --phi/--width/--depth/--resolution ask of a model (ResolvedBuildOptions' fields). */
export interface ScaleRequest {
  readonly phi: number | undefined;
  readonly width: number | undefined;
  readonly depth: number | undefined;
  readonly resolution: number;
  readonly resolutionGiven: boolean;
  readonly coefficients: Coefficients | undefined;
}

export interface ScaledModel {
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  /** ONNX metadata recording the scaling (empty when nothing was asked). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A model scaled as asked: `--width W` / `--depth D` multiply the model's own multipliers; `--phi P`
 * multiplies them by β^φ / α^φ (each overridden by an explicit --width/--depth) and sets the
 * resolution to base·γ^φ unless --resolution was given; the coefficients are the request's, else the
 * family's, else EfficientNet's.
 */
export function scaleModel(base: { readonly width: number; readonly depth: number; readonly resolution: number }, o: ScaleRequest, family?: Coefficients): ScaledModel {
  if (o.phi === undefined && o.width === undefined && o.depth === undefined) return { width: base.width, depth: base.depth, resolution: o.resolution, metadata: {} };
  const k = o.phi !== undefined ? compoundScaling(o.phi, o.coefficients ?? family ?? COMPOUND, base.resolution) : undefined;
  const width = base.width * (o.width ?? k?.width ?? 1);
  const depth = base.depth * (o.depth ?? k?.depth ?? 1);
  const resolution = o.resolutionGiven || !k ? o.resolution : k.resolution;
  const metadata: Record<string, string> = { 'effnet.width': String(width), 'effnet.depth': String(depth), 'effnet.resolution': String(resolution) };
  if (o.phi !== undefined) metadata['effnet.phi'] = String(o.phi);
  return { width, depth, resolution, metadata };
}
