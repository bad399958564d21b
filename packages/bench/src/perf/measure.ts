/**
 * One measurement: a model (id or .onnx file) at one batch size on one execution provider.
 * Runs in a child process by default (see run.ts) so that a native crash in an EP, and the
 * model's memory, stay there.
 */
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { findModel, formulaInput, type BuildOptionKey } from '@effnet/efficientnet';
import { graphStats, inferShapes, type GraphIR } from '@effnet/graph-builder';
import { INLINE_LIMIT_BYTES, initializerBytes } from '@effnet/onnx-export';
import { onnxruntimeStatistics, openModel, type FileModel, type ModelHandle, type PreparedModel, type PrepareOptions } from '@effnet/pipeline';
import { makeTempDir } from '@effnet/safe-fs';
import { createRunner, maxAbsDiff, type NodeEp, type Output, type Runner } from '@effnet/runtime';
import { measureLatency, type LatencyStats } from './timing.js';

/**
 * The model-building options a job can carry (plain data: it crosses process boundaries): every
 * declared build option (BUILD_OPTIONS) plus the export passes.
 */
export interface JobModelOptions extends Readonly<Partial<Record<BuildOptionKey, number>>> {
  readonly foldBn?: boolean;
  readonly fp16?: boolean;
  readonly opset?: number;
}

export interface TimingSettings {
  readonly warmup: number;
  readonly iterations: number;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}

export interface BenchJob {
  /** Model id or path of an .onnx file. */
  readonly ref: string;
  readonly model: JobModelOptions;
  readonly ep: NodeEp;
  readonly batch: number;
  readonly threads?: number;
  readonly timing: TimingSettings;
  /** Scratch directory for models over 2 GiB (the parent removes it, even after a crash). */
  readonly tmpDir?: string;
}

export interface ModelResult {
  /** The model id (a file's effnet.model metadata, else its file name): what published figures are looked up by. */
  readonly model: string;
  /** What tables, reports and charts call the row: the model id, or the file's name; with the precision unless float32. */
  readonly label: string;
  /** float32, float16 or int8 (an effnet file's effnet.precision; built models: --fp16). */
  readonly precision: 'fp32' | 'fp16' | 'int8';
  readonly numClasses: number;
  /**
   * Whether the paper's figures describe this row: the model id's own architecture at its own
   * resolution, 1000 classes, float32. Otherwise no published figure is put beside it.
   */
  readonly paperComparable: boolean;
  /** The WebGPU adapter the row ran on (web-webgpu: the page's; webgpu: SwiftShader when VK_ICD_FILENAMES points at it). */
  readonly adapter?: string;
  /** What the user named: model id or file path. */
  readonly ref: string;
  readonly source: 'built' | 'file';
  readonly ep: NodeEp;
  readonly batch: number;
  readonly resolution: number;
  /** Parameters counted from the graph (PyTorch convention: BN running statistics excluded). */
  readonly params: number;
  /** Multiply-adds per image counted from the graph (the paper's "FLOPs"). */
  readonly macs: number;
  /** 2 × MACs. */
  readonly flops: number;
  /** False when some Conv/Gemm/MatMul shapes could not be inferred from a file: macs is then a lower bound. */
  readonly macsComplete: boolean;
  /** Nodes of the graph that ran (after --fold-bn and the like). */
  readonly nodes: number;
  /** Size of the ONNX model that ran, bytes. */
  readonly modelBytes: number;
  readonly sessionCreateMs: number;
  /** Per-inference (one batch) latency, milliseconds. */
  readonly latencyMs: LatencyStats;
  /** Images per second: batch ÷ mean latency. */
  readonly throughput: number;
  /** Untimed runs before timing (the first one also checks the output against cpu). */
  readonly warmup: number;
  /** True when --max-time stopped the timing before --iterations runs. */
  readonly truncated: boolean;
  /** Largest absolute difference of this EP's output against the cpu EP on the same input (non-cpu EPs). */
  readonly maxAbsDiffVsCpu?: number;
  /** Peak resident set size of the process that built and ran the model, bytes. */
  readonly peakRssBytes: number;
  /** Resident set size after the session was released, bytes. */
  readonly rssAfterReleaseBytes: number;
  /** True when the measurement ran in its own process (peak RSS is then this model's alone). */
  readonly isolated: boolean;
}

export type Phase = 'build' | 'reference' | 'session' | 'warmup' | 'measure' | 'release';

export type ProgressEvent =
  | { readonly kind: 'phase'; readonly phase: Phase }
  | { readonly kind: 'warmup'; readonly done: number; readonly total: number }
  | { readonly kind: 'iteration'; readonly done: number; readonly elapsedMs: number };

