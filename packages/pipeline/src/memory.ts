/**
 * Memory checks before a run that could exhaust the machine: what this process may still use, and
 * the error that refuses a run estimated not to fit (a runtime error: the same command fits on a
 * bigger machine). Estimates come from graph-builder's estimateMemory (activation sizes by shape).
 */
import { freemem as osFreemem, totalmem } from 'node:os';
import { batchNormStatsGraph, estimateMemory, formatBytes, numel, OptionError, type GraphIR } from '@effnet/graph-builder';

/** Environment variable capping the memory effnet plans to use, bytes (`2G`, `500M`, `1.5e9` also read). */
export const MEMORY_LIMIT_ENV = 'EFFNET_MEMORY_LIMIT';

/**
 * The cap from EFFNET_MEMORY_LIMIT, bytes (decimal units: k, M, G, T; a trailing B is allowed), or
 * undefined when unset. OptionError naming the variable for anything else.
 */
export function memoryLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[MEMORY_LIMIT_ENV];
  if (raw === undefined || raw === '') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kMGT]?)B?\s*$/i.exec(raw);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[(m?.[2] ?? '').toLowerCase()];
  const bytes = m && unit ? Number(m[1]) * unit : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) throw new OptionError(MEMORY_LIMIT_ENV, `${MEMORY_LIMIT_ENV}=${JSON.stringify(raw)}: expected a size in bytes such as 4G, 500M or 2000000000`);
  return bytes;
}

/**
 * Memory this process may still use, bytes: the system's available memory (MemAvailable), within a
 * cgroup limit when there is one, and within EFFNET_MEMORY_LIMIT (minus what this process already
 * holds) when that is set.
 */
export function availableMemory(): number {
  const rss = process.memoryUsage.rss();
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  let free = osFreemem();
  if (limit > 0 && limit < 2 ** 60) free = Math.min(free, Math.max(0, limit - rss));
  const cap = memoryLimitFromEnv();
  return cap !== undefined ? Math.min(free, Math.max(0, cap - rss)) : free;
}

/** Share of the available memory a suggested size or batch is fitted into: what a process holds varies from run to run. */
export const SUGGESTION_MARGIN = 0.9;

/** The machine in refusals: '8.0 GB available of 25.3 GB' (and the EFFNET_MEMORY_LIMIT cap when set). */
export function describeAvailable(available: number): string {
  const cap = memoryLimitFromEnv();
  return `${formatBytes(available)} available of ${formatBytes(totalmem())}${cap !== undefined ? ` (${MEMORY_LIMIT_ENV}=${formatBytes(cap)})` : ''}`;
}

/** A run estimated not to fit in the memory available; thrown before it starts (exit 1 in the CLI). */
export class MemoryLimitError extends Error {
  override name = 'MemoryLimitError';
}

/**
 * Resident memory of a Node process with onnxruntime-node loaded and a session open, bytes, before
 * any tensor: measured about 120–150 MB (`/usr/bin/time -v`, B0 at 1 px).
 */
export const RUNTIME_BASELINE_BYTES = 150e6;

/** What a run is estimated to need, bytes, and the part that grows with the input's pixels (the rest is fixed). */
export interface RunMemory {
  readonly bytes: number;
  readonly scaling: number;
}

/**
 * Memory the BatchNorm-statistics run of `ir` adds to the machine, bytes: the child process
 * (onnxruntime's baseline, the weights, the input it reads, and the activations of the statistics
 * graph alive at once, by graph-builder's estimateMemory in node order) plus the input's two copies
 * in this process (the formula tensor and the bytes piped to the child). Measured with
 * the summed RSS of effnet and its child (Lite0 at 1024 and 2048 px, B0 and ResNet-50 at 1024 px): 4–14% under
 * the peak, the rest being what effnet held before the run (README "Errors and exit codes").
 */
export function statisticsMemory(ir: GraphIR, batch: number): RunMemory {
  const stats = estimateMemory(batchNormStatsGraph(ir).ir, { batch });
  const input = ir.inputs[0];
  const inputBytes = input ? batch * numel(input.shape.slice(1).map((d) => (typeof d === 'number' ? d : 1))) * 4 : 0;
  const scaling = stats.activationBytes + 3 * inputBytes;
  return { bytes: RUNTIME_BASELINE_BYTES + 2 * stats.initializerBytes + scaling, scaling };
}

/**
 * The largest square input side, a multiple of 8 not above `resolution`, whose run fits in
 * `available` bytes, assuming the pixel-dependent part grows with the pixel count; undefined when
 * even the fixed part does not fit.
 */
export function largestFittingResolution(m: RunMemory, resolution: number, available: number): number | undefined {
  const fixed = m.bytes - m.scaling;
  if (available <= fixed || m.scaling <= 0) return undefined;
  const r = Math.floor((resolution * Math.sqrt((available - fixed) / m.scaling)) / 8) * 8;
  return r >= 8 ? Math.min(r, resolution) : undefined;
}

/**
 * onnxruntime-node's CPU arena over the activations graph-builder's estimateMemory counts: 2.2×, from
 * `effnet eval` of B0 at 224 px (batch 16, 128, 512: 0.68, 4.25, 15.3 GB peak RSS; estimates 0.93,
 * 4.69, 17.6 GB, on the safe side; README "Errors and exit codes").
 */
export const ARENA_FACTOR = 2.2;

/** Resident memory of `effnet eval` before its first batch (Node, sharp, onnxruntime, the session), bytes. */
export const EVAL_BASELINE_BYTES = 350e6;

/** {@link RunMemory} of an inference run, with the part each image of the batch adds. */
export interface InferenceMemory extends RunMemory {
  readonly perImage: number;
}

/**
 * Memory of running `ir` in this process on batches of `batch` images with `inFlight` preprocessed
 * batches held at once (eval: the running one plus --prefetch): the baseline, the weights twice
 * (the file's bytes and onnxruntime's copy), {@link ARENA_FACTOR} × the activations alive at once, and
 * the float32 input batches.
 */
export function inferenceMemory(ir: GraphIR, batch: number, o: { readonly inFlight?: number } = {}): InferenceMemory {
  const e = estimateMemory(ir, { batch });
  const input = ir.inputs[0];
  const inputPerImage = input ? numel(input.shape.slice(1).map((d) => (typeof d === 'number' ? d : 1))) * 4 : 0;
  const scaling = ARENA_FACTOR * e.activationBytes + (o.inFlight ?? 1) * batch * inputPerImage;
  return { bytes: EVAL_BASELINE_BYTES + 2 * e.initializerBytes + scaling, scaling, perImage: scaling / batch };
}

/** The largest batch whose run fits in `available` bytes (0 when not even one image fits). */
export function largestFittingBatch(m: InferenceMemory, available: number): number {
  return Math.max(0, Math.floor((available - (m.bytes - m.scaling)) / m.perImage));
}
