/**
 * Trained weights into a model: opens a weights file (safetensors, a torch.save checkpoint, or
 * `hf:ORG/NAME` from the local Hugging Face cache), detects its naming, builds the model
 * with a WeightSource that serves every parameter from the file (shape-checked, read lazily at
 * export time), and fails with ONE error listing every missing, mis-shaped, unreadable or
 * unexpected tensor. `num_batches_tracked` is ignored. The classifier's shape gives the number of
 * classes unless the caller fixes it (then the two must agree).
 */
import { formatShape, OptionError, type DataSource } from '@effnet/graph-builder';
import { buildModel, findModel, type BuildOptions, type BuiltModel, type ModelSpec } from '../models.js';
import type { WeightSource } from '../weights.js';
import { detectLayout, isIgnoredKey, LAYOUT_LABELS, mapKeys, wrapperPrefix, type KeyMapping, type WeightLayout } from './naming.js';
import { HubCacheError, isHubRef, resolveHubWeights, timmArchitecture, type HubWeights } from './hf.js';
import { openTensorFile, type TensorFile } from './tensor-file.js';

/** The weights do not fit the model (runtime error, exit 1). */
export class WeightsError extends Error {
  override name = 'WeightsError';
}

export interface ImportedWeights {
  readonly path: string;
  readonly layout: WeightLayout;
  /** Tensors taken from the file. */
  readonly tensors: number;
  /** Classifier outputs found in the file, if it has a classifier. */
  readonly numClasses: number | undefined;
  readonly format: TensorFile['format'];
  /** Set for `hf:` references: the cache entry the weights came from. */
  readonly hub?: HubWeights;
}

export type WeightsBuildOptions = Omit<BuildOptions, 'weights'>;

/** How many entries of a problem list an error message shows. */
const SHOWN = 10;

function list(items: readonly string[]): string {
  const head = items.slice(0, SHOWN).join(', ');
  return items.length > SHOWN ? `${head}, … and ${items.length - SHOWN} more` : head;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Which namings each model naming accepts. */
function accepted(spec: ModelSpec): readonly WeightLayout[] {
  if (spec.naming === 'timm') return ['timm-efficientnet', 'torchvision-efficientnet'];
  if (spec.naming === 'torchvision') return ['resnet'];
  return [];
}

function classifierName(spec: ModelSpec): string {
  return spec.naming === 'torchvision' ? 'fc.weight' : 'classifier.weight';
}

/** Opens `path` and works out the naming and what it implies for the build; nothing is built yet. */
export function inspectWeights(
  ref: string,
  modelId: string,
): { file: TensorFile; spec: ModelSpec; mapping: KeyMapping; numClasses: number | undefined; bnEps: number | undefined; hub: HubWeights | undefined } {
  const spec = findModel(modelId);
  const hub = isHubRef(ref) ? resolveHubWeights(ref) : undefined;
  if (hub?.config) {
    const arch = hub.config.architecture;
    if (arch !== timmArchitecture(spec.id) && !spec.aliases.includes(arch))
      throw new HubCacheError(`${ref}: config.json says architecture '${arch}', which is not ${spec.id} (timm '${timmArchitecture(spec.id)}'); pick the model id that matches the checkpoint`);
  }
  const path = hub ? hub.weightsPath : ref;
  const file = openTensorFile(path);
  const keys = file.names.filter((k) => !isIgnoredKey(k));
  if (keys.length === 0) throw new WeightsError(`${path}: contains no tensors`);
  const okLayouts = accepted(spec);
  if (okLayouts.length === 0) throw new WeightsError(`${path}: --weights is not supported for ${spec.id} (no checkpoint naming is known for this model)`);
  const prefix = wrapperPrefix(keys);
  const layout = detectLayout(keys.map((k) => k.slice(prefix.length)));
  if (!layout)
    throw new WeightsError(
      `${path}: cannot tell which naming these weights use (${keys.length} tensors, e.g. ${list(keys.slice(0, 3))}); expected timm EfficientNet (conv_stem.weight, blocks.0.0.conv_dw.weight), ` +
        `torchvision EfficientNet (features.0.0.weight) or ResNet (layer1.0.conv1.weight) keys`,
    );
  if (!okLayouts.includes(layout)) throw new WeightsError(`${path}: has ${LAYOUT_LABELS[layout]}, which does not fit ${spec.id} (expects ${okLayouts.map((l) => LAYOUT_LABELS[l]).join(' or ')})`);
  const mapping = mapKeys(layout, file.names);
  const clsKey = mapping.toFile.get(classifierName(spec));
  const cls = clsKey === undefined ? undefined : file.info(clsKey);
  const numClasses = cls && cls.shape.length === 2 && cls.shape[0]! >= 1 ? cls.shape[0] : undefined;
  // torchvision builds its B5–B7 with BatchNorm eps 1e-3 (timm: 1e-5 for all of efficientnet_bN).
  const bnEps = layout === 'torchvision-efficientnet' && /^efficientnet-b[5-7]$/.test(spec.id) ? 1e-3 : undefined;
  return { file, spec, mapping, numClasses, bnEps, hub };
}

/**
 * Builds model `id` with the weights in `path`. `o.numClasses` defaults to the file's classifier;
 * when given it must match. Throws WeightsError naming every tensor that does not fit.
 */
/** Refuses NaN and ±Inf: a model built from them answers NaN for every image. */
function finite(data: Float32Array, path: string, key: string): Float32Array {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]!)) throw new WeightsError(`${path}: tensor '${key}' holds a non-finite value (${data[i]}) at element ${i}; weights must be finite numbers`);
  return data;
}

