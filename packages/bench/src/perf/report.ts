/**
 * Reports of a benchmark run: results.json (every figure), results.md (a table like the paper's
 * Table 2 with measured latency and throughput, ratios against ResNet-50, the paper's figures beside)
 * and SVG charts. Paper figures come from paper.ts only and are labelled as the paper's.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findModel } from '@effnet/efficientnet';
import { accuracyVsParams, latencyVsFlops, latencyVsParams, svgToPng, type AccuracyPoint, type LatencyPoint } from './charts.js';
import type { ModelResult } from './measure.js';
import { FAMILY_COMPARISONS, PAPER_CITATION, PAPER_COMPARISONS, PAPER_LATENCY_SETUP, PAPER_MODELS, paperModel, PUBLISHED_MODELS, seriesOf, type PaperComparison } from './paper.js';
import type { BenchRun } from './run.js';

/** A measured accuracy (from `effnet eval --json`), percent. */
export interface AccuracyEntry {
  readonly model: string;
  readonly top1: number;
  readonly top5?: number;
  /** Images evaluated. */
  readonly n?: number;
  /** The data set: `dataset` in the JSON, else the last part of eval's `data` folder ('imagenette'). */
  readonly dataset?: string;
  /** Classes of the data set: `classes` in the JSON, else the length of eval's `perClass`. */
  readonly classes?: number;
  /** What was evaluated, when eval's JSON says (effnet eval writes them): a row gets the entry only if they agree. */
  readonly resolution?: number;
  readonly numClasses?: number;
  readonly precision?: 'fp32' | 'fp16' | 'int8';
  /** The evaluated .onnx file, when eval ran one. */
  readonly file?: string;
}

/**
 * Whether an accuracy entry describes a benchmarked row: the same model (id or file), and — where
 * eval's JSON records them — the same resolution, number of classes and precision. An accuracy
 * measured on one file (10 classes at 160 px, trained) is never shown beside another model.
 */
export function accuracyDescribes(a: AccuracyEntry, x: ModelResult): boolean {
  const sameModel = a.model === x.model || a.model === x.ref || (a.file !== undefined && a.file === x.ref);
  if (!sameModel) return false;
  if (a.resolution !== undefined && a.resolution !== x.resolution) return false;
  if (a.numClasses !== undefined && a.numClasses !== x.numClasses) return false;
  return (a.precision ?? 'fp32') === x.precision;
}

/** The published figures are ImageNet-1k: the panel every paper point is drawn in. */
export const IMAGENET_PANEL = 'ImageNet-1k (1000 classes): published and measured';

/**
 * Where a measured accuracy is drawn: with the paper's figures only when it is ImageNet-1k (1000
 * classes); any other data set (Imagenette, 10 classes) or an unstated one gets its own panel.
 */
export function accuracyPanel(a: AccuracyEntry): string {
  if (a.classes === 1000 && (a.dataset === undefined || !/imagenette|imagewoof/i.test(a.dataset))) return IMAGENET_PANEL;
  return `${a.dataset ?? 'data set not stated'}${a.classes !== undefined ? ` (${a.classes} classes)` : ''}: measured by effnet eval`;
}

/** "imagenette, 10 classes" for the reports. */
export function describeDataset(a: AccuracyEntry): string {
  return [a.dataset ?? 'data set not stated', a.classes !== undefined ? `${a.classes} classes` : undefined].filter(Boolean).join(', ');
}

export interface ComparisonResult {
  readonly key: string;
  readonly efficientnet: string;
  readonly baseline: string;
  readonly batch: number;
  /** baseline ÷ EfficientNet, from this run; null where a model of the pair was not measured. */
  readonly measured: {
    readonly paramsRatio: number;
    readonly macsRatio: number;
    readonly latencyRatio: number;
  } | null;
  readonly missing: readonly string[];
  readonly paper: PaperComparison['paper'];
  /** 'paper': Tan & Le (2019)'s headline comparisons; 'family': the later families against V1 (published figures of their sources). */
  readonly group: 'paper' | 'family';
}

