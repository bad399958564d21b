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
  /** The data set panel ('ImageNet-1k (1000 classes): …' for the paper's figures); each data set is drawn apart. */
  readonly panel: string;
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

/** A PNG of an SVG chart (resvg: an SVG renderer library, no browser), for viewers that do not show SVG. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}

const WIDTH = 560;
/** Legends beside the plot, never over the points. */
const LEGEND_OUTSIDE = { legend: { orient: 'right' as const, padding: 6 } };
const HEIGHT = 360;
const FONT = 10;

export interface LabelInput {
  readonly x: number;
  readonly y: number;
  readonly text: string;
}

/**
 * Label positions (in data units) that do not overlap each other or the points: each label tries
 * spots around its point (right, above-right, below-right, left, …, further out) and takes the first
 * free one. `logX`/`logY` say which axes are log scales; domains must be the scales' fixed domains.
 */
export function placeLabels(
  pts: readonly LabelInput[],
  o: { xDomain: readonly [number, number]; yDomain: readonly [number, number]; logX?: boolean; logY?: boolean; width?: number; height?: number },
): { lx: number; ly: number; align: 'left' | 'right'; hidden?: boolean }[] {
  const W = o.width ?? WIDTH;
  const H = o.height ?? HEIGHT;
  const f = (v: number, log?: boolean) => (log ? Math.log(v) : v);
  const fi = (v: number, log?: boolean) => (log ? Math.exp(v) : v);
  const [x0, x1] = [f(o.xDomain[0], o.logX), f(o.xDomain[1], o.logX)];
  const [y0, y1] = [f(o.yDomain[0], o.logY), f(o.yDomain[1], o.logY)];
  const px = (v: number) => ((f(v, o.logX) - x0) / (x1 - x0)) * W;
  const py = (v: number) => H - ((f(v, o.logY) - y0) / (y1 - y0)) * H;
  const toX = (p: number) => fi(x0 + (p / W) * (x1 - x0), o.logX);
  const toY = (p: number) => fi(y0 + ((H - p) / H) * (y1 - y0), o.logY);
  type Box = [number, number, number, number];
  const hit = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  // Points are obstacles too (a 4 px square around each).
  const placed: Box[] = pts.map((p) => [px(p.x) - 4, py(p.y) - 4, px(p.x) + 4, py(p.y) + 4]);
  const out: { lx: number; ly: number; align: 'left' | 'right'; hidden?: boolean }[] = [];
  const h = FONT + 2;
  for (const p of pts) {
    const w = p.text.length * FONT * 0.58 + 2;
    const cx = px(p.x);
    const cy = py(p.y);
    // Candidate baselines: right of the point at several heights, then left of it.
    const spots: [number, number, 'left' | 'right'][] = [];
    for (const dy of [-5, 9, -17, 21, -29, 33]) spots.push([cx + 6, cy + dy, 'left'], [cx - 6, cy + dy, 'right']);
    let chosen: (typeof spots)[number] | undefined;
    for (const sp of spots) {
      const [bx, by, align] = sp;
      const box: Box = align === 'left' ? [bx, by - h + 2, bx + w, by + 2] : [bx - w, by - h + 2, bx, by + 2];
      // Inside the plot: a label never runs into the legend or off the chart.
      if (box[0] < 0 || box[2] > W || box[1] < -6 || box[3] > H) continue;
      if (!placed.some((b) => hit(b, box))) {
        chosen = sp;
        break;
      }
    }
    // No free spot: the label is left out rather than drawn over another (the point stays).
    if (!chosen) {
      out.push({ lx: p.x, ly: p.y, align: 'left', hidden: true });
      continue;
    }
    const [bx, by, align] = chosen;
    placed.push(align === 'left' ? [bx, by - h + 2, bx + w, by + 2] : [bx - w, by - h + 2, bx, by + 2]);
    out.push({ lx: toX(bx), ly: toY(by), align });
  }
  return out;
}

