/**
 * The paper's scaling method as a tool (§3.3): grid-search α, β, γ under α·β²·γ² ≈ 2, and for each
 * triple find the largest compound coefficient φ whose model fits the budget (latency measured on
 * an execution provider, or FLOPs counted from the graph). Accuracy needs training, which effnet
 * does not do: an optional external command scores candidates; otherwise FLOPs are the proxy.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@effnet/safe-fs';
import type { TopLevelSpec } from 'vega-lite';
import { chartFrame, placeLabels, renderSvg } from './perf/charts.js';
import { graphStats, OptionError } from '@effnet/graph-builder';
import { buildModel, COMPOUND, compoundScaling, flopsGrowth, type Coefficients } from '@effnet/efficientnet';

export interface SearchOptions {
  /** Grid over each coefficient, inclusive (default 1.0 .. 1.5 step 0.05). */
  readonly grid?: { readonly min: number; readonly max: number; readonly step: number };
  /** Accept triples with |α·β²·γ² / target − 1| ≤ tolerance (default 0.05). */
  readonly tolerance?: number;
  /** α·β²·γ² target (default 2: FLOPs double per unit of φ). */
  readonly target?: number;
  /** Budget: either latency in ms (needs `measure`) or MACs. */
  readonly budget: { readonly kind: 'latency'; readonly ms: number } | { readonly kind: 'macs'; readonly macs: number };
  /** Largest φ considered (default 8). */
  readonly maxPhi?: number;
  /** φ resolution of the search (default 0.05). */
  readonly phiStep?: number;
  /** Measures the p50 latency (ms) of the given model options; required for a latency budget. */
  readonly measure?: (model: CandidateModel) => Promise<number>;
  /** Scores a candidate (e.g. runs --eval-cmd); higher is better. */
  readonly score?: (model: CandidateModel) => Promise<number>;
  readonly onProgress?: (done: number, total: number, note: string) => void;
  /** Always include the paper's (1.2, 1.1, 1.15) in the grid (default true). */
  readonly includePaper?: boolean;
}

export interface CandidateModel {
  readonly coefficients: Coefficients;
  readonly phi: number;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
}

export interface Candidate extends CandidateModel {
  readonly growth: number;
  readonly params: number;
  readonly macs: number;
  readonly latencyMs?: number;
  readonly score?: number;
  readonly fits: boolean;
  readonly pareto?: boolean;
}

export interface SearchResult {
  readonly budget: SearchOptions['budget'];
  readonly triples: number;
  readonly candidates: readonly Candidate[];
  readonly pareto: readonly Candidate[];
  readonly best: Candidate | undefined;
  readonly rankedBy: 'score' | 'macs (proxy: no --eval-cmd given, accuracy is not measured)';
  /** Latency model fitted on the measurements (latency ≈ a + b·GMACs), used to pick φ before measuring. */
  readonly latencyFit?: { readonly a: number; readonly b: number };
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** Triples (α, β, γ) on the grid with α·β²·γ² within tolerance of the target. */
export function coefficientGrid(o: Pick<SearchOptions, 'grid' | 'tolerance' | 'target' | 'includePaper'> = {}): Coefficients[] {
  const g = o.grid ?? { min: 1, max: 1.5, step: 0.05 };
  const tol = o.tolerance ?? 0.05;
  const target = o.target ?? 2;
  if (!(g.step > 0) || !(g.min >= 1) || !(g.max >= g.min)) throw new OptionError('grid', `grid must have 1 <= min <= max and step > 0, got ${JSON.stringify(g)}`);
  if (!(tol >= 0)) throw new OptionError('tolerance', `tolerance must be >= 0, got ${tol}`);
  const values: number[] = [];
  for (let v = g.min; v <= g.max + 1e-9; v += g.step) values.push(round(v));
  const out: Coefficients[] = [];
  for (const alpha of values)
    for (const beta of values)
      for (const gamma of values) {
        const c = { alpha, beta, gamma };
        // φ must grow the network: a triple of ones never does.
        if (alpha === 1 && beta === 1 && gamma === 1) continue;
        if (Math.abs(flopsGrowth(c) / target - 1) <= tol) out.push(c);
      }
  if ((o.includePaper ?? true) && !out.some((c) => c.alpha === COMPOUND.alpha && c.beta === COMPOUND.beta && c.gamma === COMPOUND.gamma)) out.push({ ...COMPOUND });
  return out;
}

function modelAt(c: Coefficients, phi: number): CandidateModel {
  const s = compoundScaling(phi, c);
  return { coefficients: c, phi: round(phi, 3), width: s.width, depth: s.depth, resolution: s.resolution };
}

const statsCache = new Map<string, { params: number; macs: number }>();
export function countModel(m: CandidateModel): { params: number; macs: number } {
  const key = `${m.width}|${m.depth}|${m.resolution}`;
  let s = statsCache.get(key);
  if (!s) {
    const st = graphStats(buildModel('efficientnet', { width: m.width, depth: m.depth, resolution: m.resolution }).ir);
    s = { params: st.params, macs: st.macs };
    statsCache.set(key, s);
  }
  return s;
}

/** Largest φ on the step grid with predicate(φ) true, assuming monotonic growth in φ. */
function largestPhi(c: Coefficients, maxPhi: number, step: number, ok: (m: CandidateModel) => boolean): number | undefined {
  if (!ok(modelAt(c, 0))) return undefined;
  let lo = 0,
    hi = Math.round(maxPhi / step);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(modelAt(c, mid * step))) lo = mid;
    else hi = mid - 1;
  }
  return round(lo * step, 6);
}