export interface BenchReport extends BenchRun {
  /** Measured accuracies given with --accuracy-from (percent), by model. */
  readonly accuracy: readonly (AccuracyEntry & { readonly source: string })[];
  /** --compare paper: the paper's headline comparisons, measured in this run. */
  readonly comparisons: readonly ComparisonResult[] | null;
  /** The paper's figures for the models of this run (labelled: not measured here). */
  readonly paper: {
    readonly citation: string;
    readonly latencySetup: string;
    readonly models: readonly {
      readonly model: string;
      readonly name: string;
      readonly top1: number;
      readonly top5: number | null;
      readonly params: number;
      readonly macs: number | null;
      readonly cpuLatencyS: number | null;
      /** Where the figures come from when not Tan & Le (2019) Table 2 (EfficientNetV2, Lite). */
      readonly source: string | null;
    }[];
  };
}

// ---------------------------------------------------------------- accuracy input

function canonicalId(model: string): string {
  try {
    return findModel(model).id;
  } catch {
    return model;
  }
}

/** The data set a folder holds: its name, or 'parent/val' for a split folder ('imagenette/val'). */
export function datasetName(folder: string): string {
  const parts = folder.split(/[\\/]+/).filter((x) => x && x !== '.');
  const last = parts.pop() ?? '';
  return /^(val|valid|validation|train|test|eval)$/i.test(last) && parts.length ? `${parts.pop()}/${last}` : last;
}

/** Reads `effnet eval --json` output: one object or a list of `{ model, top1, top5?, n? }`; top-1/top-5 as fractions in [0, 1] (values above 1 are read as percent). */
export function parseAccuracy(json: unknown, file: string): AccuracyEntry[] {
  const list = Array.isArray(json) ? json : [json];
  return list.map((e, i) => {
    const where = `${file}: entry ${i}`;
    if (!e || typeof e !== 'object') throw new Error(`${where}: expected an object { model, top1, top5, n }`);
    const { model, top1, top5, n, dataset, data, classes, perClass, resolution, numClasses, precision, file: evaluatedFile } = e as Record<string, unknown>;
    if (typeof model !== 'string' || !model) throw new Error(`${where}: 'model' must be a model id or name`);
    const pct = (v: unknown, key: string): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) throw new Error(`${where}: '${key}' must be a number in [0, 1] (or percent), got ${JSON.stringify(v)}`);
      return v <= 1 ? Math.round(v * 1e8) / 1e6 : v;
    };
    return {
      model: canonicalId(model),
      top1: pct(top1, 'top1'),
      ...(top5 !== undefined ? { top5: pct(top5, 'top5') } : {}),
      ...(typeof n === 'number' ? { n } : {}),
      ...(typeof dataset === 'string' && dataset ? { dataset } : typeof data === 'string' && datasetName(data) ? { dataset: datasetName(data) } : {}),
      ...(typeof classes === 'number' && Number.isInteger(classes) && classes > 0 ? { classes } : Array.isArray(perClass) && perClass.length ? { classes: perClass.length } : {}),
      ...(typeof resolution === 'number' && Number.isInteger(resolution) ? { resolution } : {}),
      ...(typeof numClasses === 'number' && Number.isInteger(numClasses) ? { numClasses } : {}),
      ...(precision === 'int8' || precision === 'fp16' || precision === 'fp32' ? { precision } : {}),
      ...(typeof evaluatedFile === 'string' && evaluatedFile ? { file: evaluatedFile } : {}),
    };
  });
}

// ---------------------------------------------------------------- report assembly

function baselineOf(r: ModelResult, results: readonly ModelResult[]): ModelResult | undefined {
  return results.find((b) => b.model === 'resnet50' && b.batch === r.batch);
}

function compare(results: readonly ModelResult[]): ComparisonResult[] {
  const batches = [...new Set(results.map((r) => r.batch))];
  const out: ComparisonResult[] = [];
  const all = [...PAPER_COMPARISONS.map((c) => ({ c, group: 'paper' as const })), ...FAMILY_COMPARISONS.map((c) => ({ c, group: 'family' as const }))];
  for (const { c, group } of all)
    for (const batch of batches.length ? batches : [1]) {
      const e = results.find((r) => r.model === c.efficientnet && r.batch === batch);
      const b = results.find((r) => r.model === c.baseline && r.batch === batch);
      out.push({
        key: c.key,
        efficientnet: c.efficientnet,
        baseline: c.baseline,
        batch,
        measured: e && b ? { paramsRatio: b.params / e.params, macsRatio: b.macs / e.macs, latencyRatio: b.latencyMs.p50 / e.latencyMs.p50 } : null,
        missing: [...(e ? [] : [c.efficientnet]), ...(b ? [] : [c.baseline])],
        paper: c.paper,
        group,
      });
    }
  return out;
}

