/**
 * BatchNorm calibration: running statistics measured on a deterministic input in one forward pass,
 * so that formula-weight models give input-dependent outputs (with identity statistics the signal
 * of an EfficientNet vanishes through the SiLU/SE gates and every logit equals the classifier bias).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { batchNormStatsGraph, type GraphIR, type InitializerIR } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { DEFAULT_OPSET, writeModel } from '@effnet/onnx-export';

export interface CalibrateOptions {
  /** Calibration batch size (default 2, as the reference fixtures were calibrated): input formulaInput([batch,3,H,W]). */
  readonly batch?: number;
}

/** Calibration batch of the reference fixtures (../shared/fixtures: a formula batch of 2). */
export const CALIBRATION_BATCH = 2;

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
  const batch = o.batch ?? CALIBRATION_BATCH;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`calibration batch must be a positive integer, got ${batch}`);
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
  const dir = mkdtempSync(join(tmpdir(), 'effnet-calibrate-'));
  try {
    const path = join(dir, 'batch-stats.onnx');
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
      const why = r.stderr.toString().trim().split('\n').filter((l) => /error/i.test(l)).pop() ?? `exit ${r.status ?? r.signal}`;
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
      for (const [name, v] of [[s.mean, mean], [s.variance, variance]] as const) {
        if (!v.every(Number.isFinite)) throw new Error(`calibrateBatchNorm: graph '${ir.name}': '${name}' is not finite`);
        out.set(name, v);
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `ir` with every BatchNorm running_mean/running_var initializer replaced by statistics measured
 * by {@link batchNormStatistics}. Lazy: nothing runs until the first of them is materialized
 * (serialize/write, fold-bn); then all are measured at once, on the graph as given.
 */
export function calibrateBatchNorm(ir: GraphIR, o: CalibrateOptions = {}): GraphIR {
  const { stats } = batchNormStatsGraph(ir);
  if (stats.length === 0) return ir;
  const names = new Set(stats.flatMap((s) => [s.mean, s.variance]));
  let measured: Map<string, Float32Array> | undefined;
  const initializers = ir.initializers.map((i): InitializerIR => {
    if (!names.has(i.name)) return i;
    if (i.dtype !== 'float32') throw new Error(`calibrateBatchNorm: '${i.name}' is ${i.dtype}; calibrate before converting to float16`);
    return {
      ...i,
      data: () => {
        measured ??= batchNormStatistics(ir, o);
        return measured.get(i.name)!;
      },
    };
  });
  return { ...ir, initializers };
}
