/**
 * A benchmark run: every model × batch size on one execution provider, each measured in its own
 * child process (isolated: a native crash in an EP becomes an error for that model, memory is
 * returned between models, peak RSS is per model) or in this process.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findModel } from '@effnet/efficientnet';
import { OptionError } from '@effnet/graph-builder';
import { isOnnxPath } from '@effnet/pipeline';
import { makeTempDir } from '@effnet/safe-fs';
import { checkEp, EpUnavailableError, type NodeEp } from '@effnet/runtime';
import { machineInfo, versions, type MachineInfo, type Versions } from './machine.js';
import { measureJob, type BenchJob, type JobModelOptions, type ModelResult, type ProgressEvent, type TimingSettings } from './measure.js';

export const RESULTS_SCHEMA = 'effnet-bench/1';

export interface BenchOptions {
  /** Model ids or .onnx paths. */
  readonly models: readonly string[];
  readonly ep: NodeEp;
  readonly batches: readonly number[];
  readonly threads?: number;
  readonly timing: TimingSettings;
  readonly model?: JobModelOptions;
  /** Measure each model in its own process (default true). */
  readonly isolate?: boolean;
}

/** A job that produced no result (results.json `failures`): the report is then partial. */
export interface FailedResult {
  /** Display name: the canonical model id, or the .onnx path as given. */
  readonly model: string;
  /** What the user named: model id or file path. */
  readonly ref: string;
  readonly ep: NodeEp;
  readonly batch: number;
  readonly error: string;
}

export interface BenchRun {
  readonly schema: typeof RESULTS_SCHEMA;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly machine: MachineInfo;
  readonly versions: Versions;
  readonly options: {
    readonly models: readonly string[];
    readonly ep: NodeEp;
    readonly batches: readonly number[];
    readonly threads: number | null;
    readonly warmup: number;
    readonly iterations: number;
    readonly minTimeMs: number;
    readonly maxTimeMs: number;
    readonly isolate: boolean;
    readonly model: JobModelOptions;
  };
  readonly results: readonly ModelResult[];
  readonly failures: readonly FailedResult[];
  /** Wall time of the whole run, ms. */
  readonly durationMs: number;
}

/** Messages from worker.ts. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly event: ProgressEvent }
  | { readonly type: 'result'; readonly result: ModelResult }
  /** An error does not survive IPC as its class: `epUnavailable` carries the one distinction the parent acts on (instanceof EpUnavailableError in the worker). */
  | { readonly type: 'error'; readonly epUnavailable: boolean; readonly name: string; readonly message: string; readonly stack?: string };

export type RunEvent =
  | { readonly kind: 'start'; readonly index: number; readonly total: number; readonly job: BenchJob }
  | { readonly kind: 'progress'; readonly index: number; readonly job: BenchJob; readonly event: ProgressEvent }
  | { readonly kind: 'done'; readonly index: number; readonly job: BenchJob; readonly result: ModelResult }
  | { readonly kind: 'failed'; readonly index: number; readonly job: BenchJob; readonly error: string };

/** Where the built worker lives (from sources under vitest, the built one next door). */
export function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? fileURLToPath(new URL('../../dist/perf/worker.js', import.meta.url)) : fileURLToPath(new URL('./worker.js', import.meta.url));
  if (!existsSync(js)) throw new Error(`${js}: the bench worker is not built (run \`npm run build\`), or measure in-process (--no-isolate)`);
  return js;
}

const CRASH_HINT: Partial<Record<NodeEp, string>> = {
  webgpu: "a crash inside onnxruntime's WebGPU EP (Dawn/Vulkan driver); try another Vulkan driver, or --ep cpu",
  cuda: "a crash inside onnxruntime's CUDA EP; check that CUDA 12 and cuDNN 9 match the installed provider",
};