export interface ReportOptions {
  readonly accuracy?: readonly AccuracyEntry[];
  /** Add the paper's headline comparisons (--compare paper). */
  readonly comparePaper?: boolean;
  /** Where the accuracies came from (file name), for the report. */
  readonly accuracySource?: string;
}

/** p90 more than this fraction above p50: the latency of such a row is not to be trusted as is. */
export const NOISY_SPREAD = 0.3;

/** A row whose latencies spread widely (a busy machine, too few runs). */
export function isNoisy(x: ModelResult): boolean {
  return x.latencyMs.p90 > x.latencyMs.p50 * (1 + NOISY_SPREAD);
}

export function buildReport(run: BenchRun, o: ReportOptions = {}): BenchReport {
  // Published figures only for models a row describes (own architecture and resolution, 1000 classes, float32).
  const models = [...new Set(run.results.filter((r) => r.paperComparable).map((r) => r.model))];
  return {
    ...run,
    accuracy: (o.accuracy ?? []).map((a) => ({ ...a, source: o.accuracySource ?? 'measured' })),
    comparisons: o.comparePaper ? compare(run.results) : null,
    paper: {
      citation: PAPER_CITATION,
      latencySetup: PAPER_LATENCY_SETUP,
      models: models.flatMap((model) => {
        const p = paperModel(model);
        return p ? [{ model, name: p.name, top1: p.top1, top5: p.top5 ?? null, params: p.params, macs: p.macs ?? null, cpuLatencyS: p.cpuLatencyS ?? null, source: p.source ?? null }] : [];
      }),
    },
  };
}

// ---------------------------------------------------------------- markdown