/**
 * Candidates no other candidate beats on both axes: cost = measured latency (or, without one,
 * parameters) and value = the --eval-cmd score (or, without one, FLOPs as the accuracy proxy).
 */
export function paretoFront(cs: readonly Candidate[]): Candidate[] {
  const cost = (c: Candidate) => c.latencyMs ?? c.params;
  const value = (c: Candidate) => c.score ?? c.macs;
  return cs.filter((a) => !cs.some((b) => b !== a && cost(b) <= cost(a) && value(b) >= value(a) && (cost(b) < cost(a) || value(b) > value(a))));
}

function fitLine(points: readonly [number, number][]): { a: number; b: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const b = sxx > 0 ? points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx : my / Math.max(mx, 1e-9);
  return { a: my - b * mx, b: Math.max(b, 1e-9) };
}

export async function scaleSearch(o: SearchOptions): Promise<SearchResult> {
  const triples = coefficientGrid(o);
  const maxPhi = o.maxPhi ?? 8;
  const step = o.phiStep ?? 0.05;
  const candidates: Candidate[] = [];
  let latencyFit: { a: number; b: number } | undefined;
  const measured = new Map<string, number>();
  const measure = async (m: CandidateModel): Promise<number> => {
    const key = `${m.width}|${m.depth}|${m.resolution}`;
    let v = measured.get(key);
    if (v === undefined) {
      v = await o.measure!(m);
      measured.set(key, v);
    }
    return v;
  };

  if (o.budget.kind === 'latency') {
    if (!o.measure) throw new Error('a latency budget needs a latency measurement (an execution provider)');
    const budgetMs = o.budget.ms;
    // Calibrate latency against MACs on B0-like points along the paper's direction.
    const points: [number, number][] = [];
    for (const phi of [0, 1, 2]) {
      const m = modelAt(COMPOUND, phi);
      points.push([countModel(m).macs / 1e9, await measure(m)]);
      o.onProgress?.(points.length, 3 + triples.length, `calibration φ=${phi}`);
    }
    latencyFit = fitLine(points);
    const predict = (m: CandidateModel) => latencyFit!.a + latencyFit!.b * (countModel(m).macs / 1e9);
    let done = 3;
    for (const c of triples) {
      let phi = largestPhi(c, maxPhi, step, (m) => predict(m) <= budgetMs);
      // Verify on the EP; step down until the measured model fits (at most a few steps).
      let latency: number | undefined;
      for (let tries = 0; phi !== undefined && tries < 6; tries++) {
        latency = await measure(modelAt(c, phi));
        if (latency <= budgetMs) break;
        phi = phi - Math.max(step, phi * 0.1) >= 0 ? round(phi - Math.max(step, phi * 0.1), 3) : undefined;
        latency = undefined;
      }
      done++;
      o.onProgress?.(done, 3 + triples.length, `α=${c.alpha} β=${c.beta} γ=${c.gamma}: φ=${phi ?? '-'}`);
      if (phi === undefined || latency === undefined) continue;
      const m = modelAt(c, phi);
      candidates.push({ ...m, growth: round(flopsGrowth(c)), ...countModel(m), latencyMs: latency, fits: true });
    }
  } else {
    const budgetMacs = o.budget.macs;
    let done = 0;
    for (const c of triples) {
      const phi = largestPhi(c, maxPhi, step, (m) => countModel(m).macs <= budgetMacs);
      done++;
      o.onProgress?.(done, triples.length, `α=${c.alpha} β=${c.beta} γ=${c.gamma}: φ=${phi ?? '-'}`);
      if (phi === undefined) continue;
      const m = modelAt(c, phi);
      const latencyMs = o.measure ? await measure(m) : undefined;
      candidates.push({ ...m, growth: round(flopsGrowth(c)), ...countModel(m), ...(latencyMs !== undefined ? { latencyMs } : {}), fits: true });
    }
  }

  if (o.score) {
    for (const [i, c] of candidates.entries()) {
      candidates[i] = { ...c, score: await o.score(c) };
      o.onProgress?.(i + 1, candidates.length, `scored ${i + 1}/${candidates.length}`);
    }
  }
  const pareto = new Set(paretoFront(candidates));
  const all = candidates.map((c) => ({ ...c, pareto: pareto.has(c) }));
  const rankedBy = o.score ? ('score' as const) : ('macs (proxy: no --eval-cmd given, accuracy is not measured)' as const);
  const key = (c: Candidate) => (o.score ? (c.score ?? -Infinity) : c.macs);
  const best = [...all].sort((a, b) => key(b) - key(a) || (a.latencyMs ?? 0) - (b.latencyMs ?? 0))[0];
  return { budget: o.budget, triples: triples.length, candidates: all, pareto: all.filter((c) => c.pareto), best, rankedBy, ...(latencyFit ? { latencyFit } : {}) };
}

