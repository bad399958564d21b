/** Options shared by the commands that build a model. */
import { Option, type Command } from 'commander';
import { MAX_OPSET, MIN_OPSET } from '@effnet/onnx-export';
import { onnxruntimeStatistics, type PrepareOptions } from '@effnet/pipeline';
import { UsageError } from '../errors.js';
import { batchOption, intInRange, numberInRange, positiveInt, tensorName } from '../parse.js';

/**
 * Upper bounds on the architecture flags. Generous (B7 is φ≈6, width 2.0, depth 3.1; GPipe's largest
 * AmoebaNet-B is (36, 1024)) but finite: depth grows the graph itself, and φ=200 or --depth 1e9
 * would build for ever instead of failing.
 */
const MAX_PHI = 20;
const MAX_MULTIPLIER = 50;
const MAX_CELLS = 1000;
const MAX_FILTERS = 16384;

export interface ModelFlags {
  resolution?: number;
  numClasses?: number;
  batch?: number | 'dynamic';
  opset?: number;
  foldBn?: boolean;
  fp16?: boolean;
  fp16Io?: boolean;
  explicitPads?: boolean;
  inputName?: string;
  outputName?: string;
  weights?: string;
  cells?: number;
  filters?: number;
  phi?: number;
  width?: number;
  depth?: number;
}

export function addModelOptions(cmd: Command, o: { batch?: boolean; export?: boolean } = {}): Command {
  cmd
    .option('--resolution <R>', 'input resolution (default: the model\'s own)', positiveInt('--resolution'))
    .option('--num-classes <K>', 'classifier outputs (default 1000, or from --weights)', positiveInt('--num-classes'))
    .option('--weights <file>', 'trained weights (.safetensors, timm or torchvision naming)')
    .option('--cells <N>', `AmoebaNet: normal cells in total, up to ${MAX_CELLS} (default 18)`, intInRange('--cells', 1, MAX_CELLS))
    .option('--filters <F>', `AmoebaNet: filters of the first cell stack, a multiple of 4 up to ${MAX_FILTERS} (default 512)`, intInRange('--filters', 1, MAX_FILTERS))
    .option('--phi <P>', `model 'efficientnet': compound coefficient φ, 0..${MAX_PHI} (α=1.2, β=1.1, γ=1.15)`, numberInRange('--phi', 0, MAX_PHI))
    .option('--width <W>', `model 'efficientnet': width multiplier, up to ${MAX_MULTIPLIER} (overrides φ's)`, numberInRange('--width', 0, MAX_MULTIPLIER, { aboveLo: true }))
    .option('--depth <D>', `model 'efficientnet': depth multiplier, up to ${MAX_MULTIPLIER} (overrides φ's)`, numberInRange('--depth', 0, MAX_MULTIPLIER, { aboveLo: true }));
  if (o.batch !== false) cmd.option('--batch <N|dynamic>', 'fixed batch size or dynamic', batchOption);
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
  if (f.resolution !== undefined) o.resolution = f.resolution;
  if (f.numClasses !== undefined) o.numClasses = f.numClasses;
  if (f.batch !== undefined) o.batch = f.batch;
  if (f.cells !== undefined) o.cells = f.cells;
  if (f.filters !== undefined) o.filters = f.filters;
  if (f.phi !== undefined) o.phi = f.phi;
  if (f.width !== undefined) o.width = f.width;
  if (f.depth !== undefined) o.depth = f.depth;
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
