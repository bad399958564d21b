/**
 * A model family as data: its networks (Architecture), variants, padding/BN flavours and
 * preprocessing. models.ts turns every family in families/index.ts into model ids.
 */
import type { Architecture } from './efficientnet.js';
import type { Padding } from './layers.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Inception-style normalization to [-1, 1] (TF ports of V2-S/M/L/XL and Lite). */
export const INCEPTION_MEAN = [0.5, 0.5, 0.5] as const;
export const INCEPTION_STD = [0.5, 0.5, 0.5] as const;

export interface Preprocess {
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Resize the shorter side to floor(resolution / cropPct), then center-crop. */
  readonly cropPct: number;
  readonly interpolation: 'bicubic' | 'bilinear';
}

/** One model id of a family: a variant in one flavour (TF "SAME" padding or PyTorch-style). */
export interface FamilyModel {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly arch: Architecture;
  /** Width and depth multipliers applied to `arch`. */
  readonly width: number;
  readonly depth: number;
  /** Default input resolution (the official evaluation size). */
  readonly resolution: number;
  readonly padding: Padding;
  readonly bnEps: number;
  readonly preprocess: Preprocess;
}

export interface Family {
  /** Family name as `effnet list` shows it. */
  readonly id: string;
  readonly title: string;
  /** How the variants relate to each other (printed by `effnet info`). */
  readonly scaling: string;
  readonly models: readonly FamilyModel[];
}

/** The two flavours timm ports: TF "SAME" padding with BN eps 1e-3, or PyTorch-style padding with 1e-5. */
export const TF = { padding: 'same', bnEps: 1e-3 } as const;
export const PT = { padding: 'symmetric', bnEps: 1e-5 } as const;
