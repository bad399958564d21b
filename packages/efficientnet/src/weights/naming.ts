/**
 * Checkpoint naming: which library's state_dict keys a weights file uses, and how they map onto
 * the graph's parameter names (timm naming for EfficientNet, torchvision naming for ResNet).
 *
 * - timm EfficientNet, EfficientNetV2 and EfficientNet-Lite (`efficientnet_bN`, `efficientnetv2_*`,
 *   `efficientnet_liteN` and the TF ports `tf_*` alike): `conv_stem`, `bn1`, then per block
 *   `blocks.S.I.` + ds `{conv_dw,bn1,se.*,conv_pw,bn2}`, ir `{conv_pw,bn1,conv_dw,bn2,se.*,conv_pwl,bn3}`,
 *   er `{conv_exp,bn1,se.*,conv_pwl,bn2}`, cn `{conv,bn1}`; `conv_head`, `bn2`, `classifier` — the
 *   graph's own names (blocks.ts), so these files map one to one. A checkpoint of another family
 *   (V1 weights for a V2 id) fails with the missing, mis-shaped and unexpected tensors named.
 * - torchvision EfficientNet: `features.0.{0,1}` = stem conv/BN, `features.(S+1).I.block.K...` = blocks,
 *   `features.(stages+1).{0,1}` = head conv/BN, `classifier.1` = classifier. A block with an expand
 *   conv has four parts (expand, depthwise, SE, project); one without has three.
 * - ResNet (torchvision, and timm's ResNets use the same keys): the graph's own names.
 */

export type WeightLayout = 'timm-efficientnet' | 'torchvision-efficientnet' | 'resnet';

export const LAYOUT_LABELS: Readonly<Record<WeightLayout, string>> = {
  'timm-efficientnet': 'timm EfficientNet naming (conv_stem, blocks.S.I.conv_dw, ...)',
  'torchvision-efficientnet': 'torchvision EfficientNet naming (features.S.I.block.K, classifier.1)',
  resnet: 'ResNet naming (conv1, layer1.0.conv1, fc)',
};

/** Keys every checkpoint may carry that are no model parameter. */
export function isIgnoredKey(key: string): boolean {
  return key === 'num_batches_tracked' || key.endsWith('.num_batches_tracked');
}

/** Detects the naming from the keys, or undefined when none fits. */
export function detectLayout(keys: readonly string[]): WeightLayout | undefined {
  const has = (re: RegExp) => keys.some((k) => re.test(k));
  const found: WeightLayout[] = [];
  if (has(/^features\.\d+\./)) found.push('torchvision-efficientnet');
  if (has(/^conv_stem\./) || has(/^blocks\.\d+\.\d+\./)) found.push('timm-efficientnet');
  if (has(/^layer\d+\.\d+\./)) found.push('resnet');
  return found.length === 1 ? found[0] : undefined;
}

/** A common wrapper prefix (`module.` from DataParallel, `model.`) present on every key, if any. */
export function wrapperPrefix(keys: readonly string[]): string {
  for (const p of ['module.', 'model.']) if (keys.length > 0 && keys.every((k) => k.startsWith(p))) return p;
  return '';
}

/** Block parts in torchvision order, as (torchvision sub-key, timm name). */
const TV_DS: readonly (readonly [string, string])[] = [
  ['block.0.0', 'conv_dw'],
  ['block.0.1', 'bn1'],
  ['block.1.fc1', 'se.conv_reduce'],
  ['block.1.fc2', 'se.conv_expand'],
  ['block.2.0', 'conv_pw'],
  ['block.2.1', 'bn2'],
];
const TV_IR: readonly (readonly [string, string])[] = [
  ['block.0.0', 'conv_pw'],
  ['block.0.1', 'bn1'],
  ['block.1.0', 'conv_dw'],
  ['block.1.1', 'bn2'],
  ['block.2.fc1', 'se.conv_reduce'],
  ['block.2.fc2', 'se.conv_expand'],
  ['block.3.0', 'conv_pwl'],
  ['block.3.1', 'bn3'],
];

const PARAM = /^(.*)\.(weight|bias|running_mean|running_var)$/;

function splitParam(key: string): [string, string] | undefined {
  const m = PARAM.exec(key);
  return m ? [m[1]!, m[2]!] : undefined;
}