/** A text layer drawing `label` at the placed (lx, ly) of each datum (from placeLabels). */
function labelLayers(xTitle: string, yTitle: string) {
  const at = (align: 'left' | 'right') => ({
    transform: [{ filter: `datum.align === '${align}' && !datum.hidden` }],
    mark: { type: 'text', align, baseline: 'alphabetic', fontSize: FONT, color: '#333' },
    encoding: { x: { field: 'lx', type: 'quantitative', title: xTitle }, y: { field: 'ly', type: 'quantitative', title: yTitle }, text: { field: 'label' } },
  });
  return [at('left'), at('right')];
}

/** The frame every effnet chart shares: schema, title, size, white background. */
export function chartFrame(title: string, height = HEIGHT) {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: WIDTH, height, background: 'white' } as const;
}

/** A log x scale with room on the right for the label of the largest model. */
function logRoomForLabels(xs: readonly number[]) {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return { type: 'log' as const, nice: false, domain: [lo / 1.3, hi * Math.max(2.5, (hi / lo) ** 0.2)] as [number, number] };
}

/** A fixed log y domain with a margin (labels are placed against it). */
function logPadded(ys: readonly number[]): [number, number] {
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const m = Math.max(1.15, (hi / lo) ** 0.08);
  return [lo / m, hi * m];
}

function latencyChart(points: readonly LatencyPoint[], x: 'params' | 'macs', title: string): TopLevelSpec {
  const raw = points.map((p) => ({
    model: p.model,
    batch: `batch ${p.batch}`,
    x: x === 'params' ? p.params / 1e6 : p.macs / 1e9,
    latency: p.p50Ms,
    family: p.series,
    // One label per point; at several batches the batch goes into the label.
    label: new Set(points.map((q) => q.batch)).size > 1 ? `${p.model} (b${p.batch})` : p.model,
  }));
  const xScale = logRoomForLabels(raw.map((d) => d.x));
  const yDomain = logPadded(raw.map((d) => d.latency));
  const labels = placeLabels(
    raw.map((d) => ({ x: d.x, y: d.latency, text: d.label })),
    { xDomain: xScale.domain, yDomain, logX: true, logY: true },
  );
  const data = raw.map((d, i) => ({ ...d, ...labels[i]! }));
  const xTitle = x === 'params' ? 'parameters (millions)' : 'MACs per image (billions of multiply-adds; the paper\'s "FLOPs")';
  const yTitle = 'p50 latency per batch (ms)';
  const enc = {
    x: { field: 'x', type: 'quantitative', scale: xScale, title: xTitle },
    y: { field: 'latency', type: 'quantitative', scale: { type: 'log', nice: false, domain: yDomain }, title: yTitle },
    color: { field: 'batch', type: 'nominal', title: 'batch' },
  } as const;
  return {
    ...chartFrame(title),
    config: LEGEND_OUTSIDE,
    data: { values: data },
    layer: [
      { mark: { type: 'point', filled: true, size: 70 }, encoding: { ...enc, shape: { field: 'family', type: 'nominal', title: 'family' }, tooltip: [{ field: 'model' }, { field: 'latency' }] } },
      ...labelLayers(xTitle, yTitle),
    ],
  } as TopLevelSpec;
}

export function latencyVsParams(points: readonly LatencyPoint[], subtitle: string): Promise<string> {
  return renderSvg(latencyChart(points, 'params', `Latency vs parameters — ${subtitle}`));
}

export function latencyVsFlops(points: readonly LatencyPoint[], subtitle: string): Promise<string> {
  return renderSvg(latencyChart(points, 'macs', `Latency vs FLOPs — ${subtitle}`));
}

/**
 * Top-1 vs parameters; each family's points joined by a line, as in the paper's Figure 1. Each data
 * set gets its own panel with its own y axis: an Imagenette (10-class) top-1 never shares an axis
 * with the paper's ImageNet figures.
 */