// ---------------------------------------------------------------- reports

export interface SearchReport extends SearchResult {
  readonly tool: 'effnet scale-search';
  readonly date: string;
  readonly ep?: string;
  readonly note: string;
}

const f3 = (x: number) => x.toFixed(3);

export function searchMarkdown(r: SearchReport): string {
  const budget = r.budget.kind === 'latency' ? `p50 latency ≤ ${r.budget.ms} ms on ${r.ep ?? 'cpu'}` : `≤ ${(r.budget.macs / 1e9).toFixed(3)} GMACs`;
  const lines = [
    '# effnet scale-search',
    '',
    `Budget: ${budget}. ${r.triples} coefficient triples (α, β, γ) with α·β²·γ² ≈ 2; for each, the largest φ that fits.`,
    `Ranked by ${r.rankedBy}.`,
    '',
    r.note,
    '',
  ];
  if (r.best) {
    const b = r.best;
    lines.push(
      `**Choice:** α=${b.coefficients.alpha}, β=${b.coefficients.beta}, γ=${b.coefficients.gamma}, φ=${b.phi} → width ${f3(b.width)}, depth ${f3(b.depth)}, ` +
        `resolution ${b.resolution}: ${(b.params / 1e6).toFixed(2)}M params, ${(b.macs / 1e9).toFixed(3)} GMACs` +
        `${b.latencyMs !== undefined ? `, p50 ${b.latencyMs.toFixed(1)} ms` : ''}${b.score !== undefined ? `, score ${b.score}` : ''}.`,
      `Export it: \`effnet export efficientnet --width ${b.width} --depth ${b.depth} --resolution ${b.resolution}\``,
      '',
    );
  } else lines.push('**No candidate fits the budget** (even φ = 0, i.e. B0, is over it).', '');
  if (r.latencyFit) lines.push(`Latency model used to pick φ before measuring: latency ≈ ${r.latencyFit.a.toFixed(2)} ms + ${r.latencyFit.b.toFixed(2)} ms/GMAC.`, '');
  lines.push('| α | β | γ | α·β²·γ² | φ | width | depth | res | params (M) | GMACs | p50 ms | score | Pareto |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const sorted = [...r.candidates].sort((a, b) => b.macs - a.macs);
  for (const c of sorted)
    lines.push(
      `| ${c.coefficients.alpha} | ${c.coefficients.beta} | ${c.coefficients.gamma} | ${c.growth} | ${c.phi} | ${f3(c.width)} | ${f3(c.depth)} | ${c.resolution} | ${(c.params / 1e6).toFixed(2)} | ${(c.macs / 1e9).toFixed(3)} | ${c.latencyMs?.toFixed(1) ?? '–'} | ${c.score ?? '–'} | ${c.pareto ? '✓' : ''} |`,
    );
  return `${lines.join('\n')}\n`;
}

function candidatesChart(r: SearchReport): TopLevelSpec {
  const useLatency = r.candidates.some((c) => c.latencyMs !== undefined);
  const raw = r.candidates.map((c) => {
    const group = c === r.best || (r.best && c.coefficients === r.best.coefficients && c.phi === r.best.phi) ? 'choice' : c.pareto ? 'Pareto front' : 'candidate';
    return {
      triple: `α=${c.coefficients.alpha} β=${c.coefficients.beta} γ=${c.coefficients.gamma} φ=${c.phi}`,
      gmacs: c.macs / 1e9,
      y: useLatency ? c.latencyMs! : c.params / 1e6,
      group,
      // Labels on the choice and the Pareto front only: 80 labels would hide the points.
      label: group === 'candidate' ? '' : `α${c.coefficients.alpha} β${c.coefficients.beta} γ${c.coefficients.gamma} φ${c.phi}`,
    };
  });
  const budgetX = r.budget.kind === 'macs' ? r.budget.macs / 1e9 : undefined;
  const budgetY = r.budget.kind === 'latency' && useLatency ? r.budget.ms : undefined;
  const pad = (lo: number, hi: number): [number, number] => {
    const m = (hi - lo || hi || 1) * 0.12;
    return [Math.max(0, lo - m), hi + m];
  };
  const xs = [...raw.map((d) => d.gmacs), ...(budgetX !== undefined ? [budgetX] : [])];
  const ys = [...raw.map((d) => d.y), ...(budgetY !== undefined ? [budgetY] : [])];
  const xDomain = pad(Math.min(...xs), Math.max(...xs));
  const yDomain = pad(Math.min(...ys), Math.max(...ys));
  const labelled = raw.filter((d) => d.label);
  const spots = placeLabels(
    labelled.map((d) => ({ x: d.gmacs, y: d.y, text: d.label })),
    { xDomain, yDomain },
  );
  const labels = labelled.map((d, i) => ({ ...d, ...spots[i]! }));
  const xTitle = 'MACs per image (billions of multiply-adds; the paper\'s "FLOPs")';
  const yTitle = useLatency ? 'p50 latency per image (ms)' : 'parameters (millions)';
  const x = { field: 'gmacs', type: 'quantitative', title: xTitle, scale: { domain: xDomain, nice: false } } as const;
  const y = { field: 'y', type: 'quantitative', title: yTitle, scale: { domain: yDomain, nice: false } } as const;
  const budgetLabel = r.budget.kind === 'latency' ? `budget ${r.budget.ms} ms` : `budget ${(r.budget.macs / 1e9).toPrecision(3)} GMACs`;
  return {
    ...chartFrame(`scale-search: largest φ per (α, β, γ) under the ${budgetLabel}`),
    config: { legend: { orient: 'right', padding: 6 } },
    layer: [
      {
        data: { values: raw },
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y,
          color: { field: 'group', type: 'nominal', title: null, scale: { domain: ['candidate', 'Pareto front', 'choice'], range: ['#9ca3af', '#2563eb', '#dc2626'] } },
          tooltip: [{ field: 'triple' }],
        },
      },
      ...(budgetX !== undefined || budgetY !== undefined
        ? [
            {
              data: { values: [{ v: budgetX ?? budgetY, label: budgetLabel }] },
              layer: [
                {
                  mark: { type: 'rule', color: '#dc2626', strokeDash: [6, 4] },
                  encoding: budgetX !== undefined ? { x: { field: 'v', type: 'quantitative', title: xTitle } } : { y: { field: 'v', type: 'quantitative', title: yTitle } },
                },
                {
                  mark:
                    budgetX !== undefined
                      ? { type: 'text', align: 'right', dx: -4, y: 8, color: '#dc2626', fontSize: 10 }
                      : { type: 'text', align: 'right', dy: -4, x: 'width', color: '#dc2626', fontSize: 10 },
                  encoding: { ...(budgetX !== undefined ? { x: { field: 'v', type: 'quantitative' } } : { y: { field: 'v', type: 'quantitative' } }), text: { field: 'label' } },
                },
              ],
            },
          ]
        : []),
      ...(['left', 'right'] as const).map((align) => ({
        data: { values: labels.filter((l) => l.align === align) },
        mark: { type: 'text', align, baseline: 'alphabetic', fontSize: 10, color: '#333' },
        encoding: { x: { field: 'lx', type: 'quantitative' }, y: { field: 'ly', type: 'quantitative' }, text: { field: 'label' } },
      })),
    ],
  } as TopLevelSpec;
}

