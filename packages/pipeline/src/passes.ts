/**
 * The pipeline's passes, declared once: each is a record of its name, the option that turns it on,
 * the CLI flag (the CLI registers its flags and help from this table), what it requires (turned on
 * with it: int8 folds BatchNorm, fp16-io is fp16), what it excludes (int8 and fp16), the lowest
 * opset it needs, the metadata it writes and the function. {@link resolvePasses} checks a set of
 * options against the table (one check, one message, for the library and the CLI alike) and
 * {@link applyGraphPasses} runs the graph passes in table order.
 *
 * A new pass is one record here (and its function): `--embed-preprocessing`, `--outputs`,
 * `--features`, `--head none`, `--dynamic-size`, `--layout nhwc`, `--opencv` are meant to enter so.
 */
import { clipAsRelu, explicitPads, foldBatchNorm, NAME_RE, OptionError, renameValues, toFloat16, type GraphIR } from '@effnet/graph-builder';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '@effnet/onnx-export';
import { backboneOutputs, dynamicSize, embedPreprocessing, featureInfo, nhwcInput, outputsHead, parseOutputs, type OutputsMode, type PassContext } from './deploy.js';

/** The options the passes read (a subset of PrepareOptions, plus the int8 and write steps' switches). */
export interface PassOptions {
  readonly foldBn?: boolean;
  readonly explicitPads?: boolean;
  readonly fp16?: boolean;
  readonly fp16Io?: boolean;
  readonly int8?: unknown;
  readonly opset?: number;
  readonly inputName?: string;
  readonly outputName?: string;
  readonly externalData?: boolean;
  /** timm out_indices of the feature maps to output (`--features 2,3,4`); [] or true: all. */
  readonly features?: readonly number[] | true;
  /** 'none': the pooled embedding instead of the classifier (timm num_classes=0). */
  readonly head?: 'none' | 'classifier';
  readonly dynamicSize?: boolean;
  readonly layout?: 'nchw' | 'nhwc';
  readonly embedPreprocessing?: boolean;
  readonly outputs?: OutputsMode;
  readonly opencv?: boolean;
}

export type PassOption = keyof PassOptions;

/**
 * Where a pass runs: `graph` passes rewrite the built graph in table order (prepareModel); `input`
 * passes replace the graph's input (layout, embedded preprocessing) and run last of them, after the
 * int8 step when there is one (calibration measures the float NCHW network, the preprocessing in
 * front of it stays float); `quantize` is the int8 step (asynchronous: calibration runs the model);
 * `write` passes are settings of the writer (opset adapters, external data).
 */
export type PassStage = 'graph' | 'input' | 'quantize' | 'write';

export interface PassRecord {
  readonly name: string;
  readonly option: PassOption;
  /** The CLI flag (`--fold-bn`), with its value's name for valued options (`--opset <N>`). */
  readonly flag: string;
  readonly help: string;
  readonly stage: PassStage;
  /** Default value of a valued option. */
  readonly default?: string | number;
  /** Integer range of a numeric option (the CLI parses the flag in it). */
  readonly range?: { readonly min: number; readonly max: number };
  /** The values a valued option takes (`--layout nchw|nhwc`); the CLI offers them and refuses others. */
  readonly choices?: readonly string[];
  /**
   * Parses a valued option from its text (`--features 2,3,4` → [2, 3, 4]); throws OptionError
   * naming the flag. The CLI uses it for the flag, so the rule is written once. Without it (and
   * without range or choices) the value is a tensor name.
   */
  readonly parse?: (text: string) => unknown;
  /** Runs whether its option is given or not (the renames: default names). */
  readonly always?: boolean;
  /** Passes turned on with this one. */
  readonly requires?: readonly string[];
  /** Passes that cannot run with this one, and what to tell the user. */
  readonly excludes?: readonly { readonly pass: string; readonly why: string }[];
  /** The lowest opset the pass's output needs (the opset is raised to it). */
  readonly minOpset?: number;
  /** Metadata the pass writes, given the resolved options (written whether the pass is on or not when it returns entries). */
  readonly metadata?: (o: PassOptions) => Readonly<Record<string, string>>;
  /** Checks of the option's value beyond on/off; throws OptionError naming the flag. */
  readonly check?: (o: PassOptions) => void;
  /** Whether the option's value turns the pass on (default: given and not false), for valued options whose default is "off" (`--layout nchw`). */
  readonly active?: (value: unknown) => boolean;
  /** The graph rewrite (stage `graph`); `ctx` is what the built model knows beyond its graph (feature taps, padding rule, preprocessing). */
  readonly apply?: (ir: GraphIR, o: PassOptions, ctx?: PassContext) => GraphIR;
}