export function accuracyVsParams(points: readonly AccuracyPoint[]): Promise<string> {
  // The paper's ImageNet panel first, then each measured data set.
  const panels = [...new Set(points.map((p) => p.panel))].sort(
    (a, b) => Number(points.some((p) => p.panel === b && p.source !== 'measured')) - Number(points.some((p) => p.panel === a && p.source !== 'measured')),
  );
  // The legend lists only what is drawn (no 'measured' entry without a measured point).
  const SOURCES = [
    ['measured', '#d62728'],
    ['paper', '#1f77b4'],
    ['paper, not run', '#9a9a9a'],
  ] as const;
  const present = SOURCES.filter(([src]) => points.some((p) => p.source === src));
  const color = {
    field: 'source',
    type: 'nominal',
    title: 'top-1 from',
    scale: { domain: present.map(([src]) => src), range: present.map(([, c]) => c) },
  } as const;
  const panelSpec = (panel: string, width: number) => {
    // This run's points are labelled first; context points ('paper, not run') take the room left.
    const raw = points
      .filter((p) => p.panel === panel)
      .sort((a, b) => Number(a.source === 'paper, not run') - Number(b.source === 'paper, not run'))
      .map((p) => ({ model: p.model, params: p.params / 1e6, top1: p.top1, source: p.source, family: p.series, label: p.model }));
    const xScale = logRoomForLabels(raw.map((d) => d.params));
    const ys = raw.map((d) => d.top1);
    const yDomain: [number, number] = [Math.floor(Math.min(...ys) - 1), Math.ceil(Math.max(...ys) + 1)];
    const labels = placeLabels(
      raw.map((d) => ({ x: d.params, y: d.top1, text: d.label })),
      { xDomain: xScale.domain, yDomain, logX: true, width },
    );
    const data = raw.map((d, i) => ({ ...d, ...labels[i]! }));
    const yTitle = 'top-1 accuracy (%)';
    const xTitle = 'parameters (millions)';
    const enc = {
      x: { field: 'params', type: 'quantitative', scale: xScale, title: xTitle },
      y: { field: 'top1', type: 'quantitative', scale: { zero: false, nice: false, domain: yDomain }, title: yTitle },
    } as const;
    return {
      title: { text: panel, fontSize: 12 },
      width,
      height: HEIGHT,
      data: { values: data },
      layer: [
        {
          transform: [{ filter: "datum.family !== 'other'" }],
          mark: { type: 'line', point: false, strokeWidth: 1.5, color: '#9a9a9a' },
          encoding: { ...enc, detail: { field: 'family', type: 'nominal' }, strokeDash: { field: 'family', type: 'nominal', title: 'family' }, order: { field: 'params', type: 'quantitative' } },
        },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { ...enc, color, shape: { field: 'family', type: 'nominal', title: 'family' } } },
        ...labelLayers(xTitle, yTitle),
      ],
    };
  };
  // A short title; the sources in a subtitle (a one-line title made the chart 1,694 px wide).
  const title = {
    text: 'Top-1 accuracy vs parameters',
    subtitle: ['published: Tan & Le 2019 Table 2 (ImageNet); EfficientNetV2 and Lite: their papers / releases'],
    anchor: 'start' as const,
  };
  const { width: _w, height: _h, title: _t, ...frame } = chartFrame('');
  return renderSvg(
    (panels.length === 1
      ? {
          ...frame,
          config: LEGEND_OUTSIDE,
          ...(({ width: _a, title: t, ...rest }) => ({ ...rest, width: WIDTH, title: { ...title, subtitle: [...title.subtitle, t.text] } }))(panelSpec(panels[0]!, WIDTH)),
        }
      : {
          ...frame,
          title,
          config: LEGEND_OUTSIDE,
          hconcat: panels.map((p) => panelSpec(p, p === panels[0] ? WIDTH : 300)),
          resolve: { scale: { x: 'independent', y: 'independent' } },
        }) as TopLevelSpec,
  );
}