const fmtCount = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n));
const fmtMs = (ms: number) => (ms >= 1000 ? ms.toFixed(0) : ms >= 100 ? ms.toFixed(1) : ms.toFixed(2));
const fmtRatio = (x: number) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
const fmtBytes = (b: number) => (b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(2)} GiB` : `${(b / (1 << 20)).toFixed(1)} MiB`);
/** The paper's figures as the paper prints them: 5.3M, 0.39B. */
const paperParams = (n: number) => `${+(n / 1e6).toFixed(1)}M`;
const paperMacs = (n: number) => (n < 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${+(n / 1e9).toFixed(1)}B`);
const paperRatio = (x: number) => `${x}x`;
const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)} pts`;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function toMarkdown(r: BenchReport): string {
  const o = r.options;
  const out: string[] = [];
  out.push(`# effnet bench — ${o.ep}, batch ${o.batches.join(', ')}`);
  out.push('');
  if (r.failures.length) {
    const total = r.failures.length + r.results.length;
    out.push(
      `**Incomplete: ${r.failures.length} of ${total} measurement${total === 1 ? '' : 's'} failed** and ${r.failures.length === 1 ? 'is' : 'are'} missing from the tables and charts — see [Failed](#failed).`,
    );
    out.push('');
  }
  out.push(
    `Measured ${r.createdAt} on ${r.machine.cpu} (${r.machine.cores} logical cores, ${fmtBytes(r.machine.memoryBytes)}), ${r.machine.platform}/${r.machine.arch}; ` +
      `effnet ${r.versions.effnet}, Node ${r.versions.node}, onnxruntime-node ${r.versions['onnxruntime-node']}, onnxruntime-web ${r.versions['onnxruntime-web']}. ` +
      `Threads: ${o.threads ?? 'runtime default'}; ${o.warmup} warm-up run(s), then at least ${o.iterations} timed runs and ${o.minTimeMs} ms (at most ${o.maxTimeMs} ms) per model; ` +
      `input: the deterministic formula image. Each model measured in ${o.isolate ? 'its own process' : 'one shared process'}.`,
  );
  out.push('');
  const load = r.machine.loadAverage;
  if (load) out.push(`Load average when the run ended: ${load.join(', ')} (1, 5, 15 min) on ${r.machine.cores} cores.`);
  const adapters = [...new Set(r.results.flatMap((x) => (x.adapter ? [x.adapter] : [])))];
  if (adapters.length)
    out.push(`WebGPU adapter: ${adapters.join('; ')}${adapters.some((a) => /swiftshader/i.test(a)) ? ' — SwiftShader is a CPU emulation of a GPU: these are not GPU latencies' : ''}.`);
  const noisy = r.results.filter(isNoisy);
  if (noisy.length)
    out.push(
      `**Noisy:** ${noisy.map((x) => x.label).join(', ')} — p90 more than ${NOISY_SPREAD * 100}% above p50 (marked †): the machine was busy${load ? ` (load average ${load[0]} on ${r.machine.cores} cores)` : ''} or the runs too few; compare such latencies only with care, and re-run on an idle machine.`,
    );
  if (load || adapters.length || noisy.length) out.push('');
  out.push(
    'FLOPs are multiply-adds per image, as the paper counts them. Columns marked *(paper)* are Tan & Le (2019), Table 2 / Table 4 — not measured here ' +
      `(the paper's figures are at each model's own resolution; its CPU latency is ${PAPER_LATENCY_SETUP}). Ratios are this model ÷ ResNet-50 measured in the same run.`,
  );
  const later = [...new Set(r.paper.models.filter((m) => m.source).map((m) => m.source!))];
  if (later.length) {
    out.push('');
    out.push(`For EfficientNetV2 and EfficientNet-Lite rows the *(paper)* columns are the published figures of: ${later.join('; ')} — not measured here either.`);
  }
  out.push('');
  const rows = r.results.map((x) => {
    const b = baselineOf(x, r.results);
    const p = x.paperComparable ? paperModel(x.model) : undefined;
    const acc = r.accuracy.find((a) => accuracyDescribes(a, x));
    return [
      x.label,
      `${x.resolution}`,
      `${x.batch}`,
      fmtCount(x.params),
      `${x.macsComplete === false ? '≥ ' : ''}${fmtCount(x.macs)}`,
      `${fmtMs(x.latencyMs.p50)}${isNoisy(x) ? ' †' : ''}`,
      x.throughput >= 100 ? x.throughput.toFixed(0) : x.throughput.toPrecision(3),
      b ? fmtRatio(x.params / b.params) : '—',
      b ? fmtRatio(x.macs / b.macs) : '—',
      b ? fmtRatio(x.latencyMs.p50 / b.latencyMs.p50) : '—',
      acc ? `${acc.top1.toFixed(2)}% (${describeDataset(acc)})` : '—',
      p ? `${p.top1.toFixed(1)}%` : '—',
      p ? paperParams(p.params) : '—',
      p?.macs ? paperMacs(p.macs) : '—',
      p?.cpuLatencyS ? `${p.cpuLatencyS} s` : '—',
    ];
  });
  out.push('## Results');
  out.push('');
  out.push(
    table(
      [
        'model',
        'resolution',
        'batch',
        'params',
        'MACs per image',
        'p50 latency per batch (ms)',
        'throughput (img/s)',
        'params ÷ R50',
        'MACs ÷ R50',
        'latency ÷ R50',
        'top-1 measured (data set)',
        'ImageNet top-1 *(paper)*',
        'params *(paper)*',
        'FLOPs *(paper)*',
        'CPU latency *(paper)*',
      ],
      rows,
    ),
  );
  out.push('');
  out.push('## Latency detail');
  out.push('');
  out.push(
    table(
      ['model', 'batch', 'mean', 'p50', 'p90', 'p99', 'min', 'stddev', 'runs', 'session create', 'model size', 'nodes', 'peak RSS', ...(o.ep !== 'cpu' ? ['max abs diff vs cpu'] : [])],
      r.results.map((x) => [
        x.label,
        `${x.batch}`,
        fmtMs(x.latencyMs.mean),
        fmtMs(x.latencyMs.p50),
        fmtMs(x.latencyMs.p90),
        fmtMs(x.latencyMs.p99),
        fmtMs(x.latencyMs.min),
        fmtMs(x.latencyMs.stddev),
        `${x.latencyMs.samples}${x.truncated ? ' (max time)' : ''}`,
        `${fmtMs(x.sessionCreateMs)} ms`,
        fmtBytes(x.modelBytes),
        `${x.nodes}`,
        fmtBytes(x.peakRssBytes),
        ...(o.ep !== 'cpu' ? [x.maxAbsDiffVsCpu === undefined ? '—' : x.maxAbsDiffVsCpu.toExponential(2)] : []),
      ]),
    ),
  );
  out.push('');
  out.push('Latencies in milliseconds per batch.');
  if (r.comparisons) {
    const rowsOf = (group: ComparisonResult['group']) =>
      r
        .comparisons!.filter((c) => c.group === group)
        .map((c) => [
          `${c.efficientnet} vs ${c.baseline}`,
          `${c.batch}`,
          c.measured ? fmtRatio(c.measured.paramsRatio) : `not measured (${c.missing.join(', ')})`,
          paperRatio(c.paper.paramsRatio),
          c.measured ? fmtRatio(c.measured.macsRatio) : '—',
          c.paper.macsRatio !== undefined ? paperRatio(c.paper.macsRatio) : '— (not given)',
          c.measured ? fmtRatio(c.measured.latencyRatio) : '—',
          c.paper.latencyRatio !== undefined ? paperRatio(c.paper.latencyRatio) : '— (not given)',
          points(c.paper.top1Gain),
        ]);
    const head = (what: string) => [
      'comparison',
      'batch',
      'params ratio',
      `params ratio *(${what})*`,
      'FLOPs ratio',
      `FLOPs ratio *(${what})*`,
      'latency ratio',
      `latency ratio *(${what})*`,
      `top-1 gain *(${what})*`,
    ];
    out.push('');
    out.push("## The paper's comparisons, measured here");
    out.push('');
    out.push(
      `Ratios are baseline ÷ EfficientNet (how many times fewer parameters / FLOPs, how many times faster at p50), on ${o.ep} with ${o.threads ?? 'the runtime default number of'} thread(s). The paper measured latency on ${PAPER_LATENCY_SETUP}.`,
    );
    out.push('');
    out.push(table(head('paper'), rowsOf('paper')));
    out.push('');
    for (const c of PAPER_COMPARISONS) out.push(`- ${c.efficientnet} vs ${c.baseline} *(paper)*: ${c.paper.source}.`);
    out.push('');
    out.push('## EfficientNetV2 and EfficientNet-Lite against EfficientNet, measured here');
    out.push('');
    out.push(
      'Ratios are the V1 model ÷ the newer one, as above (below 1: the newer model is bigger / slower). The *(published)* ratios are computed from the published figures; no source publishes a CPU latency for these pairs.',
    );
    out.push('');
    out.push(table(head('published'), rowsOf('family')));
    out.push('');
    for (const c of FAMILY_COMPARISONS) out.push(`- ${c.efficientnet} vs ${c.baseline} *(published)*: ${c.paper.source}.`);
  }
  if (r.accuracy.length) {
    out.push('');
    out.push(
      `Measured top-1/top-5 from ${r.accuracy[0]!.source}: ${r.accuracy.map((a) => `${a.model} ${a.top1.toFixed(2)}%${a.top5 !== undefined ? ` / ${a.top5.toFixed(2)}%` : ''} on ${describeDataset(a)}${a.n ? `, n=${a.n}` : ''}`).join('; ')}.`,
    );
    if (r.accuracy.some((a) => accuracyPanel(a) !== IMAGENET_PANEL))
      out.push(
        "Accuracies on another data set than ImageNet-1k (fewer classes are easier) are not comparable with the paper's ImageNet figures: the accuracy chart draws them in a panel of their own.",
      );
  }
  if (r.failures.length) {
    out.push('');
    out.push('## Failed');
    out.push('');
    out.push('Not measured (no row in the tables above):');
    out.push('');
    out.push(
      table(
        ['model', 'ep', 'batch', 'error'],
        r.failures.map((f) => [f.model, f.ep, String(f.batch), f.error.replace(/\s+/g, ' ')]),
      ),
    );
  }
  out.push('');
  out.push('## Charts');
  out.push('');
  for (const [file, what] of CHARTS) out.push(`- [${what}](${file})`);
  out.push('');
  out.push(`Paper figures: ${PAPER_CITATION}.`);
  out.push('');
  return out.join('\n');
}