function needContext(ctx: PassContext | undefined, flag: string): PassContext {
  if (!ctx) throw new OptionError('features', `${flag} needs a model built by effnet (its taps, padding and preprocessing)`);
  return ctx;
}

/** `--features 2,3,4` → [2, 3, 4] (timm out_indices, each 0..4); `--features` alone → all. */
export function parseFeatures(text: string | boolean): readonly number[] | true {
  if (text === true || text === '' || text === 'all') return true;
  const parts = String(text)
    .split(',')
    .map((t) => t.trim());
  const v = parts.map(Number);
  if (parts.some((t) => !/^\d+$/.test(t)) || v.some((i) => i > 4)) throw new OptionError('features', `--features expects indices 0..4 (strides 2..32) such as 2,3,4, got '${String(text)}'`);
  if (new Set(v).size !== v.length) throw new OptionError('features', `--features '${String(text)}' repeats an index`);
  return [...v].sort((a, b) => a - b);
}

const featureIndices = (o: PassOptions): readonly number[] => (o.features === true || o.features === undefined ? [0, 1, 2, 3, 4] : o.features);

/** The flag without its value name: `--opset <N>` → `--opset`. */
export function flagName(r: PassRecord): string {
  return r.flag.split(' ')[0]!;
}

export const PASSES: readonly PassRecord[] = [
  {
    name: 'features',
    option: 'features',
    flag: '--features [indices]',
    help: 'the backbone (timm features_only): outputs features.0..4 at strides 2..32, or only the given indices (e.g. 2,3,4); channels, reduction and tap in the metadata',
    stage: 'graph',
    parse: (t) => parseFeatures(t),
    excludes: [{ pass: 'outputs', why: 'a backbone has no logits to turn into probabilities' }],
    metadata: (o) => (o.features ? { 'effnet.outputs': [...featureIndices(o).map((i) => `features.${i}`), ...(o.head === 'none' ? ['embedding'] : [])].join(',') } : {}),
    apply: (ir, o, ctx) => backboneOutputs(ir, needContext(ctx, '--features'), { features: featureIndices(o), embedding: o.head === 'none' }),
  },
  {
    name: 'head',
    option: 'head',
    flag: '--head <none>',
    help: 'none: the pooled embedding the classifier reads (timm num_classes=0, pre_logits), as output embedding [N,C]',
    stage: 'graph',
    choices: ['none', 'classifier'],
    active: (v) => v === 'none',
    excludes: [{ pass: 'outputs', why: 'an embedding has no logits to turn into probabilities' }],
    metadata: (o) => (o.head === 'none' && !o.features ? { 'effnet.outputs': 'embedding' } : {}),
    // With --features the features record outputs the embedding as well (one pruning).
    apply: (ir, o, ctx) => (o.features ? ir : backboneOutputs(ir, needContext(ctx, '--head none'), { embedding: true })),
  },
  {
    name: 'fold-bn',
    option: 'foldBn',
    flag: '--fold-bn',
    help: 'fold BatchNorm into the preceding conv',
    stage: 'graph',
    metadata: (o) => ({ 'effnet.fold_bn': String(!!o.foldBn) }),
    apply: (ir) => foldBatchNorm(ir),
  },
  {
    name: 'explicit-pads',
    option: 'explicitPads',
    flag: '--explicit-pads',
    help: 'padding as plain Pad/Slice nodes: no negative Pad, no asymmetric Conv/MaxPool pads (OpenCV DNN, older converters)',
    stage: 'graph',
    metadata: (o) => (o.explicitPads ? { 'effnet.explicit_pads': 'true' } : {}),
    apply: (ir) => explicitPads(ir),
  },
  {
    name: 'opencv',
    option: 'opencv',
    flag: '--opencv',
    help: 'ReLU6 (Clip with min/max inputs, which OpenCV 4.6 DNN rejects) as Relu(x) - Relu(x - 6); costs onnxruntime time, so not the default',
    stage: 'graph',
    metadata: (o) => (o.opencv ? { 'effnet.opencv': 'true' } : {}),
    apply: (ir) => clipAsRelu(ir),
  },
  {
    name: 'fp16',
    option: 'fp16',
    flag: '--fp16',
    help: 'float16 weights and compute (float32 input/output)',
    stage: 'graph',
    metadata: (o) => ({ 'effnet.precision': o.fp16 ? 'float16' : 'float32' }),
    apply: (ir, o) => toFloat16(ir, { keepIoFloat32: !o.fp16Io }),
  },
  {
    name: 'fp16-io',
    option: 'fp16Io',
    flag: '--fp16-io',
    help: 'with --fp16: float16 input/output as well',
    stage: 'graph',
    requires: ['fp16'],
    // The fp16 pass reads fp16Io (keepIoFloat32): one conversion, not two.
  },
  {
    name: 'int8',
    option: 'int8',
    flag: '--int8',
    help: 'static int8 quantization (QDQ, per-channel int8 weights, uint8 activations); needs --calibration-data',
    stage: 'quantize',
    requires: ['fold-bn'],
    excludes: [{ pass: 'fp16', why: 'choose one precision' }],
    // Per-channel QuantizeLinear/DequantizeLinear.
    minOpset: 13,
    // Written by the int8 step itself (quantizeModel): precision and calibration.
  },
  {
    name: 'input-name',
    option: 'inputName',
    flag: '--input-name <name>',
    help: 'name of the graph input',
    default: 'input',
    stage: 'graph',
    // Renamed with the output by the next record, `names` (one rename of both).
  },
  {
    name: 'names',
    option: 'outputName',
    flag: '--output-name <name>',
    help: 'name of the graph output',
    default: 'logits',
    stage: 'graph',
    always: true,
    check: (o) => {
      // Checked here, naming the flag, rather than by the rename pass on the graph.
      for (const [key, flag] of [
        ['inputName', '--input-name'],
        ['outputName', '--output-name'],
      ] as const) {
        const v = o[key];
        if (v !== undefined && !NAME_RE.test(v)) throw new OptionError(key, `${flag} '${v}': a tensor name is letters, digits, '_', '.', ':', '/' and '-', starting with a letter or '_'`);
      }
      if (o.inputName !== undefined && o.inputName === o.outputName)
        throw new OptionError('outputName', `--input-name and --output-name are both '${o.inputName}': give the input and the output different names`);
    },
    apply: (ir, o) => {
      const names = ir.outputs.some((v) => v.name === 'logits') ? { logits: o.outputName ?? 'logits' } : {};
      return renameValues(ir, { input: o.inputName ?? 'input', ...names });
    },
  },
  {
    name: 'outputs',
    option: 'outputs',
    flag: '--outputs <mode>',
    help: 'logits (default), probs (softmax), or topk:K (outputs scores float and classes int64): no post-processing left to the consumer',
    stage: 'graph',
    parse: (t) => parseOutputs(t),
    active: (v) => v !== undefined && (v as OutputsMode).kind !== 'logits',
    metadata: (o) => (o.outputs && o.outputs.kind !== 'logits' ? { 'effnet.outputs': o.outputs.kind === 'probs' ? 'probs' : `topk:${o.outputs.k}` } : {}),
    apply: (ir, o, ctx) => outputsHead(ir, o.outputs!, needContext(ctx, '--outputs').numClasses),
  },
  {
    name: 'dynamic-size',
    option: 'dynamicSize',
    flag: '--dynamic-size',
    help: 'H and W symbolic: one file for every input size, square or not (TF "SAME" convs as auto_pad SAME_UPPER)',
    stage: 'graph',
    excludes: [
      { pass: 'explicit-pads', why: 'explicit pads are computed for one input size' },
      { pass: 'embed-preprocessing', why: 'an embedded-preprocessing file already takes pictures of any size (it crops them to R×R)' },
    ],
    metadata: (o) => (o.dynamicSize ? { 'effnet.dynamic_size': 'true' } : {}),
    apply: (ir, _o, ctx) => dynamicSize(ir, needContext(ctx, '--dynamic-size')),
  },
  {
    name: 'layout',
    option: 'layout',
    flag: '--layout <layout>',
    help: 'nhwc: a float32 channels-last input [N,H,W,3] (same normalization)',
    stage: 'input',
    choices: ['nchw', 'nhwc'],
    active: (v) => v === 'nhwc',
    excludes: [{ pass: 'fp16-io', why: 'choose one input form' }],
    metadata: (o) => (o.layout === 'nhwc' ? { 'effnet.input_layout': 'NHWC, RGB, float32 in [0,1] then normalized' } : {}),
    apply: (ir) => nhwcInput(ir),
  },
  {
    name: 'embed-preprocessing',
    option: 'embedPreprocessing',
    flag: '--embed-preprocessing',
    help: "input image: uint8 [N,H,W,3] RGB of any size; timm's eval transform (resize, centre crop, normalize) inside the graph (opset 18)",
    stage: 'input',
    excludes: [
      { pass: 'layout', why: 'the embedded-preprocessing input is always uint8 NHWC' },
      { pass: 'fp16-io', why: 'the embedded-preprocessing input is uint8' },
      { pass: 'explicit-pads', why: 'OpenCV, the runtime explicit pads serve, cannot run antialiased Resize' },
    ],
    // Resize with antialias, ReduceMin with axes as input.
    minOpset: 18,
    metadata: (o) => (o.embedPreprocessing ? { 'effnet.input_layout': 'NHWC, RGB, uint8, any size (resize, crop and normalize inside the graph)', 'effnet.embedded_preprocessing': 'true' } : {}),
    apply: (ir, _o, ctx) => embedPreprocessing(ir, needContext(ctx, '--embed-preprocessing')),
  },
  {
    name: 'opset',
    option: 'opset',
    flag: '--opset <N>',
    help: `ONNX opset, ${MIN_OPSET}..${MAX_OPSET}`,
    default: DEFAULT_OPSET,
    // The writer checks the value (onnx-export writeModel: OptionError('opset')); the CLI parses the flag in this range.
    range: { min: MIN_OPSET, max: MAX_OPSET },
    stage: 'write',
  },
  {
    name: 'external-data',
    option: 'externalData',
    flag: '--external-data',
    help: 'store weights in <out>.data beside the model (automatic above 2 GB)',
    stage: 'write',
  },
];

