/** The model registry: every model id effnet knows, its defaults, and how to build it. */
import type { Dim, GraphIR } from '@effnet/graph-builder';
import { amoebaNet } from './amoebanet.js';
import { efficientNet, type StageRow } from './efficientnet.js';
import { RESNET_DEPTHS, resNet } from './resnet.js';
import { compoundScaling, VARIANTS, type Coefficients, type Variant } from './scaling.js';
import { defaultWeights, type WeightSource } from './weights.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface Preprocess {
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Resize the shorter side to floor(resolution / cropPct), then center-crop. */
  readonly cropPct: number;
  readonly interpolation: 'bicubic' | 'bilinear';
}

export interface ModelSpec {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly family: 'efficientnet' | 'resnet' | 'amoebanet';
  readonly description: string;
  readonly resolution: number;
  readonly numClasses: number;
  readonly preprocess: Preprocess;
  /** The naming of the parameters in the graph (what `--weights` files are mapped onto). */
  readonly naming: 'timm' | 'torchvision' | 'tf-scopes';
  readonly build: (o: ResolvedBuildOptions) => {
    ir: GraphIR;
    stages?: readonly StageRow[];
    metadata?: Readonly<Record<string, string>>;
    /** When the family derives its own resolution (custom EfficientNet from φ). */
    resolution?: number;
  };
  /** Build options only this family takes (e.g. AmoebaNet's cells/filters). */
  readonly extraOptions?: readonly ExtraOption[];
}

export type ExtraOption = 'cells' | 'filters' | 'phi' | 'width' | 'depth';

export interface BuildOptions {
  readonly resolution?: number;
  readonly numClasses?: number;
  /** A fixed batch size, or 'dynamic' (default) for a symbolic 'N'. */
  readonly batch?: number | 'dynamic';
  readonly weights?: WeightSource;
  /** Override the model's BatchNorm epsilon (torchvision's B5–B7 use 1e-3). */
  readonly bnEps?: number;
  /** AmoebaNet: normal cells in total (N; default 18). */
  readonly cells?: number;
  /** AmoebaNet: filters of the first cell stack (F; default 512). */
  readonly filters?: number;
  /** Custom EfficientNet: compound coefficient φ (width β^φ, depth α^φ, resolution 224·γ^φ). */
  readonly phi?: number;
  /** Custom EfficientNet: width multiplier (overrides φ's). */
  readonly width?: number;
  /** Custom EfficientNet: depth multiplier (overrides φ's). */
  readonly depth?: number;
  /** Custom EfficientNet: compound coefficients (default the paper's α=1.2, β=1.1, γ=1.15). */
  readonly coefficients?: Coefficients;
}

export interface ResolvedBuildOptions {
  readonly resolution: number;
  readonly numClasses: number;
  readonly batch: Dim;
  readonly weights: WeightSource;
  readonly bnEps: number | undefined;
  readonly cells: number | undefined;
  readonly filters: number | undefined;
  readonly phi: number | undefined;
  readonly width: number | undefined;
  readonly depth: number | undefined;
  readonly coefficients: Coefficients | undefined;
  /** True when the user gave --resolution (a custom model then keeps it instead of φ's). */
  readonly resolutionGiven: boolean;
}

export interface BuiltModel {
  readonly spec: ModelSpec;
  readonly ir: GraphIR;
  readonly resolution: number;
  readonly numClasses: number;
  readonly stages?: readonly StageRow[];
  /** ONNX metadata_props describing the model and its preprocessing. */
  readonly metadata: Readonly<Record<string, string>>;
}

export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/** timm's crop_pct for the TF-ported weights (tf_efficientnet_b*), which were evaluated that way. */
const TF_CROP_PCT: Readonly<Record<Variant, number>> = { b0: 0.875, b1: 0.882, b2: 0.89, b3: 0.904, b4: 0.922, b5: 0.934, b6: 0.942, b7: 0.949 };