const CHARTS = [
  ['latency-vs-params.svg', 'p50 latency vs parameters'],
  ['latency-vs-flops.svg', 'p50 latency vs FLOPs'],
  ['accuracy-vs-params.svg', 'top-1 accuracy vs parameters (measured where given, else the published figure; one line per family)'],
] as const;

// ---------------------------------------------------------------- charts + files

export function accuracyPoints(r: BenchReport): AccuracyPoint[] {
  const points: AccuracyPoint[] = [];
  const seen = new Set<string>();
  for (const x of r.results) {
    if (seen.has(x.label)) continue;
    seen.add(x.label);
    const p = x.paperComparable ? paperModel(x.model) : undefined;
    const series = seriesOf(x.model);
    let onImagenet = false;
    for (const acc of r.accuracy.filter((a) => accuracyDescribes(a, x))) {
      const panel = accuracyPanel(acc);
      onImagenet ||= panel === IMAGENET_PANEL;
      points.push({ model: p?.name ?? x.label, params: x.params, top1: acc.top1, source: 'measured', series, panel });
    }
    // The published names throughout ('EfficientNet-B0', 'ResNet-50'), like the context points.
    if (!onImagenet && p) points.push({ model: p.name, params: x.params, top1: p.top1, source: 'paper', series, panel: IMAGENET_PANEL });
  }
  const ran = new Set(r.results.filter((x) => x.paperComparable).map((x) => paperModel(x.model)?.name));
  // The 2019 paper's table always; a later family's published rows when the run has one of its models.
  const ranSeries = new Set(r.results.map((x) => seriesOf(x.model)));
  const shown = [...PAPER_MODELS, ...PUBLISHED_MODELS.filter((p) => ranSeries.has(p.series))];
  for (const p of shown) if (!ran.has(p.name)) points.push({ model: p.name, params: p.params, top1: p.top1, source: 'paper, not run', series: p.series, panel: IMAGENET_PANEL });
  return points;
}