const byName = new Map(PASSES.map((r) => [r.name, r]));

function record(name: string): PassRecord {
  const r = byName.get(name);
  if (!r) throw new Error(`pass table: no pass '${name}'`);
  return r;
}

const isOn = (o: PassOptions, r: PassRecord) => {
  const v = o[r.option];
  if (r.active) return r.active(v);
  return v !== undefined && v !== false;
};

export interface ResolvedPasses {
  /** The options with every required pass turned on. */
  readonly options: PassOptions;
  /** Names of the passes on (given or required), in table order. */
  readonly on: readonly string[];
  /** The opset after raising it to what the passes on need. */
  readonly opset: number;
}

/**
 * The options checked against the table: required passes turned on, exclusions refused with one
 * OptionError naming the flags as given (`--int8 with --fp16-io: choose one precision`), each
 * pass's own check run, the opset raised to what the passes need.
 */
export function resolvePasses(o: PassOptions): ResolvedPasses {
  /** Each pass on → the given pass that brought it in. */
  const cause = new Map<string, PassRecord>();
  const bring = (r: PassRecord, by: PassRecord) => {
    if (cause.has(r.name)) return;
    cause.set(r.name, by);
    for (const q of r.requires ?? []) bring(record(q), by);
  };
  for (const r of PASSES) if (isOn(o, r)) bring(r, r);
  for (const r of PASSES) {
    if (!cause.has(r.name)) continue;
    for (const x of r.excludes ?? []) {
      const other = cause.get(x.pass);
      if (other) throw new OptionError(other.option, `${flagName(cause.get(r.name)!)} with ${flagName(other)}: ${x.why}`);
    }
  }
  const options: Record<string, unknown> = { ...o };
  for (const name of cause.keys()) {
    const r = record(name);
    if (!isOn(o, r)) options[r.option] = true;
  }
  for (const r of PASSES) r.check?.(options);
  const on = PASSES.filter((r) => cause.has(r.name)).map((r) => r.name);
  const need = Math.max(0, ...PASSES.filter((r) => cause.has(r.name)).map((r) => r.minOpset ?? 0));
  return { options, on, opset: Math.max(o.opset ?? DEFAULT_OPSET, need) };
}

/**
 * The graph passes that are on (or always run), in table order: the `graph` stage, then the `input`
 * stage (the table lists them last of the graph rewrites). `stages` picks one of them: the int8 step
 * runs between the two.
 */
export function applyGraphPasses(ir: GraphIR, r: ResolvedPasses, ctx?: PassContext, stages: readonly ('graph' | 'input')[] = ['graph', 'input']): GraphIR {
  let out = ir;
  for (const stage of stages) for (const p of PASSES) if (p.stage === stage && p.apply && (p.always || r.on.includes(p.name))) out = p.apply(out, r.options, ctx);
  return out;
}

/** Metadata the deployment passes derive from the built model (feature_info). */
export function contextMetadata(r: ResolvedPasses, ctx: PassContext): Record<string, string> {
  if (!r.on.includes('features')) return {};
  return { 'effnet.feature_info': JSON.stringify(featureInfo(ctx, featureIndices(r.options))) };
}

/** The metadata of every pass, in table order. */
export function passMetadata(r: ResolvedPasses): Record<string, string> {
  return Object.assign({}, ...PASSES.map((p) => p.metadata?.(r.options) ?? {})) as Record<string, string>;
}
