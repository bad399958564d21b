/**
 * The build options, declared once. Each entry gives the option's name, CLI flag, value kind and
 * range, help text, and which models take it; the CLI's flags, buildModel's validation and the bench
 * job options are all derived from this table, so a new option is one entry here.
 */
import { OptionError } from '@effnet/graph-builder';
import { MAX_RESOLUTION } from '@effnet/preprocess';

export interface OptionRange {
  /** 'int': an integer; 'number': any finite number. */
  readonly kind: 'int' | 'number';
  readonly min: number;
  /** True: the value must be above `min` (not equal). */
  readonly minExclusive?: boolean;
  /** Inclusive upper bound; undefined = none. */
  readonly max?: number;
}

/** Which models an option applies to: every model, the listed model ids / families, or the models whose family declares a scaling rule. */
export interface OptionScope {
  readonly models?: readonly string[];
  readonly families?: readonly string[];
  readonly scalable?: boolean;
  /** How errors name the scope ("AmoebaNet models"). */
  readonly describe: string;
}

export interface BuildOptionDef {
  /** The BuildOptions key. */
  readonly key: BuildOptionKey;
  /** The CLI flag (`--num-classes`) and its value name. */
  readonly flag: string;
  readonly valueName: string;
  readonly range: OptionRange;
  readonly help: string;
  /** Undefined: every model takes it. */
  readonly scope?: OptionScope;
}

/**
 * Upper bounds on the architecture options. Generous (B7 is φ≈6, width 2.0, depth 3.1; GPipe's largest
 * AmoebaNet-B is (36, 1024)) but finite: depth grows the graph itself, and φ=200 or depth 1e9 would
 * build for ever instead of failing.
 */
export const MAX_PHI = 20;
export const MAX_MULTIPLIER = 50;
export const MAX_CELLS = 1000;
export const MAX_FILTERS = 16384;
/** Input side, pixels (declared once, in @effnet/preprocess: the largest image model effnet reads). */
export { MAX_RESOLUTION };
/** Classifier outputs: ImageNet-21k has 21843; 100000 × 2560 (B7) is a 1 GB classifier. */
export const MAX_NUM_CLASSES = 100000;

const AMOEBANET: OptionScope = { families: ['amoebanet'], describe: 'AmoebaNet models' };
const SCALABLE: OptionScope = { scalable: true, describe: 'models whose family declares how it scales' };

export type BuildOptionKey = 'resolution' | 'numClasses' | 'cells' | 'filters' | 'phi' | 'width' | 'depth';

export const BUILD_OPTIONS: readonly BuildOptionDef[] = [
  { key: 'resolution', flag: '--resolution', valueName: 'R', range: { kind: 'int', min: 1, max: MAX_RESOLUTION }, help: `input resolution, 1..${MAX_RESOLUTION} (default: the model's own)` },
  {
    key: 'numClasses',
    flag: '--num-classes',
    valueName: 'K',
    range: { kind: 'int', min: 1, max: MAX_NUM_CLASSES },
    help: `classifier outputs, 1..${MAX_NUM_CLASSES} (default 1000, or from --weights)`,
  },
  {
    key: 'cells',
    flag: '--cells',
    valueName: 'N',
    range: { kind: 'int', min: 1, max: MAX_CELLS },
    help: `AmoebaNet: normal cells in total, up to ${MAX_CELLS} (default 18)`,
    scope: AMOEBANET,
  },
  {
    key: 'filters',
    flag: '--filters',
    valueName: 'F',
    range: { kind: 'int', min: 1, max: MAX_FILTERS },
    help: `AmoebaNet: filters of the first cell stack, a multiple of 4 up to ${MAX_FILTERS} (default 512)`,
    scope: AMOEBANET,
  },
  {
    key: 'phi',
    flag: '--phi',
    valueName: 'P',
    range: { kind: 'number', min: 0, max: MAX_PHI },
    help: `compound coefficient φ, 0..${MAX_PHI}: width × β^φ, depth × α^φ, resolution × γ^φ (α=1.2, β=1.1, γ=1.15)`,
    scope: SCALABLE,
  },
  {
    key: 'width',
    flag: '--width',
    valueName: 'W',
    range: { kind: 'number', min: 0, minExclusive: true, max: MAX_MULTIPLIER },
    help: `width multiplier on the model's channels, up to ${MAX_MULTIPLIER} (overrides φ's)`,
    scope: SCALABLE,
  },
  {
    key: 'depth',
    flag: '--depth',
    valueName: 'D',
    range: { kind: 'number', min: 0, minExclusive: true, max: MAX_MULTIPLIER },
    help: `depth multiplier on the model's stage repeats, up to ${MAX_MULTIPLIER} (overrides φ's)`,
    scope: SCALABLE,
  },
];

/** The option's name in messages: its flag without dashes ('num-classes'). */
export const optionName = (d: BuildOptionDef): string => d.flag.replace(/^--/, '');

/** The lower bound and kind in words ("a positive integer", "a non-negative number"). */
export function describeRange(r: OptionRange): string {
  const what = r.kind === 'int' ? 'integer' : 'number';
  if (r.min === 0) return r.minExclusive ? `a positive ${what}` : `a non-negative ${what}`;
  if (r.min === 1 && r.kind === 'int') return 'a positive integer';
  return `${r.kind === 'int' ? 'an' : 'a'} ${what} ${r.minExclusive ? '>' : '>='} ${r.min}`;
}

/** Why `v` is outside the range, or undefined when it is inside. */
export function rangeProblem(v: number, r: OptionRange): string | undefined {
  if (!Number.isFinite(v) || (r.kind === 'int' && !Number.isInteger(v)) || (r.minExclusive ? v <= r.min : v < r.min)) return `must be ${describeRange(r)}`;
  if (r.max !== undefined && v > r.max) return `must be at most ${r.max}`;
  return undefined;
}

/** Whether a model takes the option. */
export function appliesTo(d: BuildOptionDef, model: { readonly id: string; readonly family: string; readonly scalable?: boolean }): boolean {
  const s = d.scope;
  return !s || Boolean(s.models?.includes(model.id) || s.families?.includes(model.family) || (s.scalable && model.scalable));
}

/** Checks every given option's range and scope; throws OptionError naming the option. */
export function validateBuildOptions(model: { readonly id: string; readonly family: string; readonly scalable?: boolean }, o: Partial<Record<BuildOptionKey, number>>): void {
  for (const d of BUILD_OPTIONS) {
    const v = o[d.key];
    if (v === undefined) continue;
    const problem = rangeProblem(v, d.range);
    if (problem) throw new OptionError(d.key, `${optionName(d)} ${problem}, got ${v}`);
  }
  for (const d of BUILD_OPTIONS) if (o[d.key] !== undefined && !appliesTo(d, model)) throw new OptionError(d.key, `${d.flag} applies to ${d.scope!.describe} only, not '${model.id}'`);
}