/** torchvision EfficientNet key → graph name (undefined: no counterpart). */
function torchvisionToGraph(key: string, irBlocks: ReadonlySet<string>, headIndex: number): string | undefined {
  const p = splitParam(key);
  if (!p) return undefined;
  const [module, param] = p;
  if (module === 'features.0.0') return `conv_stem.${param}`;
  if (module === 'features.0.1') return `bn1.${param}`;
  if (module === 'classifier.1') return `classifier.${param}`;
  if (module === `features.${headIndex}.0`) return `conv_head.${param}`;
  if (module === `features.${headIndex}.1`) return `bn2.${param}`;
  const m = /^features\.(\d+)\.(\d+)\.(block\..+)$/.exec(module);
  if (!m) return undefined;
  const stage = Number(m[1]) - 1;
  if (stage < 0 || stage >= headIndex - 1) return undefined;
  const parts = irBlocks.has(`features.${m[1]}.${m[2]}`) ? TV_IR : TV_DS;
  const part = parts.find(([tv]) => tv === m[3]);
  return part ? `blocks.${stage}.${m[2]}.${part[1]}.${param}` : undefined;
}

/** Graph name → torchvision EfficientNet key (for naming missing tensors the way the file would). */
function graphToTorchvision(name: string, irBlocks: ReadonlySet<string>, stages: number): string | undefined {
  const p = splitParam(name);
  if (!p) return undefined;
  const [module, param] = p;
  const fixed: Record<string, string> = { conv_stem: 'features.0.0', bn1: 'features.0.1', conv_head: `features.${stages + 1}.0`, bn2: `features.${stages + 1}.1`, classifier: 'classifier.1' };
  if (Object.hasOwn(fixed, module)) return `${fixed[module]}.${param}`;
  const m = /^blocks\.(\d+)\.(\d+)\.(.+)$/.exec(module);
  if (!m) return undefined;
  const prefix = `features.${Number(m[1]) + 1}.${m[2]}`;
  const part = (irBlocks.has(`blocks.${m[1]}.${m[2]}`) ? TV_IR : TV_DS).find(([, timm]) => timm === m[3]);
  return part ? `${prefix}.${part[0]}.${param}` : undefined;
}

/** How one file's keys correspond to graph parameter names. */
export interface KeyMapping {
  readonly layout: WeightLayout;
  /** Prefix stripped from every file key (e.g. `module.`). */
  readonly prefix: string;
  /** Graph name → file key (as in the file, prefix included). */
  readonly toFile: ReadonlyMap<string, string>;
  /** File keys with no graph counterpart under this naming (ignored keys excluded). */
  readonly unmapped: readonly string[];
  /** The key a graph parameter would have in a file of this naming (for error messages). */
  fileKeyFor(graphName: string, allGraphNames: readonly string[]): string;
}

/** Maps the keys of a file in `layout` onto graph parameter names. */
export function mapKeys(layout: WeightLayout, fileKeys: readonly string[]): KeyMapping {
  const keys = fileKeys.filter((k) => !isIgnoredKey(k));
  const prefix = wrapperPrefix(keys);
  const toFile = new Map<string, string>();
  const unmapped: string[] = [];
  let toGraph: (key: string) => string | undefined = (k) => k;
  let fileKeyFor = (name: string, _all: readonly string[]) => `${prefix}${name}`;
  if (layout === 'torchvision-efficientnet') {
    const stripped = keys.map((k) => k.slice(prefix.length));
    const irBlocks = new Set<string>();
    let headIndex = 0;
    let lastStage = 0;
    for (const k of stripped) {
      const b = /^(features\.(\d+)\.\d+)\.block\./.exec(k);
      if (b) lastStage = Math.max(lastStage, Number(b[2]));
      if (b && k.startsWith(`${b[1]}.block.3.`)) irBlocks.add(b[1]!);
      const f = /^features\.(\d+)\.[01]\.(weight|bias|running_mean|running_var)$/.exec(k);
      if (f) headIndex = Math.max(headIndex, Number(f[1]));
    }
    // Without a head conv in the file, the head would follow the last stage.
    if (headIndex <= lastStage) headIndex = lastStage + 1;
    toGraph = (k) => torchvisionToGraph(k, irBlocks, headIndex);
    fileKeyFor = (name, all) => {
      const ir = new Set(all.filter((n) => /\.conv_pwl\.weight$/.test(n)).map((n) => n.replace(/\.conv_pwl\.weight$/, '')));
      const stages = new Set(all.map((n) => /^blocks\.(\d+)\./.exec(n)?.[1]).filter((s) => s !== undefined)).size;
      return `${prefix}${graphToTorchvision(name, ir, stages) ?? name}`;
    };
  }
  for (const key of keys) {
    const name = toGraph(key.slice(prefix.length));
    if (name === undefined) unmapped.push(key);
    else toFile.set(name, key);
  }
  return { layout, prefix, toFile, unmapped, fileKeyFor };
}
