/** Options shared by the commands that build a model. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { OptionError } from '@effnet/graph-builder';
import { flagName, onnxruntimeStatistics, PASSES, type PassRecord, type PrepareOptions } from '@effnet/pipeline';
import { BUILD_OPTIONS, type BuildOptionDef, type BuildOptionKey } from '@effnet/efficientnet';
import { batchOption, choice, intInRange, LIMITS, numberInRange, positiveInt, tensorName } from '../parse.js';

/** The parsed flags: the declared build options (BUILD_OPTIONS: resolution, numClasses, cells, ...) and the rest. */
export interface ModelFlags extends Partial<Record<BuildOptionKey, number>> {
  batch?: number | 'dynamic';
  opset?: number;
  foldBn?: boolean;
  fp16?: boolean;
  fp16Io?: boolean;
  explicitPads?: boolean;
  inputName?: string;
  outputName?: string;
  int8?: boolean;
  externalData?: boolean;
  weights?: string;
}

/** A flag parser for a declared option's range (the CLI's own messages: "--phi expects ..."). */
function optionParser(d: BuildOptionDef): (v: string) => number {
  const r = d.range;
  if (r.kind === 'int') return r.max === undefined && r.min === 1 ? positiveInt(d.flag) : intInRange(d.flag, r.min, r.max ?? Number.MAX_SAFE_INTEGER);
  return numberInRange(d.flag, r.min, r.max ?? Number.MAX_VALUE, { aboveLo: r.minExclusive ?? false });
}

export function addModelOptions(cmd: Command, o: { batch?: boolean; export?: boolean } = {}): Command {
  const add = (d: BuildOptionDef) => cmd.option(`${d.flag} <${d.valueName}>`, d.help, optionParser(d));
  // Options every model takes, then --weights, then the family-specific ones.
  BUILD_OPTIONS.filter((d) => !d.scope).forEach(add);
  cmd.option('--weights <file>', 'trained weights: .safetensors, a torch.save checkpoint (.pth/.pt/.bin), or hf:ORG/NAME from the local Hugging Face cache (timm or torchvision naming)');
  BUILD_OPTIONS.filter((d) => d.scope).forEach(add);
  if (o.batch !== false) cmd.option('--batch <N|dynamic>', `fixed batch size 1..${LIMITS.batch}, or dynamic`, batchOption);
  // The pipeline's passes, from its table (int8 is added by addInt8Options, with its calibration flags).
  if (o.export) for (const r of PASSES) if (r.stage !== 'quantize') addPassOption(cmd, r);
  return cmd;
}

/** A pass's flag as the table declares it: a switch, or a value parsed by the record's parser, in its range, among its choices, or as a tensor name. */
export function addPassOption(cmd: Command, r: PassRecord): Command {
  const flag = flagName(r);
  if (r.flag === flag) return cmd.option(r.flag, r.help);
  if (r.parse) {
    const parse = r.parse;
    const parser = (v: string): unknown => {
      try {
        return parse(v);
      } catch (e) {
        if (e instanceof OptionError) throw new InvalidArgumentError(e.message);
        throw e;
      }
    };
    return cmd.addOption(new Option(r.flag, r.help).argParser(parser).default(r.default));
  }
  if (r.choices) return cmd.addOption(new Option(r.flag, r.help).argParser(choice(flag, r.choices)).default(r.default));
  if (r.range) return cmd.option(r.flag, r.help, intInRange(flag, r.range.min, r.range.max), typeof r.default === 'number' ? r.default : undefined);
  return cmd.option(r.flag, r.help, tensorName(flag), typeof r.default === 'string' ? r.default : undefined);
}

/**
 * The pipeline options the model flags mean. Default weights get their BatchNorm statistics from
 * onnxruntime-node (run in a child process only when a model is written or run): the CLI injects
 * the provider the library leaves open.
 */
export function prepareOptions(f: ModelFlags): PrepareOptions {
  const o: { -readonly [K in keyof PrepareOptions]: PrepareOptions[K] } = { statistics: onnxruntimeStatistics };
  for (const d of BUILD_OPTIONS) {
    const v = f[d.key];
    if (v !== undefined) o[d.key] = v;
  }
  if (f.batch !== undefined) o.batch = f.batch;
  if (f.weights !== undefined) o.weightsPath = f.weights;
  // The pass options as given; the pipeline checks them against its pass table (requires, excludes,
  // names) and says which flags conflict: no check of them is written here.
  for (const r of PASSES) {
    const v = (f as Record<string, unknown>)[r.option];
    if (v !== undefined && v !== false) (o as Record<string, unknown>)[r.option] = v;
  }
  return o;
}