const variants = Object.keys(VARIANTS) as Variant[];

const efficientNets: ModelSpec[] = variants.flatMap((v) => {
  const s = VARIANTS[v];
  const common = { family: 'efficientnet' as const, resolution: s.resolution, numClasses: 1000, naming: 'timm' as const };
  const pt: ModelSpec = {
    ...common,
    id: `efficientnet-${v}`,
    aliases: [v, `efficientnet_${v}`],
    description: `EfficientNet-${v.toUpperCase()} (w=${s.width}, d=${s.depth}), PyTorch-style padding, BN eps 1e-5 (timm efficientnet_${v}, torchvision)`,
    preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' },
    build: (o) => efficientNet({ ...o, name: `efficientnet-${v}`, width: s.width, depth: s.depth, padding: 'symmetric', bnEps: o.bnEps ?? 1e-5 }),
  };
  const tf: ModelSpec = {
    ...common,
    id: `tf-efficientnet-${v}`,
    aliases: [`tf_efficientnet_${v}`],
    description: `EfficientNet-${v.toUpperCase()}, TensorFlow "SAME" padding, BN eps 1e-3 (the paper's models; timm tf_efficientnet_${v})`,
    preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: TF_CROP_PCT[v], interpolation: 'bicubic' },
    build: (o) => efficientNet({ ...o, name: `tf-efficientnet-${v}`, width: s.width, depth: s.depth, padding: 'same', bnEps: o.bnEps ?? 1e-3 }),
  };
  return [pt, tf];
});

const resNets: ModelSpec[] = (['resnet50', 'resnet101', 'resnet152'] as const).map((id) => ({
  id,
  aliases: [],
  family: 'resnet',
  description: `ResNet-${id.slice(6)} (torchvision layout, v1.5 strides)`,
  resolution: 224,
  numClasses: 1000,
  naming: 'torchvision',
  preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bilinear' },
  build: (o) => resNet({ name: id, layers: RESNET_DEPTHS[id], ...o }),
}));

/**
 * Any point of the family: `--phi` applies compound scaling to B0; `--width/--depth/--resolution`
 * set the multipliers directly (each overrides what φ gives). Same rounding rules as B0–B7.
 */
const customEfficientNet: ModelSpec = {
  id: 'efficientnet',
  aliases: ['efficientnet-custom'],
  family: 'efficientnet',
  description: 'EfficientNet at any compound coefficient: --phi P, or --width W --depth D --resolution R (PyTorch-style padding)',
  resolution: 224,
  numClasses: 1000,
  naming: 'timm',
  preprocess: { mean: IMAGENET_MEAN, std: IMAGENET_STD, cropPct: 0.875, interpolation: 'bicubic' },
  extraOptions: ['phi', 'width', 'depth'],
  build: (o) => {
    const s = compoundScaling(o.phi ?? 0, o.coefficients);
    const width = o.width ?? s.width;
    const depth = o.depth ?? s.depth;
    const resolution = o.resolutionGiven ? o.resolution : s.resolution;
    const built = efficientNet({ ...o, name: 'efficientnet', width, depth, resolution, padding: 'symmetric', bnEps: o.bnEps ?? 1e-5 });
    const meta: Record<string, string> = { 'effnet.width': String(width), 'effnet.depth': String(depth), 'effnet.resolution': String(resolution) };
    if (o.phi !== undefined) meta['effnet.phi'] = String(o.phi);
    return { ...built, resolution, metadata: meta };
  },
};

/** GPipe's AmoebaNet-B(18, 512); `cells`/`filters` give the rest of the family. */
const AMOEBANET_B_DEFAULT = { cells: 18, filters: 512 } as const;