export function buildModelWithWeights(id: string, ref: string, o: WeightsBuildOptions = {}): BuiltModel & { readonly imported: ImportedWeights } {
  const { file, spec, mapping, numClasses, bnEps, hub } = inspectWeights(ref, id);
  const path = file.label;
  const hubCfg = hub?.config;
  if (hubCfg?.numClasses !== undefined && numClasses !== undefined && hubCfg.numClasses !== numClasses)
    throw new HubCacheError(`${ref}: config.json says num_classes ${hubCfg.numClasses} but the checkpoint's classifier has ${numClasses} outputs`);
  // The checkpoint's own evaluation size, unless the caller fixes one.
  const hubResolution = o.resolution === undefined && hubCfg?.inputSize ? hubCfg.inputSize[0] : undefined;
  if (hubCfg?.inputSize && hubCfg.inputSize[0] !== hubCfg.inputSize[1] && o.resolution === undefined)
    throw new HubCacheError(`${ref}: config.json's input_size ${hubCfg.inputSize.join('x')} is not square; give --resolution`);
  if (o.numClasses !== undefined && numClasses !== undefined && o.numClasses !== numClasses)
    throw new OptionError(
      'numClasses',
      `--num-classes ${o.numClasses} disagrees with ${path}: its classifier '${mapping.toFile.get(classifierName(spec))}' has ${numClasses} outputs (leave --num-classes out to take it from the file)`,
    );

  const requested = new Map<string, readonly number[]>();
  const used = new Set<string>();
  const missing: string[] = [];
  const misShaped: string[] = [];
  const badDtype: string[] = [];
  const rejected: DataSource = () => {
    throw new WeightsError(`${path}: weights were rejected`);
  };
  const weights: WeightSource = {
    get(name, shape) {
      requested.set(name, shape);
      const key = mapping.toFile.get(name);
      const info = key === undefined ? undefined : file.info(key);
      if (key === undefined || !info) {
        missing.push(name);
        return rejected;
      }
      used.add(key);
      const also = key === name ? '' : ` (${name})`;
      if (!sameShape(info.shape, shape)) {
        misShaped.push(`${key}${also} is ${formatShape(info.shape)}, model needs ${formatShape(shape)}`);
        return rejected;
      }
      if (!file.floatDtypes.includes(info.dtype)) {
        badDtype.push(`${key} is ${info.dtype}`);
        return rejected;
      }
      return () => finite(file.readFloat32(key), path, key);
    },
  };

  const options: BuildOptions = {
    ...o,
    weights,
    ...(o.numClasses === undefined && numClasses !== undefined ? { numClasses } : {}),
    ...(o.bnEps === undefined && bnEps !== undefined ? { bnEps } : {}),
    ...(hubResolution !== undefined ? { resolution: hubResolution } : {}),
  };
  const built = buildModel(id, options);

  const unexpected = [...mapping.unmapped, ...[...mapping.toFile.values()].filter((k) => !used.has(k))];
  const all = [...requested.keys()];
  const sections: string[] = [];
  if (missing.length) sections.push(`${missing.length} missing: ${list(missing.map((n) => `${mapping.fileKeyFor(n, all)} ${formatShape(requested.get(n)!)}`))}`);
  if (misShaped.length) sections.push(`${misShaped.length} with the wrong shape: ${list(misShaped)}`);
  if (badDtype.length) sections.push(`${badDtype.length} with an unsupported dtype (supported: ${file.floatDtypes.join(', ')}): ${list(badDtype)}`);
  if (unexpected.length) sections.push(`${unexpected.length} unexpected: ${list(unexpected)}`);
  if (sections.length)
    throw new WeightsError(`${path}: weights (${LAYOUT_LABELS[mapping.layout].replace(/ \(.*/, '')}) do not fit ${spec.id} with ${built.numClasses} classes: ${sections.join('; ')}`);

  const imported: ImportedWeights = { path, layout: mapping.layout, tensors: used.size, numClasses, format: file.format, ...(hub ? { hub } : {}) };
  const pre = hubCfg?.preprocess;
  return {
    ...built,
    metadata: {
      ...built.metadata,
      'effnet.weights': hub ? `${hub.ref}@${hub.commit}` : (path.split(/[\\/]/).pop() ?? path),
      'effnet.weights_naming': mapping.layout,
      ...(file.under ? { 'effnet.weights_key': file.under } : {}),
      // The checkpoint's own eval transform (timm's pretrained_cfg) replaces the model id's defaults.
      ...(pre ? { 'effnet.mean': pre.mean.join(','), 'effnet.std': pre.std.join(','), 'effnet.crop_pct': String(pre.cropPct), 'effnet.interpolation': pre.interpolation } : {}),
      ...classLabels(file.metadata.get('classes'), built.numClasses),
    },
    imported,
  };
}

/**
 * A checkpoint's own class list (`__metadata__.classes`, a JSON list of strings, as the Imagenette
 * checkpoint carries) becomes `effnet.labels` in the ONNX metadata when it fits the classifier, so
 * `effnet classify` can name classes without --labels. Anything else is ignored.
 */
function classLabels(raw: string | undefined, numClasses: number): Record<string, string> {
  if (raw === undefined) return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (Array.isArray(v) && v.length === numClasses && v.every((x) => typeof x === 'string' && x.length > 0 && x.length < 200)) return { 'effnet.labels': JSON.stringify(v) };
  } catch {
    // not JSON: not a class list
  }
  return {};
}