/**
 * FLOPs grow as d·w²·r², so the multipliers compound: stacking them would add what multiplies. In
 * log2 the contributions add up exactly: log2 d + 2·log2 w + 2·log2 r = doublings of FLOPs over B0.
 */
function coefficientsChart(r: SearchReport): TopLevelSpec {
  const data = r.candidates.flatMap((c) => {
    const triple = `α=${c.coefficients.alpha} β=${c.coefficients.beta} γ=${c.coefficients.gamma} (φ=${c.phi})`;
    const rr = c.resolution / 224;
    return [
      { triple, order: 0, part: `depth: log2 d (d = α^φ)`, value: Math.log2(c.depth), multiplier: `d=${c.depth.toFixed(2)}` },
      { triple, order: 1, part: `width: 2·log2 w (w = β^φ)`, value: 2 * Math.log2(c.width), multiplier: `w=${c.width.toFixed(2)}` },
      { triple, order: 2, part: `resolution: 2·log2 r (r = γ^φ)`, value: 2 * Math.log2(rr), multiplier: `r=${rr.toFixed(2)}` },
    ];
  });
  const rows = new Set(data.map((d) => d.triple)).size;
  return {
    ...chartFrame('where each candidate spends its FLOPs growth over B0 (log2 contributions add up)', Math.max(120, 18 * rows)),
    config: { legend: { orient: 'bottom', direction: 'vertical', padding: 6, labelLimit: 400 }, axisY: { labelLimit: 320 } },
    data: { values: data },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'triple', type: 'nominal', title: null, sort: '-x' },
      x: { field: 'value', type: 'quantitative', title: 'FLOPs growth over B0, in doublings (log2 d + 2·log2 w + 2·log2 r)', stack: 'zero' },
      color: { field: 'part', type: 'nominal', title: null, sort: { field: 'order' } },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'triple' }, { field: 'multiplier' }, { field: 'value', format: '.2f' }],
    },
  } as TopLevelSpec;
}

/** Writes results.json, results.md and two SVG charts into `dir` (replacing earlier ones). */
export async function writeSearchReports(r: SearchReport, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['results.json', `${JSON.stringify(r, null, 2)}\n`],
    ['results.md', searchMarkdown(r)],
    ['candidates.svg', await renderSvg(candidatesChart(r))],
    ['coefficients.svg', await renderSvg(coefficientsChart(r))],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileAtomic(path, text, { overwrite: true });
    return path;
  });
}
