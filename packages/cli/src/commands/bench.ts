import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import {
  buildReport,
  NODE_EPS,
  paperModel,
  parseAccuracy,
  FAMILY_COMPARISONS,
  PAPER_COMPARISONS,
  runBench,
  writeReports,
  type AccuracyEntry,
  type BenchJob,
  type JobModelOptions,
  type ModelResult,
  type NodeEp,
  type RunEvent,
} from '@effnet/bench';
import { MAX_OPSET, MIN_OPSET } from '@effnet/onnx-export';
import { UsageError } from '../errors.js';
import { checkOutputs } from '../check-outputs.js';
import { human, printJson } from '../output.js';
import { safeText } from '../text.js';
import { choice, intInRange, intList, nonNegativeInt, positiveInt } from '../parse.js';
import { addModelOptions, prepareOptions, type ModelFlags } from './common.js';
import { BUILD_OPTIONS } from '@effnet/efficientnet';

export const DEFAULT_MODELS = ['efficientnet-b0', 'efficientnet-b1', 'efficientnet-b4', 'resnet50'];

interface BenchFlags extends Omit<ModelFlags, 'batch'> {
  ep: NodeEp;
  batch: number[];
  iterations: number;
  warmup: number;
  time: number;
  maxTime: number;
  threads?: number;
  json?: boolean;
  out: string;
  compare?: 'paper';
  accuracyFrom?: string;
  isolate: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('bench')
    .description('measure latency, throughput, params and FLOPs of models on an execution provider, and write reports')
    .argument('[models...]', `model ids or .onnx files (default: ${DEFAULT_MODELS.join(' ')})`)
    .addOption(new Option('--ep <ep>', `execution provider: ${NODE_EPS.join(', ')}`).argParser(choice('--ep', NODE_EPS)).default('cpu'))
    .option('--batch <list>', 'batch sizes, comma-separated (e.g. 1,8,32)', intList('--batch'), [1])
    .option('--iterations <N>', 'timed runs per model, at least (fast models run more to fill --time)', positiveInt('--iterations'), 10)
    .option('--warmup <N>', 'untimed runs per model before timing', nonNegativeInt('--warmup'), 2)
    .option('--time <ms>', 'measuring time per model, at least', nonNegativeInt('--time'), 3000)
    .option('--max-time <ms>', 'stop timing a model after this long, even before --iterations runs (slow models such as amoebanet-b)', positiveInt('--max-time'), 60000)
    .option('--threads <N>', 'intra-op threads (cpu, cuda, webgpu) / wasm threads (default: the runtime\'s choice)', positiveInt('--threads'))
    .option('--json', 'print results.json to stdout instead of the table')
    .option('--out <dir>', 'report directory; results.json, results.md and the .svg charts there are regenerated (replaced) on every run', 'bench-results')
    .addOption(new Option('--compare <what>', "'paper': also measure the paper's comparisons (B7 vs AmoebaNet-B, B1 vs ResNet-152, B4 vs ResNet-50) and report the ratios beside the paper's").choices(['paper']))
    .option('--accuracy-from <file>', 'measured accuracies (`effnet eval --json` output: { model, top1, top5, n } or a list) for the reports and the accuracy chart')
    .option('--no-isolate', 'measure in this process instead of one child process per model (a native crash then ends the command)')
    .option('--fold-bn', 'fold BatchNorm into the preceding conv before running')
    .option('--fp16', 'float16 weights and compute')
    .option('--opset <N>', `ONNX opset of built models, ${MIN_OPSET}..${MAX_OPSET}`, intInRange('--opset', MIN_OPSET, MAX_OPSET));
  addModelOptions(cmd, { batch: false });
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
  effnet bench model.onnx other.onnx --iterations 50`,
  );
  cmd.action(async (models: string[], f: BenchFlags) => {
    if (f.weights) throw new UsageError('--weights: bench measures speed, which does not depend on weight values; leave it out');
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
    const progress = new Progress(Boolean(process.stderr.isTTY));
    const run = await runBench(
      {
        models: all,
        ep: f.ep,
        batches: f.batch,
        ...(f.threads ? { threads: f.threads } : {}),
        timing: { warmup: f.warmup, iterations: f.iterations, minTimeMs: f.time, maxTimeMs: f.maxTime },
        model: modelOptions(f),
        isolate: f.isolate,
      },
      (e) => progress.event(e),
    ).finally(() => progress.stop());
    // Nothing measured: no report (empty tables would look like a result).
    if (run.results.length === 0 && run.failures.length)
      throw new Error(`every measurement failed, no report written: ${run.failures.map((x) => x.error).join('; ')}`);
    const report = buildReport(run, { ...(accuracy ? { accuracy, accuracySource: f.accuracyFrom! } : {}), comparePaper: f.compare === 'paper' });
    const files = await writeReports(report, resolve(f.out));
    if (f.json) printJson(report);
    else {
      printTable(run.results, f.ep);
      if (report.comparisons) printComparisons(report.comparisons);
      console.log(`reports: ${files.join(', ')}`);
    }
    if (run.failures.length)
      throw new Error(`${run.failures.length} of ${run.failures.length + run.results.length} measurements failed: ${run.failures.map((x) => x.error).join('; ')}`);
  });
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
  const head = ['model', 'res', 'batch', 'params', 'FLOPs', 'p50 ms', 'p90 ms', 'img/s', 'create ms', 'peak RSS', ...(ep !== 'cpu' ? ['max |Δ| vs cpu'] : []), 'paper: params', 'FLOPs', 'top-1', 'CPU lat.'];
  const t = new Table({ head, style: { head: [] } });
  for (const r of results) {
    const p = paperModel(r.model);
    t.push([
      safeText(r.model), // a file's effnet.model metadata
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
    ]);
  }
  console.log(t.toString());
  console.log("FLOPs = multiply-adds per image, as the paper counts them; 'paper:' columns are published figures, not measured here (Tan & Le 2019; EfficientNetV2: its paper's Table 7 and the automl release; Lite: the tensorflow/tpu release).");
}

function printComparisons(cs: NonNullable<ReturnType<typeof buildReport>['comparisons']>): void {
  const t = new Table({ head: ['comparison', 'batch', 'params ratio (published)', 'FLOPs ratio (published)', 'latency ratio (published)'], style: { head: [] } });
  const x = (v: number | undefined) => (v === undefined ? '—' : `${v < 1 ? v.toFixed(2) : v.toFixed(1)}x`);
  for (const c of cs)
    t.push([
      `${c.efficientnet} vs ${c.baseline}${c.group === 'family' ? ' (family)' : ' (paper)'}`,
      c.batch,
      c.measured ? `${x(c.measured.paramsRatio)} (${x(c.paper.paramsRatio)})` : `not measured (${x(c.paper.paramsRatio)})`,
      c.measured ? `${x(c.measured.macsRatio)} (${x(c.paper.macsRatio)})` : `— (${x(c.paper.macsRatio)})`,
      c.measured ? `${x(c.measured.latencyRatio)} (${x(c.paper.latencyRatio)})` : `— (${x(c.paper.latencyRatio)})`,
    ]);
  console.log(t.toString());
  console.log('Ratios are baseline ÷ the newer model. (paper): Tan & Le (2019) prints them; (family): computed from the published figures of V2/Lite and B0/B4.');
}

/** A progress bar per measurement on a terminal; one quiet line per measurement otherwise. */
class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private total = 0;

  constructor(private readonly tty: boolean) {}

  private label(job: BenchJob, index: number): string {
    return `[${index + 1}/${this.total}] ${job.ref} (${job.ep}, batch ${job.batch})`;
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
        this.bar.update(Math.min(99, Math.floor(100 * fraction)), { detail: `${ev.done} runs` });
      }
    } else if (e.kind === 'done' || e.kind === 'failed') {
      this.stop();
      const what = e.kind === 'done' ? `p50 ${ms(e.result.latencyMs.p50)} ms, ${ips(e.result.throughput)} img/s (${e.result.latencyMs.samples} runs)` : `FAILED: ${e.error}`;
      process.stderr.write(`${this.label(e.job, e.index)}: ${what}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
