/** The model registry: every model id effnet knows (the families of families/index.ts), its defaults, and how to build it. */
import { OptionError, ShapeError, type GraphIR } from '@effnet/graph-builder';
import { efficientNet, type FeatureTap, type StageRow } from './efficientnet.js';
import type { Padding } from './layers.js';
import { FAMILIES } from './families/index.js';
import { IMAGENET_MEAN, IMAGENET_STD, isBlockModel, type BuiltGraph, type Family, type FamilyModel, type Preprocess, type ResolvedBuildOptions } from './family.js';
import { BUILD_OPTIONS, MAX_RESOLUTION, validateBuildOptions, type BuildOptionKey } from './options.js';
import { scaleModel, type Coefficients } from './scaling.js';
import { defaultWeights, type WeightSource } from './weights.js';

export { IMAGENET_MEAN, IMAGENET_STD, type Preprocess, type ResolvedBuildOptions };

export interface ModelSpec {
  readonly id: string;
  readonly aliases: readonly string[];
  /** The family id: 'efficientnet', 'efficientnetv2', 'efficientnet-lite', 'resnet', 'amoebanet', ... */
  readonly family: string;
  readonly description: string;
  /** How the family's variants are scaled. */
  readonly scaling?: string;
  readonly resolution: number;
  readonly numClasses: number;
  readonly preprocess: Preprocess;
  /** The naming of the parameters in the graph (what `--weights` files are mapped onto). */
  readonly naming: 'timm' | 'torchvision' | 'tf-scopes';
  /** Whether the family declares how it scales (then --phi/--width/--depth apply). */
  readonly scalable: boolean;
  readonly build: (o: ResolvedBuildOptions) => BuiltGraph;
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
  /** Compound coefficients for --phi (default the family's, else the paper's α=1.2, β=1.1, γ=1.15). */
  readonly coefficients?: Coefficients;
}

export interface BuiltModel {
  readonly spec: ModelSpec;
  readonly ir: GraphIR;
  readonly resolution: number;
  readonly numClasses: number;
  readonly stages?: readonly StageRow[];
  /** timm feature_info taps, one per stride-2 reduction (block-string families). */
  readonly features?: readonly FeatureTap[];
  /** The pooled embedding tensor the classifier reads (block-string families). */
  readonly embedding?: string;
  /** The padding rule of every conv: 'same' (TF, size-dependent) or 'symmetric'; absent for AmoebaNet's own cells. */
  readonly padding?: Padding;
  /** ONNX metadata_props describing the model and its preprocessing. */
  readonly metadata: Readonly<Record<string, string>>;
}

export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/** How a family model builds: a block-string Architecture through efficientNet(), or the family's own builder. */
function buildOf(m: FamilyModel): ModelSpec['build'] {
  if (!isBlockModel(m)) return m.build;
  return (o) => {
    const s = scaleModel(m, o, m.arch.scaling.compound);
    const built = efficientNet({ ...o, ...m.arch, name: m.id, width: s.width, depth: s.depth, resolution: s.resolution, padding: m.padding, bnEps: o.bnEps ?? m.bnEps });
    return Object.keys(s.metadata).length > 0 ? { ...built, resolution: s.resolution, metadata: s.metadata } : built;
  };
}

/** A family model as a model id. */
function familySpec(f: Family, m: FamilyModel): ModelSpec {
  return {
    id: m.id,
    aliases: m.aliases,
    family: f.id,
    description: m.description,
    scaling: m.scaling ?? f.scaling,
    resolution: m.resolution,
    numClasses: 1000,
    naming: f.naming,
    preprocess: m.preprocess,
    scalable: isBlockModel(m) || m.scalable === true,
    build: buildOf(m),
  };
}

export const MODELS: readonly ModelSpec[] = FAMILIES.flatMap((f) => f.models.map((m) => familySpec(f, m)));

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
  const build = (r: number) =>
    spec.build({
      ...declared,
      resolution: r,
      numClasses,
      batch: o.batch === undefined || o.batch === 'dynamic' ? 'N' : o.batch,
      weights: o.weights ?? defaultWeights,
      bnEps: o.bnEps,
      coefficients: o.coefficients,
      resolutionGiven: o.resolution !== undefined,
    });
  let built: ReturnType<typeof build>;
  try {
    built = build(resolution);
  } catch (e) {
    // An input too small for a model's unpadded convs (AmoebaNet's stem at 1–2 px): a usage error
    // naming --resolution and the smallest size that builds, found by building the next sizes.
    if (!(e instanceof ShapeError) || o.resolution === undefined) throw e;
    let smallest: number | undefined;
    for (let r = resolution + 1; r <= Math.min(resolution + 64, MAX_RESOLUTION) && smallest === undefined; r++) {
      try {
        build(r);
        smallest = r;
      } catch (e2) {
        if (!(e2 instanceof ShapeError)) throw e2;
      }
    }
    throw new OptionError(
      'resolution',
      `--resolution ${resolution}: ${spec.id} cannot run at ${resolution}x${resolution} (${e.message})${smallest !== undefined ? `; the smallest size it builds at is ${smallest}` : ''}`,
    );
  }
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
  return {
    spec,
    ir: built.ir,
    resolution: built.resolution ?? resolution,
    numClasses,
    metadata,
    ...(built.stages ? { stages: built.stages } : {}),
    ...(built.features ? { features: built.features } : {}),
    ...(built.embedding ? { embedding: built.embedding } : {}),
    ...(built.padding ? { padding: built.padding } : {}),
  };
}
