/** Options shared by the commands that build a model. */
import { Option, type Command } from 'commander';
import { MAX_OPSET, MIN_OPSET } from '@effnet/onnx-export';
import { onnxruntimeStatistics, type PrepareOptions } from '@effnet/pipeline';
import { BUILD_OPTIONS, type BuildOptionDef, type BuildOptionKey } from '@effnet/efficientnet';
import { UsageError } from '../errors.js';
import { batchOption, intInRange, LIMITS, numberInRange, positiveInt, tensorName } from '../parse.js';

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
  if (o.export) {
    cmd
      .option('--opset <N>', `ONNX opset, ${MIN_OPSET}..${MAX_OPSET}`, intInRange('--opset', MIN_OPSET, MAX_OPSET), 17)
      .option('--fold-bn', 'fold BatchNorm into the preceding conv')
      .option('--fp16', 'float16 weights and compute (float32 input/output)')
      .addOption(new Option('--fp16-io', 'with --fp16: float16 input/output as well').implies({ fp16: true }))
      .option('--explicit-pads', 'padding as plain Pad/Slice nodes: no negative Pad, no asymmetric Conv/MaxPool pads (OpenCV DNN, older converters)')
      .option('--input-name <name>', 'name of the graph input', tensorName('--input-name'), 'input')
      .option('--output-name <name>', 'name of the graph output', tensorName('--output-name'), 'logits');
  }
  return cmd;
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
  if (f.opset !== undefined) o.opset = f.opset;
  if (f.foldBn) o.foldBn = true;
  if (f.fp16) o.fp16 = true;
  if (f.fp16Io) o.fp16Io = true;
  if (f.explicitPads) o.explicitPads = true;
  if (f.inputName !== undefined && f.inputName === f.outputName) throw new UsageError(`--input-name and --output-name are both '${f.inputName}': give the input and the output different names`);
  if (f.inputName) o.inputName = f.inputName;
  if (f.outputName) o.outputName = f.outputName;
  return o;
}