/** The graph that runs: after passes for a built model, as read for a file. */
function graphOf(h: ModelHandle): GraphIR {
  return h.kind === 'file' ? (h as FileModel).loaded.ir : (h as PreparedModel).ir;
}

function open(job: BenchJob): ModelHandle {
  // Default weights calibrated as `effnet export` calibrates them (the provider cannot cross the process boundary in job.model).
  const o: PrepareOptions = { ...job.model, batch: job.batch, statistics: onnxruntimeStatistics };
  const handle = openModel(job.ref, o);
  const n = graphOf(handle).inputs[0]?.shape[0];
  if (typeof n === 'number' && n !== job.batch) throw new Error(`${job.ref}: input batch is fixed at ${n}; cannot run batch ${job.batch}`);
  return handle;
}

/** The WebGPU adapter a row ran on, when the EP is WebGPU. */
function adapterOf(ep: NodeEp, pageAdapter: string | null): string | undefined {
  if (ep === 'web-webgpu') return pageAdapter ?? undefined;
  if (ep === 'webgpu') return /swiftshader/i.test(process.env.VK_ICD_FILENAMES ?? '') ? 'SwiftShader (Vulkan, VK_ICD_FILENAMES)' : 'the Vulkan driver onnxruntime-node found';
  return undefined;
}

/** The precision a handle runs in. */
function precisionOf(handle: ModelHandle, job: BenchJob): ModelResult['precision'] {
  const p = handle.metadata['effnet.precision'];
  if (p === 'int8' || p === 'fp16' || p === 'float16') return p === 'int8' ? 'int8' : 'fp16';
  if (handle.kind === 'built' && (job.model as { fp16?: boolean }).fp16) return 'fp16';
  return 'fp32';
}

/** A row's name: the id for built models, the file name for files; the precision beside anything not float32. */
function rowLabel(handle: ModelHandle, precision: ModelResult['precision']): string {
  const own = defaultResolution(handle.label);
  const base = handle.kind === 'file' ? basename(handle.ref) : own !== undefined && own !== handle.resolution ? `${handle.label} @${handle.resolution}` : handle.label;
  return precision === 'fp32' ? base : `${base} (${precision})`;
}

/** A model id's own resolution, or undefined for names that are no model id. */
function defaultResolution(id: string): number | undefined {
  try {
    return findModel(id).resolution;
  } catch {
    return undefined;
  }
}

/** Runs one job in this process. */
export async function measureJob(job: BenchJob, onProgress: (e: ProgressEvent) => void = () => {}, isolated = false): Promise<ModelResult> {
  onProgress({ kind: 'phase', phase: 'build' });
  const handle = open(job);
  const { source, modelBytes, cleanup } = await materialize(handle, job.tmpDir);
  try {
    return await measureOpened(job, handle, source, modelBytes, onProgress, isolated);
  } finally {
    cleanup();
  }
}

/**
 * What onnxruntime loads: ONNX bytes, or for a built model over protobuf's 2 GiB limit
 * (AmoebaNet-B at full size) a temporary .onnx + external data file; or the user's file.
 */
async function materialize(h: ModelHandle, scratch?: string): Promise<{ source: Uint8Array | string; modelBytes: number; cleanup: () => void }> {
  if (h.kind === 'file') {
    return { source: h.source() as string, modelBytes: (h as FileModel).loaded.fileBytes, cleanup: () => {} };
  }
  const p = h as PreparedModel;
  if (initializerBytes(p.ir) <= INLINE_LIMIT_BYTES) {
    const bytes = p.serialize();
    return { source: bytes, modelBytes: bytes.byteLength, cleanup: () => {} };
  }
  // Removed also on Ctrl-C/SIGTERM; written with yields so such a signal is handled during the write.
  const dir = makeTempDir('effnet-bench-', scratch ?? tmpdir());
  try {
    const w = await p.writeAsync(join(dir.path, `${p.label}.onnx`), { externalData: true });
    return { source: w.path, modelBytes: w.bytes + (w.dataBytes ?? 0), cleanup: dir.remove };
  } catch (e) {
    dir.remove();
    throw e;
  }
}

/** Non-finite outputs (NaN/Inf logits) make a latency meaningless: the job fails, naming the model and the EP. */
function checkFinite(out: Output, job: BenchJob): void {
  let bad = 0;
  let first = NaN;
  for (const v of out.data) {
    if (!Number.isFinite(v)) {
      if (bad++ === 0) first = v;
    }
  }
  if (bad)
    throw new Error(
      `${job.ref} on ${job.ep}: the output has ${bad} non-finite value${bad === 1 ? '' : 's'} (first: ${first}) of ${out.data.length} on the first run; the model computes NaN/Inf on this input`,
    );
}

/** The picture an embedded-preprocessing file is timed on: a typical 500×375 photo (deterministic pattern), `batch` of them. */
export const BENCH_PHOTO = { width: 500, height: 375 } as const;