const amoebaNets: ModelSpec[] = [
  {
    id: 'amoebanet-b',
    aliases: ['amoebanet_b', 'gpipe'],
    family: 'amoebanet',
    description: `AmoebaNet-B(N, F), default (${AMOEBANET_B_DEFAULT.cells}, ${AMOEBANET_B_DEFAULT.filters}) as trained by GPipe; --cells N --filters F (tensorflow/tpu amoeba_net rules, TF "SAME" padding, BN eps 1e-3, no aux head)`,
    resolution: 480,
    numClasses: 1000,
    naming: 'tf-scopes',
    // inception_preprocessing: central crop 0.875, bilinear resize, scaled to [-1, 1].
    preprocess: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], cropPct: 0.875, interpolation: 'bilinear' },
    extraOptions: ['cells', 'filters'],
    build: (o) => {
      const cells = o.cells ?? AMOEBANET_B_DEFAULT.cells;
      const filters = o.filters ?? AMOEBANET_B_DEFAULT.filters;
      const built = amoebaNet({ ...o, name: 'amoebanet-b', cells, filters, bnEps: o.bnEps ?? 1e-3 });
      return { ...built, metadata: { 'effnet.arch': `AmoebaNet-B(${cells}, ${filters})` } };
    },
  },
];

export const MODELS: readonly ModelSpec[] = [...efficientNets, customEfficientNet, ...resNets, ...amoebaNets];

export function findModel(id: string): ModelSpec {
  const key = id.toLowerCase();
  const m = MODELS.find((s) => s.id === key || s.aliases.includes(key));
  if (!m) throw new UnknownModelError(`unknown model '${id}'. Known models: ${MODELS.map((s) => s.id).join(', ')} (run 'effnet list')`);
  return m;
}

function positiveInt(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`${what} must be a positive integer, got ${v}`);
}

export function buildModel(id: string, o: BuildOptions = {}): BuiltModel {
  const spec = findModel(id);
  positiveInt(o.resolution, 'resolution');
  positiveInt(o.numClasses, 'num-classes');
  if (o.batch !== 'dynamic') positiveInt(o.batch, 'batch');
  positiveInt(o.cells, 'cells');
  positiveInt(o.filters, 'filters');
  for (const k of ['phi', 'width', 'depth'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isFinite(v) && (k === 'phi' ? v >= 0 : v > 0))) throw new RangeError(`${k} must be a ${k === 'phi' ? 'non-negative' : 'positive'} number, got ${v}`);
  }
  for (const k of ['cells', 'filters', 'phi', 'width', 'depth'] as const)
    if (o[k] !== undefined && !spec.extraOptions?.includes(k)) {
      const owner = k === 'cells' || k === 'filters' ? 'AmoebaNet models' : "the custom 'efficientnet' model";
      throw new RangeError(`--${k} applies to ${owner} only, not '${spec.id}'`);
    }
  const resolution = o.resolution ?? spec.resolution;
  const numClasses = o.numClasses ?? spec.numClasses;
  const built = spec.build({
    resolution,
    numClasses,
    batch: o.batch === undefined || o.batch === 'dynamic' ? 'N' : o.batch,
    weights: o.weights ?? defaultWeights,
    bnEps: o.bnEps,
    cells: o.cells,
    filters: o.filters,
    phi: o.phi,
    width: o.width,
    depth: o.depth,
    coefficients: o.coefficients,
    resolutionGiven: o.resolution !== undefined,
  });
  const p = spec.preprocess;
  const metadata = {
    'effnet.model': spec.id,
    'effnet.resolution': String(resolution),
    'effnet.num_classes': String(numClasses),
    'effnet.mean': p.mean.join(','),
    'effnet.std': p.std.join(','),
    'effnet.crop_pct': String(p.cropPct),
    'effnet.interpolation': p.interpolation,
    'effnet.input_layout': 'NCHW, RGB, float32 in [0,1] then normalized',
    ...(built.metadata ?? {}),
  };
  return { spec, ir: built.ir, resolution: built.resolution ?? resolution, numClasses, metadata, ...(built.stages ? { stages: built.stages } : {}) };
}
