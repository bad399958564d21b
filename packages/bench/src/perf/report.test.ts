import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelResult } from './measure.js';
import { PAPER_MODELS, PUBLISHED_MODELS } from './paper.js';
import { accuracyDescribes, accuracyPoints, buildReport, IMAGENET_PANEL, parseAccuracy, renderCharts, REPORT_FILES, toMarkdown, writeReports } from './report.js';
import { RESULTS_SCHEMA, type BenchRun } from './run.js';
import { summarize } from './timing.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function result(model: string, params: number, macs: number, latencies: number[], o: Partial<ModelResult> = {}): ModelResult {
  const latencyMs = summarize(latencies);
  return {
    model,
    label: model,
    precision: 'fp32',
    numClasses: 1000,
    paperComparable: true,
    ref: model,
    source: 'built',
    ep: 'cpu',
    batch: 1,
    resolution: 224,
    params,
    macs,
    flops: 2 * macs,
    macsComplete: true,
    nodes: 100,
    modelBytes: params * 4,
    sessionCreateMs: 123,
    latencyMs,
    throughput: 1000 / latencyMs.mean,
    warmup: 2,
    truncated: false,
    peakRssBytes: 300 * 2 ** 20,
    rssAfterReleaseBytes: 100 * 2 ** 20,
    isolated: true,
    ...o,
  };
}

function run(results: ModelResult[], o: Partial<BenchRun['options']> = {}): BenchRun {
  return {
    schema: RESULTS_SCHEMA,
    createdAt: '2026-01-02T03:04:05.000Z',
    machine: { cpu: 'Test CPU', cores: 2, memoryBytes: 8 * 2 ** 30, platform: 'linux', arch: 'x64', osRelease: '6.1', loadAverage: [3.5, 2, 1] },
    versions: { effnet: '0.1.0', node: '20.0.0', 'onnxruntime-node': '1.30.0', 'onnxruntime-web': '1.30.0', tinybench: '6.2.3' },
    options: { models: results.map((r) => r.ref), ep: 'cpu', batches: [1], threads: null, warmup: 2, iterations: 10, minTimeMs: 3000, maxTimeMs: 60000, isolate: true, model: {}, ...o },
    results,
    failures: [],
    durationMs: 1000,
  };
}

const b0 = result('efficientnet-b0', 5_288_548, 385_000_000, [10, 12, 11, 13, 10]);
const r50 = result('resnet50', 25_557_032, 4_100_000_000, [40, 44, 42, 41, 43]);
const b1 = result('efficientnet-b1', 7_794_184, 700_000_000, [16, 15, 17]);
const r152 = result('resnet152', 60_192_808, 11_500_000_000, [100, 110, 105]);

