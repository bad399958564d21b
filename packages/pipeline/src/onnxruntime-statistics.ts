/**
 * The StatisticsProvider the effnet CLI and bench inject into the pipeline: onnxruntime-node, run in
 * a child process. onnxruntime-node is only resolved here (its path) and imported in the child, so
 * importing the pipeline never loads it.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { batchNormStatsGraph, type GraphIR } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { DEFAULT_OPSET, writeModel } from '@effnet/onnx-export';
import { makeTempDir } from '@effnet/safe-fs';
import { calibrationBatch, type CalibrateOptions, type StatisticsProvider } from './calibrate.js';

/**
 * The child process (node --input-type=module -e): runs the stats graph once in onnxruntime-node
 * on the CPU, single-threaded, and writes the float32 outputs, concatenated in the order asked, to
 * stdout. A separate process because onnxruntime's API is asynchronous and calibration runs inside
 * synchronous weight materialization. argv: onnxruntime-node module URL, model path, input name,
 * dims JSON, output names JSON; stdin: the float32 input. Arena and memory pattern are off: peak
 * memory of an EfficientNet-B7 run ~20% lower at the same CPU time.
 */
const CHILD = `import { readFileSync } from 'node:fs';

const [ortUrl, modelPath, inputName, dimsJson, outputsJson] = process.argv.slice(1);
const ort = (await import(ortUrl)).default;
const dims = JSON.parse(dimsJson);
const outputs = JSON.parse(outputsJson);
const raw = readFileSync(0);
const input = new Float32Array(Uint8Array.from(raw).buffer);
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  logSeverityLevel: 3,
  enableCpuMemArena: false,
  enableMemPattern: false,
});
const result = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) }, outputs);
for (const name of outputs) {
  const t = result[name];
  if (!t || t.type !== 'float32') throw new Error('output ' + name + ' is ' + (t ? t.type : 'missing') + '; expected float32');
  process.stdout.write(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}
await session.release();
`;

/**
 * Measures every BatchNormalization's batch statistics (see batchNormStatsGraph) on
 * formulaInput([batch, ...input dims after the batch]) with onnxruntime-node on the CPU,
 * single-threaded, so the result is bit-identical run to run. The variance is the biased one the batch
 * was normalized with, so the eval-mode model reproduces the calibration pass exactly (every BN maps
 * the calibration batch to per-channel mean β, variance γ²·v/(v+ε)); PyTorch's momentum=None
 * calibration stores the unbiased n/(n−1)·v instead, which compounds to a few percent drift over
 * many layers where n = batch·H·W is small. Synchronous (a child process), so it can run inside lazy weight materialization.
 * Returns the statistics by running-stat initializer name.
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
  // Batch-independent: the stats graph takes any batch (value_info dropped; every model here is batch-agnostic past its input).
  const graph: GraphIR = { ...statsIr, inputs: [{ ...input, shape: ['N', ...rest] }], values: [] };
  const names = stats.flatMap((s) => [s.mean, s.variance]);
  // Removed at exit and on signals; one left by a killed process is removed by the next calibration.
  const tmp = makeTempDir('effnet-calibrate-');
  try {
    const path = join(tmp.path, 'batch-stats.onnx');
    writeModel(graph, path, { opset: Math.max(DEFAULT_OPSET, ir.minOpset), externalData: true });
    const x = formulaInput(dims);
    const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
    const expected = stats.reduce((p, s) => p + 2 * s.channels * 4, 0);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, ortUrl, path, input.name, JSON.stringify(dims), JSON.stringify(names)], {
      input: Buffer.from(x.buffer, x.byteOffset, x.byteLength),
      maxBuffer: expected + 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (r.error) throw new Error(`calibrateBatchNorm: graph '${ir.name}': ${r.error.message}`);
    if (r.status !== 0) {
      const why =
        r.stderr
          .toString()
          .trim()
          .split('\n')
          .filter((l) => /error/i.test(l))
          .pop() ?? `exit ${r.status ?? r.signal}`;
      throw new Error(`calibrateBatchNorm: graph '${ir.name}': onnxruntime run failed: ${why}`);
    }
    if (r.stdout.length !== expected) throw new Error(`calibrateBatchNorm: graph '${ir.name}': got ${r.stdout.length} bytes of statistics, expected ${expected}`);
    const all = new Float32Array(r.stdout.buffer.slice(r.stdout.byteOffset, r.stdout.byteOffset + expected));
    const out = new Map<string, Float32Array>();
    let at = 0;
    for (const s of stats) {
      const mean = all.slice(at, at + s.channels);
      const variance = all.slice(at + s.channels, at + 2 * s.channels);
      at += 2 * s.channels;
      out.set(s.mean, mean);
      out.set(s.variance, variance);
    }
    return out;
  } finally {
    tmp.remove();
  }
}

/** {@link batchNormStatistics} as a StatisticsProvider: pass it as PrepareOptions.statistics. */
export const onnxruntimeStatistics: StatisticsProvider = { name: 'onnxruntime-node', batchNormStatistics };