export async function renderCharts(r: BenchReport): Promise<Record<(typeof CHARTS)[number][0], string>> {
  const pts: LatencyPoint[] = r.results.map((x) => ({ model: x.label, batch: x.batch, params: x.params, macs: x.macs, p50Ms: x.latencyMs.p50, series: seriesOf(x.model) }));
  const subtitle = `${r.options.ep}, measured ${r.createdAt.slice(0, 10)}`;
  return {
    'latency-vs-params.svg': await latencyVsParams(pts, subtitle),
    'latency-vs-flops.svg': await latencyVsFlops(pts, subtitle),
    'accuracy-vs-params.svg': await accuracyVsParams(accuracyPoints(r)),
  };
}

export const REPORT_FILES = ['results.json', 'results.md', ...CHARTS.map(([f]) => f), ...CHARTS.map(([f]) => f.replace(/\.svg$/, '.png'))] as const;

/** Writes every report into `dir` (created if needed); existing report files there are replaced. */
/**
 * Writes the report set as a whole: every file is first written beside its destination under a
 * temporary name; only when all of them are complete are they renamed into place. A failure (a full
 * disk) removes the temporary files and leaves the previous run's set as it was — never a new
 * results.json beside old charts.
 */
export async function writeReports(r: BenchReport, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const charts = Object.entries(await renderCharts(r));
  const files: [string, string | Uint8Array][] = [['results.json', `${JSON.stringify(r, null, 2)}\n`], ['results.md', toMarkdown(r)], ...charts];
  for (const [name, svg] of charts) files.push([name.replace(/\.svg$/, '.png'), await svgToPng(svg)]);
  const staged: { tmp: string; path: string }[] = [];
  try {
    // A destination that is a directory would fail its rename half-way through the set: refuse first.
    for (const [name] of files) if (lstatSync(join(dir, name), { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${join(dir, name)} is a directory`);
    for (const [name, content] of files) {
      const path = join(dir, name);
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      staged.push({ tmp, path });
      writeFileSync(tmp, content, { flag: 'wx' });
    }
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw new Error(`${dir}: the report could not be written (${(e as Error).message}); the previous report there is unchanged`);
  }
  for (const s of staged) renameSync(s.tmp, s.path);
  return staged.map((s) => s.path);
}
