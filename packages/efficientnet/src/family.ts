/**
 * A model family as data: its networks (an Architecture of block strings, or a builder of its own
 * such as ResNet and AmoebaNet), variants, padding/BN flavours and preprocessing. models.ts turns
 * every family in families/index.ts into model ids.
 */
import type { Dim, GraphIR } from '@effnet/graph-builder';
import type { Architecture, FeatureTap, StageRow } from './efficientnet.js';
import type { Padding } from './layers.js';
import type { BuildOptionKey } from './options.js';
import type { Coefficients } from './scaling.js';
import type { WeightSource } from './weights.js';

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

/** What a family's build function gets: every declared option (undefined when not given) and the defaults filled in. */
export interface ResolvedBuildOptions extends Readonly<Record<Exclude<BuildOptionKey, 'resolution' | 'numClasses'>, number | undefined>> {
  readonly resolution: number;
  readonly numClasses: number;
  readonly batch: Dim;
  readonly weights: WeightSource;
  readonly bnEps: number | undefined;
  readonly coefficients: Coefficients | undefined;
  /** True when the user gave --resolution (a custom model then keeps it instead of φ's). */
  readonly resolutionGiven: boolean;
}

/** What building a model gives. */
export interface BuiltGraph {
  readonly ir: GraphIR;
  readonly stages?: readonly StageRow[];
  /** timm feature_info taps (block-string networks). */
  readonly features?: readonly FeatureTap[];
  /** The pooled embedding tensor the classifier reads. */
  readonly embedding?: string;
  /** The padding rule of every conv (families without one, AmoebaNet, cannot be exported with symbolic H/W). */
  readonly padding?: Padding;
  readonly metadata?: Readonly<Record<string, string>>;
  /** When the family derives its own resolution (custom EfficientNet from φ). */
  readonly resolution?: number;
}

interface ModelCommon {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly description: string;
  /** Default input resolution (the official evaluation size). */
  readonly resolution: number;
  readonly preprocess: Preprocess;
  /** How this model scales, when it differs from its family's description. */
  readonly scaling?: string;
}

/**
 * A model whose builder is its family's own code (ResNet, AmoebaNet, the custom EfficientNet).
 * `scalable`: the builder applies --phi/--width/--depth itself (with ResolvedBuildOptions.scale).
 */
export interface OwnModel extends ModelCommon {
  readonly build: (o: ResolvedBuildOptions) => BuiltGraph;
  readonly scalable?: boolean;
}

/** One model id of a block-string family: a variant in one flavour (TF "SAME" padding or PyTorch-style). */
export interface BlockModel extends ModelCommon {
  readonly arch: Architecture;
  /** Width and depth multipliers applied to `arch`. */
  readonly width: number;
  readonly depth: number;
  readonly padding: Padding;
  readonly bnEps: number;
}

export type FamilyModel = BlockModel | OwnModel;

export const isBlockModel = (m: FamilyModel): m is BlockModel => 'arch' in m;

export interface Family {
  /** Family name as `effnet list` shows it. */
  readonly id: string;
  readonly title: string;
  /** How the variants relate to each other (printed by `effnet info`). */
  readonly scaling: string;
  /** The naming of the parameters in the graph (what `--weights` files are mapped onto). */
  readonly naming: 'timm' | 'torchvision' | 'tf-scopes';
  readonly models: readonly FamilyModel[];
}

/** The two flavours timm ports: TF "SAME" padding with BN eps 1e-3, or PyTorch-style padding with 1e-5. */
export const TF = { padding: 'same', bnEps: 1e-3 } as const;
export const PT = { padding: 'symmetric', bnEps: 1e-5 } as const;
