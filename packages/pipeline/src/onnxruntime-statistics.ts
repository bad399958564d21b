/**
 * The StatisticsProvider the effnet CLI and bench inject into the pipeline: onnxruntime-node, run in
 * a child process by @effnet/runtime (runInChildProcess), so importing the pipeline never loads it.
 * A child process because onnxruntime's API is asynchronous and calibration runs inside synchronous
 * weight materialization.
 */
import { join } from 'node:path';
import { batchNormStatsGraph, formatBytes, type GraphIR } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { DEFAULT_OPSET, writeModel } from '@effnet/onnx-export';
import { runInChildProcess, tensor } from '@effnet/runtime';
import { makeTempDir } from '@effnet/safe-fs';
import { calibrationBatch, type CalibrateOptions, type StatisticsProvider } from './calibrate.js';
import { availableMemory, describeAvailable, largestFittingResolution, MemoryLimitError, statisticsMemory, SUGGESTION_MARGIN } from './memory.js';

/**
 * Measures every BatchNormalization's batch statistics (see batchNormStatsGraph) on
 * formulaInput([batch, ...input dims after the batch]) with onnxruntime-node on the CPU,
 * single-threaded, so the result is bit-identical run to run. The variance is the biased one the batch
 * was normalized with, so the eval-mode model reproduces the calibration pass exactly (every BN maps
 * the calibration batch to per-channel mean β, variance γ²·v/(v+ε)); PyTorch's momentum=None
 * calibration stores the unbiased n/(n−1)·v instead, which compounds to a few percent drift over
 * many layers where n = batch·H·W is small. Synchronous (a child process), so it can run inside lazy weight materialization.
 * Returns the statistics by running-stat initializer name. Refuses (MemoryLimitError), before
 * anything runs, a run estimated (statisticsMemory) to need more memory than is available.
 */
export function batchNormStatistics(ir: GraphIR, o: CalibrateOptions = {}): Map<string, Float32Array> {
  const batch = calibrationBatch(o);
  const input = ir.inputs[0];
  if (ir.inputs.length !== 1 || !input || input.dtype !== 'float32') throw new Error(`calibrateBatchNorm: graph '${ir.name}' needs exactly one float32 input`);
  const rest = input.shape.slice(1);
  if (!rest.every((d): d is number => typeof d === 'number')) throw new Error(`calibrateBatchNorm: input '${input.name}' is [${input.shape.join(',')}]; all dims after the batch must be fixed`);
  const dims = [batch, ...rest];
  const { ir: statsIr, stats } = batchNormStatsGraph(ir);
  if (stats.length === 0) return new Map();
  const need = statisticsMemory(ir, batch);
  const available = availableMemory();
  if (need.bytes > available) {
    const side = typeof rest[1] === 'number' && rest[1] === rest[2] ? rest[1] : undefined;
    const fit = side !== undefined ? largestFittingResolution(need, side, SUGGESTION_MARGIN * available) : undefined;
    throw new MemoryLimitError(
      `${ir.name} at ${rest.slice(1).join('x')} px: calibrating the default weights' BatchNorm statistics needs about ${formatBytes(need.bytes)} ` +
        `(a batch of ${batch}; activations estimated from the graph's shapes), ${describeAvailable(available)}: ` +
        `${fit !== undefined ? `use --resolution ${fit} or less` : 'use a smaller --resolution'}, give trained --weights, or free memory`,
    );
  }
  // Batch-independent: the stats graph takes any batch (value_info dropped; every model here is batch-agnostic past its input).
  const graph: GraphIR = { ...statsIr, inputs: [{ ...input, shape: ['N', ...rest] }], values: [] };
  const names = stats.flatMap((s) => [s.mean, s.variance]);
  // Removed at exit and on signals; one left by a killed process is removed by the next calibration.
  const tmp = makeTempDir('effnet-calibrate-');
  try {
    const path = join(tmp.path, 'batch-stats.onnx');
    writeModel(graph, path, { opset: Math.max(DEFAULT_OPSET, ir.minOpset), externalData: true });
    const label = `calibrateBatchNorm: graph '${ir.name}'`;
    // CPU, single-threaded, sequential: bit-identical run to run; arena and memory pattern off
    // (peak memory of an EfficientNet-B7 run ~20% lower at the same CPU time).
    const result = runInChildProcess(path, { [input.name]: tensor('float32', formulaInput(dims), dims) }, names, { threads: 1, lowMemory: true, label });
    const out = new Map<string, Float32Array>();
    for (const s of stats)
      for (const name of [s.mean, s.variance]) {
        const t = result[name];
        if (!t || t.type !== 'float32' || t.data.length !== s.channels)
          throw new Error(`${label}: statistic '${name}' is ${t ? `${t.type} [${t.dims.join(',')}]` : 'missing'}; expected ${s.channels} float32 values`);
        out.set(name, t.data as Float32Array);
      }
    return out;
  } finally {
    tmp.remove();
  }
}

/** {@link batchNormStatistics} as a StatisticsProvider: pass it as PrepareOptions.statistics. */
export const onnxruntimeStatistics: StatisticsProvider = { name: 'onnxruntime-node', batchNormStatistics };