/** Runs one job in a child process; resolves with its result, rejects with a one-line error. */
function runIsolated(job: BenchJob, onProgress: (e: ProgressEvent) => void): Promise<ModelResult> {
  const script = workerPath();
  // Scratch for the worker (a model over 2 GiB goes to disk): removed also on Ctrl-C/SIGTERM.
  const scratch = makeTempDir('effnet-bench-');
  const tmpDir = scratch.path;
  return new Promise<ModelResult>((resolve, reject) => {
    const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    let stderr = '';
    const keep = (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let settled: { ok: ModelResult } | { err: Error } | undefined;
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m.event);
      else if (m.type === 'result') settled = { ok: m.result };
      else {
        settled = { err: m.epUnavailable ? new EpUnavailableError(m.message) : new Error(m.message) };
      }
    });
    child.on('error', (e) => reject(new Error(`${job.ref}: could not start the bench worker: ${e.message}`)));
    child.on('exit', (code, signal) => {
      // A result that arrived counts even if the runtime crashed while tearing down afterwards.
      if (settled && 'ok' in settled) return resolve(settled.ok);
      if (settled) return reject(settled.err);
      const why = signal ? `crashed (${signal})` : `exited with code ${code}`;
      const last = lastLine(stderr);
      const hint = CRASH_HINT[job.ep];
      reject(new Error(`${job.ref} on ${job.ep}: the measuring process ${why}${hint ? ` — ${hint}` : ''}${last ? ` (last output: ${last})` : ''}`));
    });
    child.send({ ...job, tmpDir });
  }).finally(scratch.remove);
}

function lastLine(s: string): string {
  const lines = s
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^at /.test(l) && !/^Node\.js v/.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

/** Unknown model ids and missing files are usage errors: found before anything is measured. */
export function checkModels(models: readonly string[]): void {
  if (models.length === 0) throw new OptionError('models', 'no models to benchmark');
  for (const ref of models) {
    if (isOnnxPath(ref)) {
      if (!existsSync(ref)) throw new Error(`${ref}: no such file`);
    } else findModel(ref);
  }
}

/** Measures every model × batch; EP-unavailable errors end the run, other failures are recorded. */
export async function runBench(o: BenchOptions, onEvent: (e: RunEvent) => void = () => {}): Promise<BenchRun> {
  checkEp(o.ep);
  checkModels(o.models);
  const isolate = o.isolate ?? true;
  if (isolate) workerPath();
  const started = performance.now();
  const createdAt = new Date().toISOString();
  const jobs: BenchJob[] = [];
  for (const ref of o.models) for (const batch of o.batches) jobs.push({ ref, model: o.model ?? {}, ep: o.ep, batch, ...(o.threads ? { threads: o.threads } : {}), timing: o.timing });
  const results: ModelResult[] = [];
  const failures: FailedResult[] = [];
  for (const [index, job] of jobs.entries()) {
    onEvent({ kind: 'start', index, total: jobs.length, job });
    const progress = (event: ProgressEvent) => onEvent({ kind: 'progress', index, job, event });
    try {
      const result = isolate ? await runIsolated(job, progress) : await measureJob(job, progress, false);
      results.push(result);
      onEvent({ kind: 'done', index, job, result });
    } catch (e) {
      if (e instanceof EpUnavailableError) throw e;
      const error = (e as Error).message;
      failures.push({ model: isOnnxPath(job.ref) ? job.ref : findModel(job.ref).id, ref: job.ref, ep: job.ep, batch: job.batch, error });
      onEvent({ kind: 'failed', index, job, error });
    }
  }
  return {
    schema: RESULTS_SCHEMA,
    createdAt,
    machine: machineInfo(),
    versions: versions(),
    options: {
      models: [...o.models],
      ep: o.ep,
      batches: [...o.batches],
      threads: o.threads ?? null,
      warmup: o.timing.warmup,
      iterations: o.timing.iterations,
      minTimeMs: o.timing.minTimeMs,
      maxTimeMs: o.timing.maxTimeMs,
      isolate,
      model: o.model ?? {},
    },
    results,
    failures,
    durationMs: performance.now() - started,
  };
}
