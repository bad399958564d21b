import { availableParallelism, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import {
  buildReport,
  accuracyDescribes,
  isNoisy,
  NOISY_SPREAD,
  paperModel,
  parseAccuracy,
  FAMILY_COMPARISONS,
  PAPER_COMPARISONS,
  runBench,
  writeReports,
  type AccuracyEntry,
  type BenchJob,
  type FailedResult,
  type JobModelOptions,
  type ModelResult,
  type RunEvent,
} from '@effnet/bench';
import { NODE_EPS, type NodeEp } from '@effnet/runtime';
import { MAX_OPSET, MIN_OPSET } from '@effnet/onnx-export';
import { UsageError } from '../errors.js';
import { checkOutputs } from '../check-outputs.js';
import { human, printJson, renderTable, say } from '../output.js';
import { printTable3 } from './table3.js';
import { safeText } from '../text.js';
import { choice, intInRange, intList, LIMITS, threadsOption } from '../parse.js';
import { addModelOptions, prepareOptions, type ModelFlags } from './common.js';
import { addInt8Options, type Int8Flags } from './int8.js';
import { appendPrecisionMarkdown, buildPrecisionFiles, precisionList, precisionResults, printPrecisionTable, type Precision, type PrecisionBuild } from './precision.js';
import { BUILD_OPTIONS, findModel } from '@effnet/efficientnet';

export const DEFAULT_MODELS = ['efficientnet-b0', 'efficientnet-b1', 'efficientnet-b4', 'resnet50'];

interface BenchFlags extends Omit<ModelFlags, 'batch'>, Int8Flags {
  precision?: Precision[];
  ep: NodeEp;
  batch: number[];
  iterations: number;
  warmup: number;
  time: number;
  maxTime: number;
  threads?: number;
  json?: boolean;
  out: string;
  compare?: 'paper' | 'table3';
  accuracyFrom?: string;
  isolate: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('bench')
    .description('measure latency, throughput, params and FLOPs of models on an execution provider, and write reports')
    .argument('[models...]', `model ids or .onnx files (default: ${DEFAULT_MODELS.join(' ')})`)
    .addOption(new Option('--ep <ep>', `execution provider: ${NODE_EPS.join(', ')}`).argParser(choice('--ep', NODE_EPS)).default('cpu'))
    .addOption(new Option('--batch <list>', `batch sizes, comma-separated, each 1..${LIMITS.batch} (e.g. 1,8,32)`).argParser(intList('--batch', 1, LIMITS.batch)).default([1], '1'))
    .option('--iterations <N>', `timed runs per model, at least, 1..${LIMITS.iterations} (fast models run more to fill --time)`, intInRange('--iterations', 1, LIMITS.iterations), 10)
    .option('--warmup <N>', `untimed runs per model before timing, 0..${LIMITS.warmup}`, intInRange('--warmup', 0, LIMITS.warmup), 2)
    .option('--time <ms>', `measuring time per model, at least, 0..${LIMITS.timeMs} ms`, intInRange('--time', 0, LIMITS.timeMs), 3000)
    .option(
      '--max-time <ms>',
      `stop timing a model after this long, even before --iterations runs (slow models such as amoebanet-b), 1..${LIMITS.timeMs} ms`,
      intInRange('--max-time', 1, LIMITS.timeMs),
      60000,
    )
    .option('--threads <N>', `intra-op threads (cpu, cuda, webgpu) / wasm threads, 1..${LIMITS.threads} (default: the runtime's choice)`, threadsOption('--threads'))
    .option('--json', 'print results.json to stdout instead of the table')
    .option('--out <dir>', 'report directory; results.json, results.md and the .svg charts there are regenerated (replaced) on every run', 'bench-results')
    .addOption(
      new Option(
        '--compare <what>',
        "'paper': also measure the paper's comparisons (B7 vs AmoebaNet-B, B1 vs ResNet-152, B4 vs ResNet-50) and report the ratios beside the paper's (minutes, and about 6 GB of memory for AmoebaNet-B); 'table3': print the paper's Table 3 (MobileNetV1/V2 and ResNet-50 scaled by depth, width, resolution, compound) with effnet's MACs and params beside the paper's FLOPS and top-1 (counts only, nothing is run)",
      ).choices(['paper', 'table3']),
    )
    .option('--accuracy-from <file>', 'measured accuracies (`effnet eval --json` output: { model, top1, top5, n } or a list) for the reports and the accuracy chart')
    .option('--no-isolate', 'measure in this process instead of one child process per model (a native crash then ends the command)')
    .option('--fold-bn', 'fold BatchNorm into the preceding conv before running')
    .option('--fp16', 'float16 weights and compute')
    .option('--opset <N>', `ONNX opset of built models, ${MIN_OPSET}..${MAX_OPSET}`, intInRange('--opset', MIN_OPSET, MAX_OPSET));
  addModelOptions(cmd, { batch: false });
  cmd.option(
    '--precision <list>',
    'build each model id in these precisions (fp32,fp16,int8) and measure them side by side: speed-up over fp32, file size; int8 without --calibration-data is calibrated on the built-in input (latency only)',
    precisionList,
  );
  addInt8Options(cmd, { withInt8Flag: false });
  // Speed does not depend on weight values: the shared --weights flag is refused here (see the action).
  cmd.options.find((opt) => opt.long === '--weights')?.hideHelp();
  cmd.addHelpText(
    'after',
    `
Every model runs on the same deterministic input. Non-cpu EPs also report the largest absolute
difference of their output against cpu. Each model is measured in its own process, so a crash in an
EP is reported as an error for that model and the memory of one model is returned before the next.

EPs: cpu (onnxruntime-node), wasm (onnxruntime-web in Node), webgpu (onnxruntime-node's Dawn over
Vulkan; without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json with Debian's
chromium), cuda (CUDA 12 + cuDNN 9 and the CUDA build of onnxruntime-node).

Examples:
  effnet bench                                   b0, b1, b4, resnet50 on cpu, batch 1
  effnet bench b0 b3 --batch 1,8 --threads 2
  effnet bench efficientnet-b0 --ep webgpu --json
  effnet bench --compare paper --max-time 30000
  effnet bench --compare table3                  the paper's Table 3, counted (no timing)
  effnet bench model.onnx other.onnx --iterations 50
  effnet bench efficientnet-lite0 resnet50 --precision fp32,int8 --threads 2 --calibration-data val/`,
  );
  cmd.action(async (models: string[], f: BenchFlags) => {
    if (f.weights) throw new UsageError('--weights: bench measures speed, which does not depend on weight values; leave it out');
    if (f.compare === 'table3') return printTable3(models, f);
    checkOutputs([{ flag: '--out', path: f.out, dir: true, files: ['results.json', 'results.md'] }]); // before measuring, not after
    const requested = models.length ? models : f.compare ? [] : DEFAULT_MODELS;
    const compareModels = f.compare ? [...PAPER_COMPARISONS, ...FAMILY_COMPARISONS].flatMap((c) => [c.efficientnet, c.baseline]) : [];
    const all = [...new Set([...requested, ...compareModels])];
    let accuracy: AccuracyEntry[] | undefined;
    if (f.accuracyFrom) {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(f.accuracyFrom, 'utf8'));
      } catch (e) {
        throw new UsageError(`--accuracy-from ${f.accuracyFrom}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(e as Error).message})`}`);
      }
      accuracy = parseAccuracy(json, f.accuracyFrom);
    }
    const built = await precisionBuild(all, f);
    // Progress lines name what is measured, not the scratch files --precision builds.
    const progress = new Progress(Boolean(process.stderr.isTTY), new Map(built?.files.map((x) => [x.path, x.label]) ?? []));
    const measured = await runBench(
      {
        models: built ? built.files.map((x) => x.path) : all,
        ep: f.ep,
        batches: f.batch,
        ...(f.threads ? { threads: f.threads } : {}),
        timing: { warmup: f.warmup, iterations: f.iterations, minTimeMs: f.time, maxTimeMs: f.maxTime },
        model: built ? {} : modelOptions(f),
        isolate: f.isolate,
      },
      (e) => progress.event(e),
    ).finally(() => {
      progress.stop();
      built?.cleanup();
    });
    // Nothing measured: no report (empty tables would look like a result).
    if (measured.results.length === 0 && measured.failures.length) throw new Error(`every measurement failed, no report written: ${measured.failures.map((x) => x.error).join('; ')}`);
    const side = built ? precisionResults(measured.results, built) : undefined;
    const run = side ? { ...measured, results: side.results } : measured;
    // An accuracy is shown only beside the model it was measured on: say which entries describe no row.
    for (const a of accuracy ?? [])
      if (!run.results.some((x) => accuracyDescribes(a, x)))
        process.stderr.write(
          `effnet: warning: --accuracy-from ${f.accuracyFrom}: ${a.model}${a.resolution ? ` at ${a.resolution} px` : ''}${a.numClasses ? `, ${a.numClasses} classes` : ''}${a.precision ? `, ${a.precision}` : ''} describes none of the measured rows; not shown\n`,
        );
    const base = buildReport(run, { ...(accuracy ? { accuracy, accuracySource: f.accuracyFrom! } : {}), comparePaper: f.compare === 'paper' });
    const report = side ? { ...base, precisions: side.rows } : base;
    const files = await writeReports(report, resolve(f.out));
    if (side) appendPrecisionMarkdown(resolve(f.out, 'results.md'), side.rows);
    if (f.json) printJson(report);
    else {
      printTable(run.results, f.ep);
      const noisy = run.results.filter(isNoisy);
      if (noisy.length)
        say(
          `note: noisy latencies (p90 more than ${NOISY_SPREAD * 100}% above p50): ${noisy.map((x) => safeText(x.label)).join(', ')}; load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores. Re-run on an idle machine before comparing them.`,
        );
      const adapters = [...new Set(run.results.flatMap((x) => (x.adapter ? [x.adapter] : [])))];
      if (adapters.some((a) => /swiftshader/i.test(a))) say('note: the WebGPU adapter is SwiftShader, a CPU emulation of a GPU: these are not GPU latencies.');
      if (side) printPrecisionTable(side.rows);
      if (report.comparisons) printComparisons(report.comparisons);
      if (run.failures.length) printFailures(run.failures, run.results.length);
      say(`reports: ${files.join(', ')}${run.failures.length ? ` (incomplete: ${run.failures.length} failed measurement${run.failures.length === 1 ? '' : 's'} listed there under "Failed")` : ''}`);
    }
    if (run.failures.length) throw new Error(`${run.failures.length} of ${run.failures.length + run.results.length} measurements failed: ${run.failures.map((x) => x.error).join('; ')}`);
  });
}

/** --precision: every model id built in each precision (undefined without the flag). */
async function precisionBuild(models: readonly string[], f: BenchFlags): Promise<PrecisionBuild | undefined> {
  if (!f.precision) {
    const given = (['calibrationData', 'calibrationImages', 'calibrationMethod', 'int8Policy'] as const).find((k) => f[k] !== undefined);
    if (given) throw new UsageError(`--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to int8: add --precision with int8 (e.g. --precision fp32,int8)`);
    return undefined;
  }
  if (f.compare) throw new UsageError('--precision with --compare paper: measure the comparisons and the precisions in separate runs');
  const { batch: _batches, precision: _p, ...flags } = f;
  return buildPrecisionFiles(models, f.precision, prepareOptions(flags), f);
}

/** The model flags a measurement job carries: the shared model flags, parsed once by prepareOptions. */
const JOB_KEYS: readonly (keyof JobModelOptions)[] = ['foldBn', 'fp16', 'opset', ...BUILD_OPTIONS.map((d) => d.key)];

function modelOptions(f: BenchFlags): JobModelOptions {
  const { batch: _batches, ...flags } = f;
  const all = prepareOptions(flags);
  return Object.fromEntries(JOB_KEYS.filter((k) => all[k] !== undefined).map((k) => [k, all[k]])) as JobModelOptions;
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
/** Images per second: 3 significant digits below 100 (SwiftShader WebGPU runs at 0.05 img/s). */
const ips = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const paperParams = (n: number) => `${+(n / 1e6).toFixed(1)}M`;
const paperMacs = (n: number) => (n < 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${+(n / 1e9).toFixed(1)}B`);

function printTable(results: readonly ModelResult[], ep: NodeEp): void {
  const head = [
    'model',
    'res',
    'batch',
    'params',
    'MACs/image',
    'p50 ms/batch',
    'p90 ms/batch',
    'img/s',
    'create ms',
    'peak RSS',
    ...(ep !== 'cpu' ? ['max |Δ| vs cpu'] : []),
    'paper params',
    'paper FLOPs',
    'paper top-1',
    'paper CPU lat.',
  ];
  const rows = results.map((r) => {
    // Published figures only beside what they describe: the model id's own architecture and resolution, 1000 classes, float32.
    const p = r.paperComparable ? paperModel(r.model) : undefined;
    return [
      safeText(r.label), // a file's name, with its precision
      r.resolution,
      r.batch,
      human(r.params),
      `${r.macsComplete === false ? '≥ ' : ''}${human(r.macs)}`,
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p90),
      ips(r.throughput),
      ms(r.sessionCreateMs),
      `${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      ...(ep !== 'cpu' ? [r.maxAbsDiffVsCpu === undefined ? '—' : r.maxAbsDiffVsCpu.toExponential(1)] : []),
      p ? paperParams(p.params) : '',
      p?.macs ? paperMacs(p.macs) : '',
      p ? `${p.top1}%` : '',
      p?.cpuLatencyS ? `${p.cpuLatencyS} s` : '',
    ];
  });
  console.log(renderTable(head, rows));
  say(
    "MACs/image: multiply-adds per image counted in the graph that ran (the paper calls them FLOPs); latency is per inference of one batch. 'paper' columns are published figures, not measured here (Tan & Le 2019, ImageNet; EfficientNetV2: its paper's Table 7 and the automl release; Lite: the tensorflow/tpu release).",
  );
}

/** The jobs without a result, below the table: a partial table must not read as a complete one. */
function printFailures(failures: readonly FailedResult[], measured: number): void {
  const total = failures.length + measured;
  say(`FAILED: ${failures.length} of ${total} measurement${total === 1 ? '' : 's'} (not in the table above):`);
  console.log(
    renderTable(
      ['model', 'ep', 'batch', 'error'],
      failures.map((f) => [safeText(f.model), f.ep, f.batch, safeText(f.error)]),
    ),
  );
}

function printComparisons(cs: NonNullable<ReturnType<typeof buildReport>['comparisons']>): void {
  const head = ['A vs B', 'batch', '× fewer params: B ÷ A (published)', '× fewer MACs: B ÷ A (published)', '× faster: B ÷ A latency (published)'];
  const x = (v: number | undefined) => (v === undefined ? '—' : `${v < 1 ? v.toFixed(2) : v.toFixed(1)}x`);
  const rows = cs.map((c) => [
    `${c.efficientnet} vs ${c.baseline}${c.group === 'family' ? ' (family)' : ' (paper)'}`,
    c.batch,
    c.measured ? `${x(c.measured.paramsRatio)} (${x(c.paper.paramsRatio)})` : `not measured (${x(c.paper.paramsRatio)})`,
    c.measured ? `${x(c.measured.macsRatio)} (${x(c.paper.macsRatio)})` : `— (${x(c.paper.macsRatio)})`,
    c.measured ? `${x(c.measured.latencyRatio)} (${x(c.paper.latencyRatio)})` : `— (${x(c.paper.latencyRatio)})`,
  ]);
  console.log(renderTable(head, rows));
  say(
    'A is the newer model, B the baseline: a ratio B ÷ A above 1x means A is smaller or faster by that factor. (paper): Tan & Le (2019) prints them; (family): computed from the published figures of V2/Lite and B0/B4.',
  );
}

const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;

/** The model's canonical id ('b0' → 'efficientnet-b0'), as the tables name it; file paths as given. */
function canonical(ref: string): string {
  if (ref.toLowerCase().endsWith('.onnx')) return safeText(ref);
  try {
    return findModel(ref).id;
  } catch {
    return safeText(ref);
  }
}

/** A progress bar per measurement on a terminal; one quiet line per measurement otherwise. */
class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private total = 0;

  constructor(
    private readonly tty: boolean,
    private readonly names: ReadonlyMap<string, string> = new Map(),
  ) {}

  private label(job: BenchJob, index: number): string {
    return `[${index + 1}/${this.total}] ${this.names.get(job.ref) ?? canonical(job.ref)} (${job.ep}, batch ${job.batch})`;
  }

  event(e: RunEvent): void {
    if (e.kind === 'start') {
      this.total = e.total;
      if (this.tty) {
        this.bar = new cliProgress.SingleBar(
          { format: '{label} {phase} [{bar}] {percentage}% {detail}', barsize: 24, hideCursor: true, clearOnComplete: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(100, 0, { label: this.label(e.job, e.index), phase: 'build', detail: '' });
      } else process.stderr.write(`${this.label(e.job, e.index)}: measuring\n`);
    } else if (e.kind === 'progress' && this.bar) {
      const ev = e.event;
      const t = e.job.timing;
      if (ev.kind === 'phase') this.bar.update({ phase: ev.phase });
      else if (ev.kind === 'warmup') this.bar.update({ detail: `warm-up ${ev.done}/${ev.total}` });
      else {
        const fraction = Math.max(Math.min(ev.done / t.iterations, t.minTimeMs ? ev.elapsedMs / t.minTimeMs : 1), ev.elapsedMs / t.maxTimeMs);
        this.bar.update(Math.min(99, Math.floor(100 * fraction)), { detail: runs(ev.done) });
      }
    } else if (e.kind === 'done' || e.kind === 'failed') {
      this.stop();
      const what = e.kind === 'done' ? `p50 ${ms(e.result.latencyMs.p50)} ms, ${ips(e.result.throughput)} img/s (${runs(e.result.latencyMs.samples)})` : `FAILED: ${e.error}`;
      process.stderr.write(`${this.label(e.job, e.index)}: ${what}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
