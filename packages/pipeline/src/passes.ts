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
import { explicitPads, foldBatchNorm, NAME_RE, OptionError, renameValues, toFloat16, type GraphIR } from '@effnet/graph-builder';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '@effnet/onnx-export';

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
}

export type PassOption = keyof PassOptions;

/**
 * Where a pass runs: `graph` passes rewrite the built graph in table order (prepareModel); `quantize`
 * is the int8 step after them (asynchronous: calibration runs the model); `write` passes are
 * settings of the writer (opset adapters, external data).
 */
export type PassStage = 'graph' | 'quantize' | 'write';

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
  /** The graph rewrite (stage `graph`). */
  readonly apply?: (ir: GraphIR, o: PassOptions) => GraphIR;
}

/** The flag without its value name: `--opset <N>` → `--opset`. */
export function flagName(r: PassRecord): string {
  return r.flag.split(' ')[0]!;
}

export const PASSES: readonly PassRecord[] = [
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
    apply: (ir, o) => renameValues(ir, { input: o.inputName ?? 'input', logits: o.outputName ?? 'logits' }),
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

/** The graph passes that are on (or always run), in table order. */
export function applyGraphPasses(ir: GraphIR, r: ResolvedPasses): GraphIR {
  let out = ir;
  for (const p of PASSES) if (p.stage === 'graph' && p.apply && (p.always || r.on.includes(p.name))) out = p.apply(out, r.options);
  return out;
}

/** The metadata of every pass, in table order. */
export function passMetadata(r: ResolvedPasses): Record<string, string> {
  return Object.assign({}, ...PASSES.map((p) => p.metadata?.(r.options) ?? {})) as Record<string, string>;
}