describe('markdown report', () => {
  it('has a Table 2-like row per model with ratios against ResNet-50 and the paper figures labelled', () => {
    const md = toMarkdown(buildReport(run([b0, r50])));
    const row = md.split('\n').find((l) => l.startsWith('| efficientnet-b0 |'))!;
    const cells = row
      .split('|')
      .map((c) => c.trim())
      .slice(1, -1);
    // model, resolution, batch, params, FLOPs, p50, throughput, params÷R50, FLOPs÷R50, latency÷R50, measured top-1, paper top-1, params, FLOPs, CPU latency
    expect(cells.slice(0, 7)).toEqual(['efficientnet-b0', '224', '1', '5.29M', '385.00M', '11.00', (1000 / 11.2).toPrecision(3)]);
    expect(cells[7]).toBe(`${(5_288_548 / 25_557_032).toFixed(2)}x`);
    expect(cells[9]).toBe(`${(11 / 42).toFixed(2)}x`);
    expect(cells.slice(10)).toEqual(['—', '77.1%', '5.3M', '0.39B', '—']);
    expect(md).toMatch(/\*\(paper\)\*/);
    expect(md).toMatch(/not measured here/);
    expect(md).toContain('| resnet50 | 1 | 42.00 | 42.00 | 43.60 | 43.96 | 40.00 |');
    expect(md).not.toMatch(/max abs diff vs cpu/);
  });

  it('shows the paper comparisons with measured ratios, and says which models are missing', () => {
    const rep = buildReport(run([b1, r152, r50]), { comparePaper: true });
    const c = rep.comparisons!;
    const b1c = c.find((x) => x.key === 'b1-vs-resnet152')!;
    expect(b1c.measured!.paramsRatio).toBeCloseTo(60_192_808 / 7_794_184, 10);
    expect(b1c.measured!.latencyRatio).toBeCloseTo(105 / 16, 10);
    expect(b1c.paper).toMatchObject({ paramsRatio: 7.6, macsRatio: 16, latencyRatio: 5.7 });
    const b7c = c.find((x) => x.key === 'b7-vs-gpipe')!;
    expect(b7c.measured).toBeNull();
    expect(b7c.missing).toEqual(['efficientnet-b7', 'amoebanet-b']);
    const md = toMarkdown(rep);
    expect(md).toContain("## The paper's comparisons, measured here");
    expect(md).toMatch(/\| efficientnet-b1 vs resnet152 \| 1 \| 7\.72x \| 7\.6x \| 16\.4x \| 16x \| 6\.56x \| 5\.7x \|/);
    expect(md).toMatch(/not measured \(efficientnet-b7, amoebanet-b\)/);
  });

  it('the family comparisons (V2-S vs B4, V2-B0 vs B0, Lite0 vs B0): measured ratios beside the published ones', () => {
    const v2b0 = result('tf-efficientnetv2-b0', 7_139_704, 718_086_176, [20]);
    const lite0 = result('efficientnet-lite0', 4_652_008, 385_187_552, [8]);
    const rep = buildReport(run([b0, v2b0, lite0]), { comparePaper: true });
    const fam = rep.comparisons!.filter((c) => c.group === 'family');
    expect(fam.map((c) => c.key)).toEqual(['v2s-vs-b4', 'v2b0-vs-b0', 'lite0-vs-b0']);
    const v = fam.find((c) => c.key === 'v2b0-vs-b0')!;
    expect(v.measured!.paramsRatio).toBeCloseTo(5_288_548 / 7_139_704, 10);
    expect(v.paper).toMatchObject({ paramsRatio: 0.75, macsRatio: 0.54, top1Gain: 1.6 });
    expect(fam.find((c) => c.key === 'v2s-vs-b4')!.missing).toEqual(['tf-efficientnetv2-s', 'efficientnet-b4']);
    const md = toMarkdown(rep);
    expect(md).toContain('## EfficientNetV2 and EfficientNet-Lite against EfficientNet, measured here');
    expect(md).toMatch(/\| efficientnet-lite0 vs efficientnet-b0 \| 1 \| 1\.14x \| 1\.13x \| 1\.00x \| 0\.96x \| [0-9.]+x \| — \(not given\) \| −2\.0 pts \|/);
    // Published rows of the new families are labelled with their sources, not as Tan & Le (2019).
    expect(rep.paper.models.find((m) => m.model === 'tf-efficientnetv2-b0')).toMatchObject({ name: 'EfficientNetV2-B0', top1: 78.7, source: expect.stringMatching(/automl/) });
    expect(md).toMatch(/For EfficientNetV2 and EfficientNet-Lite rows the \*\(paper\)\* columns are the published figures of: .*automl.*tensorflow\/tpu/);
  });

  it('lists failures and the diff against cpu for other EPs', () => {
    const wg = result('efficientnet-b0', 5_288_548, 385_000_000, [900], { ep: 'webgpu', maxAbsDiffVsCpu: 1.5e-8 });
    const md = toMarkdown(buildReport({ ...run([wg], { ep: 'webgpu' }), failures: [{ model: 'resnet50', ref: 'resnet50', ep: 'webgpu', batch: 1, error: 'crashed (SIGSEGV)' }] }));
    expect(md).toContain('max abs diff vs cpu');
    expect(md).toContain('1.50e-8');
    expect(md).toMatch(/^\*\*Incomplete: 1 of 2 measurements failed\*\*/m);
    expect(md).toMatch(/## Failed\n[^]*\| resnet50 \| webgpu \| 1 \| crashed \(SIGSEGV\) \|/);
  });
});

describe('results.json and charts', () => {
  it('writes every report kind; JSON carries the documented fields; SVGs come from Vega', async () => {
    const out = join(dir, 'reports');
    const acc = parseAccuracy([{ model: 'b0', top1: 0.5, top5: 0.75, n: 200 }], 'eval.json');
    const files = await writeReports(buildReport(run([b0, r50]), { accuracy: acc, accuracySource: 'eval.json' }), out);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual([...REPORT_FILES]);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.schema).toBe('effnet-bench/1');
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['createdAt', 'machine', 'versions', 'options', 'results', 'failures', 'accuracy', 'comparisons', 'paper']));
    expect(Object.keys(json.results[0])).toEqual(
      expect.arrayContaining(['model', 'ep', 'batch', 'resolution', 'params', 'macs', 'flops', 'modelBytes', 'sessionCreateMs', 'latencyMs', 'throughput', 'peakRssBytes']),
    );
    expect(Object.keys(json.results[0].latencyMs).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p90', 'p99', 'samples', 'stddev']);
    expect(json.accuracy).toEqual([{ model: 'efficientnet-b0', top1: 50, top5: 75, n: 200, source: 'eval.json' }]);
    expect(json.paper.models.map((m: { name: string }) => m.name)).toEqual(['EfficientNet-B0', 'ResNet-50']);
    for (const f of ['latency-vs-params.svg', 'latency-vs-flops.svg', 'accuracy-vs-params.svg']) {
      const svg = readFileSync(join(out, f), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('class="marks"'); // Vega's SVG renderer
      expect(svg).toContain(f === 'accuracy-vs-params.svg' ? 'EfficientNet-B0' : 'efficientnet-b0');
    }
    // Reports are regenerated in place.
    writeFileSync(join(out, 'keep.txt'), 'x');
    await writeReports(buildReport(run([b0])), out);
    expect(readFileSync(join(out, 'keep.txt'), 'utf8')).toBe('x');
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).results).toHaveLength(1);
    // A set that cannot be written whole leaves the previous set as it was (no new results.json beside old charts).
    const before = readFileSync(join(out, 'results.json'), 'utf8');
    rmSync(join(out, 'latency-vs-flops.png'));
    mkdirSync(join(out, 'latency-vs-flops.png'));
    await expect(writeReports(buildReport(run([b0, r50])), out)).rejects.toThrow(/the report could not be written .*latency-vs-flops\.png is a directory\); the previous report there is unchanged/);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe(before);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a noisy row is marked and explained; the load average and a WebGPU adapter are stated', () => {
    const steady = result('efficientnet-b0', 5_288_548, 385_000_000, [10, 10.2, 10.1, 10.3, 10]);
    const noisy = { ...result('resnet50', 25_557_032, 4_100_000_000, [40, 41, 42, 90, 95, 40, 41]), adapter: 'google swiftshader' };
    const md = toMarkdown(buildReport(run([steady, noisy])));
    expect(md).toMatch(/Load average when the run ended: 3\.5, 2, 1 \(1, 5, 15 min\) on 2 cores\./);
    expect(md).toMatch(/WebGPU adapter: google swiftshader — SwiftShader is a CPU emulation of a GPU: these are not GPU latencies\./);
    expect(md).toMatch(/\*\*Noisy:\*\* resnet50 — p90 more than 30% above p50 \(marked †\): the machine was busy \(load average 3\.5 on 2 cores\)/);
    expect(md).toMatch(/\| resnet50 \| 224 \| 1 \| [^|]+ \| [^|]+ \| [\d.]+ † \|/);
    expect(md).not.toMatch(/\| efficientnet-b0 \| 224 \| 1 \| [^|]+ \| [^|]+ \| [\d.]+ † \|/);
  });

  it('paper figures only beside rows they describe; accuracy only on the model it was measured on', () => {
    const int8 = { ...b0, ref: '/x/b0-int8.onnx', label: 'b0-int8.onnx (int8)', precision: 'int8' as const, paperComparable: false, source: 'file' as const };
    const report = buildReport(run([int8, r50]), { accuracy: parseAccuracy({ model: 'efficientnet-b0', top1: 0.8, resolution: 160, numClasses: 10 }, 'e.json') });
    expect(report.paper.models.map((m) => m.name)).toEqual(['ResNet-50']);
    const md = toMarkdown(report);
    expect(md).toMatch(/\| b0-int8\.onnx \(int8\) \| 224 \| 1 \| [^\n]* \| — \| — \| — \| — \| — \|\n/);
    // Measured at 160 px with 10 classes: not the 224 px, 1000-class float32 row.
    const fp32 = buildReport(run([b0]), { accuracy: parseAccuracy({ model: 'efficientnet-b0', top1: 0.8, resolution: 160, numClasses: 10 }, 'e.json') });
    expect(accuracyPoints(fp32).filter((p) => p.source === 'measured')).toEqual([]);
    expect(accuracyDescribes(parseAccuracy({ model: 'efficientnet-b0', top1: 0.8, resolution: 224, numClasses: 1000 }, 'e.json')[0]!, b0)).toBe(true);
    expect(accuracyDescribes(parseAccuracy({ model: 'efficientnet-b0', top1: 0.8, precision: 'int8' }, 'e.json')[0]!, b0)).toBe(false);
  });

  it("accuracy chart: measured ImageNet points where given, the paper's otherwise, other paper models as context", () => {
    const acc = parseAccuracy({ model: 'efficientnet-b0', top1: 0.771, top5: 0.933, classes: 1000 }, 'e.json');
    const pts = accuracyPoints(buildReport(run([b0, r50]), { accuracy: acc }));
    expect(pts.filter((p) => p.model === 'EfficientNet-B0')).toEqual([expect.objectContaining({ source: 'measured', top1: 77.1, params: 5_288_548, panel: IMAGENET_PANEL })]);
    expect(pts.find((p) => p.model === 'ResNet-50')).toMatchObject({ source: 'paper', top1: 76.0, panel: IMAGENET_PANEL });
    expect(pts.filter((p) => p.source === 'paper, not run')).toHaveLength(PAPER_MODELS.length - 2);
  });

  it("accuracy chart: an Imagenette (10-class) top-1 gets its own panel, never the paper's ImageNet axis", async () => {
    const evalJson = { model: 'b0', top1: 0.958, top5: 0.995, n: 3925, data: '/data/imagenette/val/', perClass: Array.from({ length: 10 }, (_, i) => ({ index: i })) };
    const acc = parseAccuracy(evalJson, 'eval.json');
    expect(acc).toEqual([{ model: 'efficientnet-b0', top1: 95.8, top5: 99.5, n: 3925, dataset: 'imagenette/val', classes: 10 }]);
    const report = buildReport(run([b0, r50]), { accuracy: acc, accuracySource: 'eval.json' });
    const pts = accuracyPoints(report);
    const b0pts = pts.filter((p) => p.model === 'EfficientNet-B0');
    expect(b0pts).toEqual([
      expect.objectContaining({ source: 'measured', top1: 95.8, panel: 'imagenette/val (10 classes): measured by effnet eval' }),
      expect.objectContaining({ source: 'paper', top1: 77.1, panel: IMAGENET_PANEL }),
    ]);
    expect(pts.filter((p) => p.panel !== IMAGENET_PANEL)).toHaveLength(1);
    // Unstated data set: also apart.
    expect(accuracyPoints(buildReport(run([b0]), { accuracy: parseAccuracy({ model: 'b0', top1: 0.9 }, 'e') })).find((p) => p.source === 'measured')!.panel).toBe(
      'data set not stated: measured by effnet eval',
    );
    const md = toMarkdown(report);
    expect(md).toContain('95.80% (imagenette/val, 10 classes)');
    expect(md).toContain('ImageNet top-1 *(paper)*');
    expect(md).toMatch(/not comparable with the paper's ImageNet figures/);
    const svg = (await renderCharts(report))['accuracy-vs-params.svg'];
    expect(svg).toContain('imagenette/val (10 classes): measured by effnet eval');
    expect(svg).toContain('ImageNet-1k (1000 classes)');
    expect(svg).not.toContain('ImageNet top-1');
  });

  it('accuracy chart: V2 and Lite are their own series, with their published rows as context when the run has one', () => {
    const v2 = result('tf-efficientnetv2-s', 21_458_488, 8_365_617_152, [300]);
    const pts = accuracyPoints(buildReport(run([b0, v2])));
    expect(pts.find((p) => p.model === 'EfficientNetV2-S')).toMatchObject({ source: 'paper', top1: 83.9, series: 'EfficientNetV2' });
    expect(pts.find((p) => p.model === 'EfficientNet-B0')).toMatchObject({ series: 'EfficientNet' });
    const v2Rows = PUBLISHED_MODELS.filter((p) => p.series === 'EfficientNetV2').length;
    expect(pts.filter((p) => p.series === 'EfficientNetV2')).toHaveLength(v2Rows);
    expect(pts.filter((p) => p.series === 'EfficientNet-Lite')).toEqual([]);
  });
});

describe('parseAccuracy', () => {
  it('reads one object or a list; fractions become percent', () => {
    expect(parseAccuracy({ model: 'resnet50', top1: 0.76, top5: 0.93, n: 50000, extra: 1 }, 'f')).toEqual([{ model: 'resnet50', top1: 76, top5: 93, n: 50000 }]);
    expect(parseAccuracy([{ model: 'b1', top1: 79.1 }], 'f')).toEqual([{ model: 'efficientnet-b1', top1: 79.1 }]);
    expect(parseAccuracy({ model: 'mine.onnx', top1: 0 }, 'f')[0]!.model).toBe('mine.onnx');
  });

  it('names the file and entry of bad input', () => {
    expect(() => parseAccuracy([{ model: 'b0', top1: 0.5 }, { top1: 0.1 }], 'eval.json')).toThrow(/eval\.json: entry 1: 'model'/);
    expect(() => parseAccuracy({ model: 'b0', top1: 'high' }, 'eval.json')).toThrow(/'top1' must be a number/);
    expect(() => parseAccuracy({ model: 'b0', top1: 0.5, top5: 120 }, 'eval.json')).toThrow(/'top5'/);
    expect(() => parseAccuracy(42, 'eval.json')).toThrow(/expected an object/);
  });
});
