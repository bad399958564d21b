/** The model registry: every model id effnet knows, its defaults, and how to build it. */
import type { Dim, GraphIR } from '@effnet/graph-builder';
import { OptionError } from '@effnet/graph-builder';
import { amoebaNet } from './amoebanet.js';
import { efficientNet, type StageRow } from './efficientnet.js';
import { FAMILIES } from './families/index.js';
import { EFFICIENTNET_B0 } from './families/efficientnet.js';
import { IMAGENET_MEAN, IMAGENET_STD, type Family, type FamilyModel, type Preprocess } from './family.js';
import { BUILD_OPTIONS, validateBuildOptions, type BuildOptionKey } from './options.js';
import { RESNET_DEPTHS, resNet } from './resnet.js';
import { compoundScaling, type Coefficients } from './scaling.js';
import { defaultWeights, type WeightSource } from './weights.js';

export { IMAGENET_MEAN, IMAGENET_STD, type Preprocess };

export interface ModelSpec {
  readonly id: string;
  readonly aliases: readonly string[];
  /** 'efficientnet', 'efficientnetv2', 'efficientnet-lite', 'resnet', 'amoebanet'. */
  readonly family: string;
  readonly description: string;
  /** How the family's variants are scaled (families with data in families/). */
  readonly scaling?: string;
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
}

/**
 * Options of buildModel. The numeric architecture options (resolution, numClasses, cells, filters,
 * phi, width, depth) are declared, with their ranges, help and scope, in options.ts BUILD_OPTIONS.
 */
export interface BuildOptions extends Readonly<Partial<Record<BuildOptionKey, number>>> {
  /** A fixed batch size, or 'dynamic' (default) for a symbolic 'N'. */
  readonly batch?: number | 'dynamic';
  readonly weights?: WeightSource;
  /** Override the model's BatchNorm epsilon (torchvision's B5–B7 use 1e-3). */
  readonly bnEps?: number;
  /** Custom EfficientNet: compound coefficients (default the paper's α=1.2, β=1.1, γ=1.15). */
  readonly coefficients?: Coefficients;
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

/** A family model (data in families/) as a model id. */
function familySpec(f: Family, m: FamilyModel): ModelSpec {
  return {
    id: m.id,
    aliases: m.aliases,
    family: f.id,
    description: m.description,
    scaling: f.scaling,
    resolution: m.resolution,
    numClasses: 1000,
    naming: 'timm',
    preprocess: m.preprocess,
    build: (o) => efficientNet({ ...o, ...m.arch, name: m.id, width: m.width, depth: m.depth, padding: m.padding, bnEps: o.bnEps ?? m.bnEps }),
  };
}

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
  scaling: 'compound from B0 at any φ (--phi), or --width/--depth/--resolution directly',
  build: (o) => {
    const s = compoundScaling(o.phi ?? 0, o.coefficients);
    const width = o.width ?? s.width;
    const depth = o.depth ?? s.depth;
    const resolution = o.resolutionGiven ? o.resolution : s.resolution;
    const built = efficientNet({ ...o, ...EFFICIENTNET_B0, name: 'efficientnet', width, depth, resolution, padding: 'symmetric', bnEps: o.bnEps ?? 1e-5 });
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
    build: (o) => {
      const cells = o.cells ?? AMOEBANET_B_DEFAULT.cells;
      const filters = o.filters ?? AMOEBANET_B_DEFAULT.filters;
      const built = amoebaNet({ ...o, name: 'amoebanet-b', cells, filters, bnEps: o.bnEps ?? 1e-3 });
      return { ...built, metadata: { 'effnet.arch': `AmoebaNet-B(${cells}, ${filters})` } };
    },
  },
];

const [v1, ...others] = FAMILIES.map((f) => f.models.map((m) => familySpec(f, m)));

export const MODELS: readonly ModelSpec[] = [...v1!, customEfficientNet, ...others.flat(), ...resNets, ...amoebaNets];

export function findModel(id: string): ModelSpec {
  const key = id.toLowerCase();
  const m = MODELS.find((s) => s.id === key || s.aliases.includes(key));
  if (!m) throw new UnknownModelError(`unknown model '${id}'. Known models: ${MODELS.map((s) => s.id).join(', ')} (run 'effnet list')`);
  return m;
}

/**
 * Builds model `id` as a graph with its weights (lazy data sources).
 *
 * Without `o.weights` the weights are effnet's deterministic untrained formula and every
 * BatchNorm is the identity (gamma 1, beta 0, mean 0, var 1): activations grow layer after layer
 * and the logits come out the same for every input — fine for measuring speed, shapes and
 * parameter counts, meaningless as predictions. For a model whose outputs depend on the input
 * (what `effnet export`/`classify` use by default), calibrate the BatchNorm statistics:
 * `prepareModel(id, { statistics: onnxruntimeStatistics })` from @effnet/pipeline. For real
 * predictions, give trained weights (`buildModelWithWeights`, or `prepareModel(id, { weightsPath })`).
 */
export function buildModel(id: string, o: BuildOptions = {}): BuiltModel {
  const spec = findModel(id);
  validateBuildOptions(spec, o);
  if (o.batch !== undefined && o.batch !== 'dynamic' && !(Number.isInteger(o.batch) && o.batch >= 1)) throw new OptionError('batch', `batch must be a positive integer, got ${o.batch}`);
  const resolution = o.resolution ?? spec.resolution;
  const numClasses = o.numClasses ?? spec.numClasses;
  const declared = Object.fromEntries(BUILD_OPTIONS.map((d) => [d.key, o[d.key]])) as Record<BuildOptionKey, number | undefined>;
  const built = spec.build({
    ...declared,
    resolution,
    numClasses,
    batch: o.batch === undefined || o.batch === 'dynamic' ? 'N' : o.batch,
    weights: o.weights ?? defaultWeights,
    bnEps: o.bnEps,
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
