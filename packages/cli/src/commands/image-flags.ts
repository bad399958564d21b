/** Flags and model opening shared by the commands that feed images to a model: eval, classify, serve (and eval --compare). */
import { Option, type Command } from 'commander';
import { formatBytes, inferShapes } from '@effnet/graph-builder';
import {
  availableMemory,
  describeAvailable,
  inferenceMemory,
  largestFittingBatch,
  MemoryLimitError,
  SUGGESTION_MARGIN,
  openModel,
  type FileModel,
  type ModelHandle,
  type PreparedModel,
} from '@effnet/pipeline';
import { NODE_EPS, type NodeEp } from '@effnet/runtime';
import { UsageError } from '../errors.js';
import { choice, LIMITS, numberInRange, numberList, threadsOption } from '../parse.js';
import { prepareOptions, type ModelFlags } from './common.js';

/** Flags shared by eval and classify: model preprocessing and where it runs. */
export interface PreprocessFlags {
  cropPct?: number;
  interpolation?: 'bicubic' | 'bilinear';
  mean?: number[];
  std?: number[];
  ep: NodeEp;
  threads?: number;
}

export function addPreprocessOptions(cmd: Command): Command {
  return cmd
    .option(
      '--crop-pct <P>',
      `resize the shorter side to floor(R / P) before the R×R center crop, ${LIMITS.cropPct.min}..${LIMITS.cropPct.max} (default: the model's, 0.875)`,
      numberInRange('--crop-pct', LIMITS.cropPct.min, LIMITS.cropPct.max),
    )
    .addOption(new Option('--interpolation <mode>', "resize filter: bicubic or bilinear (default: the model's)").argParser(choice('--interpolation', ['bicubic', 'bilinear'] as const)))
    .option('--mean <r,g,b>', "normalization mean (default: the model's, ImageNet's)", numberList('--mean', 3))
    .option('--std <r,g,b>', "normalization std (default: the model's, ImageNet's)", numberList('--std', 3))
    .addOption(new Option('--ep <ep>', `execution provider: ${NODE_EPS.join(', ')}`).argParser(choice('--ep', NODE_EPS)).default('cpu'))
    .option('--threads <N>', `intra-op threads, 1..${LIMITS.threads} (default: the runtime's choice)`, threadsOption('--threads'));
}

/** The model (id or .onnx file) with its preprocessing after flag overrides. */
export function openForImages(ref: string, f: ModelFlags & PreprocessFlags) {
  const model = openModel(ref, { ...prepareOptions(f), batch: 'dynamic' });
  if (model.kind === 'file' && f.weights !== undefined) throw new UsageError(`--weights: ${ref} is an .onnx file with its own weights; --weights applies to model ids`);
  if (model.kind === 'file' && f.resolution !== undefined && f.resolution !== model.resolution)
    throw new UsageError(`--resolution ${f.resolution}: ${ref} has a fixed ${model.resolution}x${model.resolution} input`);
  const p = model.preprocess;
  const preprocess = {
    resolution: model.resolution,
    cropPct: f.cropPct ?? p.cropPct,
    interpolation: f.interpolation ?? p.interpolation,
    mean: f.mean ?? [...p.mean],
    std: f.std ?? [...p.std],
  };
  if (preprocess.std.some((s) => s === 0)) throw new UsageError(`--std ${preprocess.std.join(',')}: values must be non-zero`);
  return { model, preprocess, fixedBatch: fixedBatchOf(model) };
}

/** The batch size an .onnx file's input fixes, if any. */
function fixedBatchOf(model: ModelHandle): number | undefined {
  if (model.kind !== 'file') return undefined;
  const d = (model as FileModel).loaded.ir.inputs[0]?.shape[0];
  return typeof d === 'number' ? d : undefined;
}

/**
 * Refuses (MemoryLimitError, before anything runs) an inference run of `model` on batches of
 * `batch` images, `inFlight` of them held at once, that is estimated (pipeline's inferenceMemory,
 * from the graph's shapes) not to fit in the available memory; the message gives the estimate and
 * the largest batch that fits. Files whose input size is not fixed are not estimated.
 */
export function checkBatchMemory(model: ModelHandle, batch: number, inFlight: number, flag = '--batch'): void {
  let ir = model.kind === 'built' ? (model as PreparedModel).ir : (model as FileModel).loaded.ir;
  if (!ir.inputs[0]?.shape.slice(1).every((d) => typeof d === 'number')) return;
  if (ir.values.length === 0) ir = inferShapes(ir);
  const need = inferenceMemory(ir, batch, { inFlight });
  const available = availableMemory();
  if (need.bytes <= available) return;
  const fits = largestFittingBatch(need, SUGGESTION_MARGIN * available);
  throw new MemoryLimitError(
    `${flag} ${batch}: ${model.label} at ${model.resolution} px needs about ${formatBytes(need.bytes)} (${formatBytes(need.perImage)} an image; activations estimated from the graph's shapes), ` +
      `${describeAvailable(available)}: ${fits > 0 ? `use ${flag} ${fits} or less` : 'not even one image fits; use a smaller --resolution'}`,
  );
}
