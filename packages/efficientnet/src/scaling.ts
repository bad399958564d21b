/**
 * Compound scaling (Tan & Le, 2019, §3.3): depth d = α^φ, width w = β^φ, resolution r = γ^φ with
 * α·β²·γ² ≈ 2. This file holds the paper's facts as data and the only two rounding functions.
 */

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

/** Channels × width, rounded to a multiple of `divisor` (8), never more than 10% below the exact value. */
export function roundFilters(channels: number, width: number, divisor = 8): number {
  const v = channels * width;
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** Repeats × depth, rounded up. */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(repeats * depth);
}
