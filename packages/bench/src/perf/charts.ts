/**
 * SVG charts of a benchmark run, rendered in Node by Vega (headless, no browser, no canvas):
 * latency vs parameters, latency vs FLOPs, and top-1 accuracy vs parameters like the paper's Figure 1.
 */
import type { Series } from './paper.js';
import type { TopLevelSpec } from 'vega-lite';

export interface LatencyPoint {
  readonly model: string;
  readonly batch: number;
  readonly params: number;
  readonly macs: number;
  /** p50 latency per batch, ms. */
  readonly p50Ms: number;
  /** The model's family: drawn with its own point shape. */
  readonly series: Series;
}

export interface AccuracyPoint {
  readonly model: string;
  readonly params: number;
  /** Top-1, percent. */
  readonly top1: number;
  /** 'measured' (effnet eval), 'paper' (Table 2, for a model in this run) or 'paper, not run'. */
  readonly source: 'measured' | 'paper' | 'paper, not run';
  /** The family: EfficientNet, EfficientNetV2 and EfficientNet-Lite are each drawn as a line (like Figure 1). */
  readonly series: Series;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: Vega costs ~0.25 s of start-up that every other effnet command would pay.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 560;
/** Bottom right is empty in all three charts (big and fast, big and inaccurate). */
const LEGEND_INSIDE = { legend: { orient: 'bottom-right' as const, fillColor: 'white', padding: 6 } };
const HEIGHT = 360;

/** The frame every effnet chart shares: schema, title, size, white background. */
export function chartFrame(title: string, height = HEIGHT) {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: WIDTH, height, background: 'white' } as const;
}

/** A log x scale with room on the right for the label of the largest model. */
function logRoomForLabels(xs: readonly number[]) {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return { type: 'log' as const, nice: false, domain: [lo / 1.3, hi * Math.max(2.5, (hi / lo) ** 0.2)] };
}

function latencyChart(points: readonly LatencyPoint[], x: 'params' | 'macs', title: string): TopLevelSpec {
  const data = points.map((p) => ({
    model: p.model,
    batch: `batch ${p.batch}`,
    x: x === 'params' ? p.params / 1e6 : p.macs / 1e9,
    latency: p.p50Ms,
    family: p.series,
  }));
  const xTitle = x === 'params' ? 'parameters (millions)' : 'FLOPs per image (billions of multiply-adds)';
  const enc = {
    x: { field: 'x', type: 'quantitative', scale: logRoomForLabels(data.map((d) => d.x)), title: xTitle },
    y: { field: 'latency', type: 'quantitative', scale: { type: 'log', nice: false, padding: 20 }, title: 'p50 latency per batch (ms)' },
    color: { field: 'batch', type: 'nominal', title: null },
  } as const;
  return {
    ...chartFrame(title),
    config: LEGEND_INSIDE,
    data: { values: data },
    layer: [
      { mark: { type: 'point', filled: true, size: 70 }, encoding: { ...enc, shape: { field: 'family', type: 'nominal', title: null }, tooltip: [{ field: 'model' }, { field: 'latency' }] } },
      { mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 11 }, encoding: { ...enc, text: { field: 'model' } } },
    ],
  } as TopLevelSpec;
}

export function latencyVsParams(points: readonly LatencyPoint[], subtitle: string): Promise<string> {
  return renderSvg(latencyChart(points, 'params', `Latency vs parameters — ${subtitle}`));
}

export function latencyVsFlops(points: readonly LatencyPoint[], subtitle: string): Promise<string> {
  return renderSvg(latencyChart(points, 'macs', `Latency vs FLOPs — ${subtitle}`));
}

/** Top-1 vs parameters; the EfficientNet points joined by a line, as in the paper's Figure 1. */
export function accuracyVsParams(points: readonly AccuracyPoint[]): Promise<string> {
  const data = points.map((p) => ({ model: p.model, params: p.params / 1e6, top1: p.top1, source: p.source, family: p.series }));
  const enc = {
    x: { field: 'params', type: 'quantitative', scale: logRoomForLabels(data.map((d) => d.params)), title: 'parameters (millions)' },
    y: { field: 'top1', type: 'quantitative', scale: { zero: false, nice: true, padding: 10 }, title: 'ImageNet top-1 accuracy (%)' },
  } as const;
  const color = {
    field: 'source',
    type: 'nominal',
    title: 'top-1 from',
    scale: { domain: ['measured', 'paper', 'paper, not run'], range: ['#d62728', '#1f77b4', '#9a9a9a'] },
  } as const;
  return renderSvg({
    ...chartFrame('Top-1 accuracy vs parameters (published points: Tan & Le 2019 Table 2; V2 and Lite: their papers/releases)'),
    config: LEGEND_INSIDE,
    data: { values: data },
    layer: [
      {
        transform: [{ filter: "datum.family !== 'other'" }],
        mark: { type: 'line', point: false, strokeWidth: 1.5, color: '#9a9a9a' },
        encoding: { ...enc, detail: { field: 'family', type: 'nominal' }, strokeDash: { field: 'family', type: 'nominal', title: null }, order: { field: 'params', type: 'quantitative' } },
      },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { ...enc, color, shape: { field: 'family', type: 'nominal', title: null } } },
      { mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 }, encoding: { ...enc, text: { field: 'model' } } },
    ],
  } as TopLevelSpec);
}