function benchPhotos(batch: number): { data: Uint8Array; dims: number[] } {
  const dims = [batch, BENCH_PHOTO.height, BENCH_PHOTO.width, 3];
  const data = new Uint8Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9) * 13) & 255;
  return { data, dims };
}

async function measureOpened(job: BenchJob, handle: ModelHandle, source: Uint8Array | string, modelBytes: number, onProgress: (e: ProgressEvent) => void, isolated: boolean): Promise<ModelResult> {
  const dims = [job.batch, 3, handle.resolution, handle.resolution];
  const input = formulaInput(dims);
  // An embedded-preprocessing file is timed as it is used: decoded pictures in, resize and crop included.
  const photos = handle.metadata['effnet.embedded_preprocessing'] === 'true' ? benchPhotos(job.batch) : undefined;
  const feed = (r: Runner) => (photos ? r.runPixels(photos.data, photos.dims) : r.run(input, dims));
  const runnerOptions = { inputKind: handle.inputKind, ...(job.threads ? { threads: job.threads } : {}) };

  let reference: Output | undefined;
  if (job.ep !== 'cpu') {
    onProgress({ kind: 'phase', phase: 'reference' });
    const cpu = await createRunner(source, { ...runnerOptions, ep: 'cpu' });
    try {
      reference = await feed(cpu);
    } finally {
      await cpu.release();
    }
  }

  onProgress({ kind: 'phase', phase: 'session' });
  const runner = await createRunner(source, { ...runnerOptions, ep: job.ep });
  const adapter = runner.adapter;
  let timing;
  let diff: number | undefined;
  try {
    const warmup = Math.max(job.timing.warmup, reference ? 1 : 0);
    onProgress({ kind: 'phase', phase: 'warmup' });
    if (reference) {
      const out = await feed(runner);
      checkFinite(out, job);
      diff = maxAbsDiff(reference.data, out.data);
      onProgress({ kind: 'warmup', done: 1, total: warmup });
    }
    const done = reference ? 1 : 0;
    let measuring = false;
    const iteration = (n: number, elapsedMs: number) => {
      if (!measuring) {
        measuring = true;
        onProgress({ kind: 'phase', phase: 'measure' });
      }
      onProgress({ kind: 'iteration', done: n, elapsedMs });
    };
    // The first run's output (a warm-up unless --warmup 0) is checked once: NaN/Inf logits fail the job.
    let checked = reference !== undefined;
    const once = async () => {
      const out = await feed(runner);
      if (!checked) {
        checked = true;
        checkFinite(out, job);
      }
    };
    timing = await measureLatency(once, {
      warmup: warmup - done,
      iterations: job.timing.iterations,
      minTimeMs: job.timing.minTimeMs,
      maxTimeMs: job.timing.maxTimeMs,
      onWarmup: (n) => onProgress({ kind: 'warmup', done: n + done, total: warmup }),
      onIteration: iteration,
    });
    timing = { ...timing, warmup };
  } finally {
    onProgress({ kind: 'phase', phase: 'release' });
    await runner.release();
  }
  const latency = timing.latency;
  // Files from other exporters often lack intermediate shapes: infer them to count MACs.
  const counted = handle.kind === 'file' && !handle.stats.macsComplete ? graphStats(inferShapes(graphOf(handle))) : handle.stats;
  // An effnet file states the architecture's parameters as PyTorch counts them (before BatchNorm
  // folding, quantization or float16): the figure its export printed, not the folded graph's.
  const declared = Number(handle.metadata['effnet.params']);
  const stats = Number.isSafeInteger(declared) && declared > 0 ? { ...counted, params: declared } : counted;
  const precision = precisionOf(handle, job);
  return {
    model: handle.label,
    label: rowLabel(handle, precision),
    precision,
    numClasses: handle.numClasses,
    paperComparable: precision === 'fp32' && handle.numClasses === 1000 && defaultResolution(handle.label) === handle.resolution,
    ref: job.ref,
    ...(adapterOf(job.ep, adapter) ? { adapter: adapterOf(job.ep, adapter)! } : {}),
    source: handle.kind,
    ep: job.ep,
    batch: job.batch,
    resolution: handle.resolution,
    params: stats.params,
    macs: stats.macs,
    flops: 2 * stats.macs,
    macsComplete: stats.macsComplete,
    nodes: graphOf(handle).nodes.length,
    modelBytes,
    sessionCreateMs: runner.createMs,
    latencyMs: latency,
    throughput: (job.batch * 1000) / latency.mean,
    warmup: timing.warmup,
    truncated: timing.truncated,
    ...(diff !== undefined ? { maxAbsDiffVsCpu: diff } : {}),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rssAfterReleaseBytes: process.memoryUsage.rss(),
    isolated,
  };
}
