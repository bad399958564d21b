/**
 * The effnet browser demo: a model (served by `effnet serve`, or any .onnx file picked here), an
 * image (file input or drag & drop), top-5 classes, the execution provider that ran (WebGPU when
 * the browser has an adapter, otherwise wasm with a visible notice) and a latency panel.
 *
 * URL parameters: ?ep=auto|webgpu|wasm picks the execution provider (default auto).
 */
import type * as Ort from 'onnxruntime-web';
// The wasm runtime as separate files (the onnxruntime-web-use-extern-wasm build, see vite.config.ts):
// its threads start workers from the glue script's own URL, never from this page's bundle.
import ortGlueUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { fromFloat16Array, toFloat16Array } from '@effnet/graph-builder';
import {
  displayLabel,
  imagenetClasses,
  int8LatencyOnly,
  LATENCY_ONLY_NOTE,
  noClassesMessage,
  preprocessPixels,
  rankClasses,
  untrainedWeights,
  type ClassOutputs,
  type Pixels,
} from '@effnet/preprocess';
import { readModelInfo, type ModelInfo, type ServedConfig } from './model.js';

type EpChoice = 'auto' | 'webgpu' | 'wasm';
type Ep = 'webgpu' | 'wasm';

interface Loaded {
  readonly session: Ort.InferenceSession;
  readonly ep: Ep;
  readonly adapter: string | null;
  readonly info: ModelInfo;
  readonly labels: readonly string[] | null;
}

/** What the page exposes for tests and the curious: window.effnetDemo. */
interface DemoState {
  state: 'idle' | 'loading-model' | 'ready' | 'classifying' | 'done' | 'measuring' | 'error';
  ep: Ep | null;
  adapter: string | null;
  input: Float32Array | null;
  top5: { index: number; label: string; probability: number }[];
  /** What the model outputs (effnet.outputs): logits, probs, topk, or none (a backbone / embedding file). */
  outputs: ClassOutputs['kind'] | null;
  latency: { runs: number[]; p50: number } | null;
  error: string | null;
}

const demo: DemoState = { state: 'idle', ep: null, adapter: null, input: null, top5: [], outputs: null, latency: null, error: null };
(window as unknown as { effnetDemo: DemoState }).effnetDemo = demo;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  ep: $('ep'),
  notice: $('notice'),
  epSelect: $<HTMLSelectElement>('ep-select'),
  modelName: $('model-name'),
  modelInfo: $('model-info'),
  weightsNotice: $('weights-notice'),
  modelFile: $<HTMLInputElement>('model-file'),
  drop: $('drop'),
  imageFile: $<HTMLInputElement>('image-file'),
  preview: $<HTMLCanvasElement>('preview'),
  imageInfo: $('image-info'),
  status: $('status'),
  outputsNotice: $('outputs-notice'),
  top5: $<HTMLTableElement>('top5'),
  runs: $<HTMLInputElement>('runs'),
  measure: $<HTMLButtonElement>('measure'),
  latency: $('latency'),
  chart: $('chart') as unknown as SVGSVGElement,
};

const IMAGENET_NAMES: readonly string[] = imagenetClasses().map((c) => c.name);

let ort: typeof Ort;
let modelBytes: Uint8Array | null = null;
let modelFileName = '';
let served: ServedConfig | null = null;
let loaded: Loaded | null = null;
let image: File | null = null;

function setStatus(state: DemoState['state'], text: string): void {
  demo.state = state;
  ui.status.textContent = text;
  ui.status.dataset['state'] = state;
}

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  demo.error = msg;
  setStatus('error', `error: ${msg}`);
}

function notice(text: string | null): void {
  ui.notice.hidden = text === null;
  ui.notice.textContent = text ?? '';
}

/** The WebGPU adapter, or why there is none. */
async function webgpuAdapter(): Promise<{ name: string } | { missing: string }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> } }).gpu;
  if (!gpu) return { missing: 'this browser has no WebGPU (navigator.gpu is undefined)' };
  try {
    const a = await gpu.requestAdapter();
    if (!a) return { missing: 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)' };
    return { name: a.info ? [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' ') || 'unknown adapter' : 'unknown adapter' };
  } catch (e) {
    return { missing: `WebGPU adapter request failed: ${(e as Error).message}` };
  }
}

async function createSession(bytes: Uint8Array, choice: EpChoice): Promise<{ session: Ort.InferenceSession; ep: Ep; adapter: string | null }> {
  const wasm = async () => ({ session: await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }), ep: 'wasm' as const, adapter: null });
  if (choice === 'wasm') {
    notice(null);
    return wasm();
  }
  const adapter = await webgpuAdapter();
  if ('missing' in adapter) {
    if (choice === 'webgpu') throw new Error(`WebGPU was asked for: ${adapter.missing}`);
    notice(`WebGPU unavailable — ${adapter.missing}. Running on wasm (CPU) instead.`);
    return wasm();
  }
  try {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
    notice(null);
    return { session, ep: 'webgpu', adapter: adapter.name };
  } catch (e) {
    if (choice === 'webgpu') throw e;
    notice(`WebGPU could not run this model (${(e as Error).message.split('\n')[0]}). Running on wasm (CPU) instead.`);
    return wasm();
  }
}

async function loadModel(): Promise<void> {
  if (!modelBytes) return;
  const bytes = modelBytes;
  setStatus('loading-model', 'loading the model…');
  ui.measure.disabled = true;
  try {
    await loaded?.session.release();
    loaded = null;
    const fromServer = served && modelFileName === served.model.name;
    const info = readModelInfo(bytes, modelFileName);
    // The server's preprocessing includes `effnet serve` flag overrides; a picked file uses its metadata.
    const preprocess = fromServer ? served!.preprocess : info.preprocess;
    const numClasses = info.numClasses;
    const outputs = info.outputs;
    // Names: the server's (its --labels), else the file's own class list (effnet.labels), else ImageNet's for 1000 classes.
    let labels: readonly string[] | null = outputs.kind === 'none' ? null : ((fromServer ? served!.labels : null) ?? info.labels?.map(displayLabel) ?? null);
    if (!labels && numClasses === 1000 && outputs.kind !== 'none') labels = IMAGENET_NAMES;
    const t0 = performance.now();
    const { session, ep, adapter } = await createSession(bytes, ui.epSelect.value as EpChoice);
    const createMs = performance.now() - t0;
    loaded = { session, ep, adapter, info: { ...info, preprocess }, labels };
    demo.outputs = outputs.kind;
    demo.top5 = [];
    ui.top5.hidden = true;
    // A backbone or embedding file: said at once, and the latency panel still times it.
    ui.outputsNotice.hidden = outputs.kind !== 'none';
    ui.outputsNotice.textContent = outputs.kind === 'none' ? `${noClassesMessage(info.name, outputs)}. Pick an image to run it; the latency panel times it.` : '';
    demo.ep = ep;
    demo.adapter = adapter;
    ui.ep.dataset['ep'] = ep;
    ui.ep.textContent = `execution provider: ${ep === 'webgpu' ? 'WebGPU' : 'wasm'}${adapter ? ` (${adapter})` : ''}`;
    ui.modelName.textContent = `${info.name} · ${(bytes.byteLength / 1e6).toFixed(1)} MB`;
    const p = preprocess;
    const input =
      info.input === 'pixels'
        ? `input uint8 pictures of any size (preprocessing in the file, to ${p.resolution}×${p.resolution})`
        : `input ${p.resolution}×${p.resolution}${info.input === 'nhwc' ? ' NHWC' : ''}`;
    const classes =
      outputs.kind === 'none'
        ? `outputs ${outputs.names.join(', ')} (no classes)`
        : `${numClasses ?? '?'} classes${labels ? '' : ' (no class names)'}${outputs.kind === 'probs' ? ', probabilities in the file' : outputs.kind === 'topk' ? `, top-${outputs.k} in the file` : ''}`;
    ui.modelInfo.textContent = `${input}, ${classes}; crop_pct ${p.cropPct}, ${p.interpolation}, mean ${p.mean.join('/')}, std ${p.std.join('/')}; session created in ${createMs.toFixed(0)} ms`;
    // Untrained default weights (exported without --weights): the classes shown are not predictions.
    const untrained = untrainedWeights(info.metadata);
    const latencyOnly = int8LatencyOnly(info.metadata);
    ui.weightsNotice.hidden = !untrained && !latencyOnly;
    ui.weightsNotice.textContent = untrained
      ? `${info.name} has untrained deterministic default weights (exported without --weights): the classes below are not predictions.`
      : latencyOnly
        ? `${info.name}: ${LATENCY_ONLY_NOTE} — the classes below are not predictions (export with --calibration-data <images> for a real int8 calibration).`
        : '';
    setStatus('ready', image ? 'model ready' : 'model ready — choose or drop an image');
    if (image) await classify();
  } catch (e) {
    fail(e);
  }
}

/** Decodes an image file to RGBA pixels as they are stored: no EXIF rotation, no colour management. */
async function decode(file: Blob): Promise<Pixels> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' as ImageOrientation });
  } catch {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, width, height);
  return { data, width, height, channels: 4 };
}

function showPreview(input: Float32Array, R: number, mean: readonly number[], std: readonly number[]): void {
  // The model's view: the normalized crop mapped back to pixels.
  ui.preview.width = R;
  ui.preview.height = R;
  const ctx = ui.preview.getContext('2d')!;
  const img = ctx.createImageData(R, R);
  for (let i = 0; i < R * R; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round((input[c * R * R + i]! * std[c]! + mean[c]!) * 255);
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  ui.preview.hidden = false;
}

let inputTensor: Ort.Tensor | null = null;

/** The picture as RGB bytes (the decoder's alpha channel dropped). */
function rgbOf(px: Pixels): Uint8Array {
  if (px.channels === 3) return Uint8Array.from(px.data);
  const out = new Uint8Array(px.width * px.height * 3);
  for (let i = 0; i < px.width * px.height; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = px.data[i * px.channels + (px.channels === 1 ? 0 : c)]!;
  return out;
}

async function classify(): Promise<void> {
  if (!loaded || !image) return;
  const { session, info, labels } = loaded;
  setStatus('classifying', 'classifying…');
  try {
    const pixels = await decode(image);
    const p = info.preprocess;
    const { data, geometry: g } = preprocessPixels(pixels, p);
    demo.input = data;
    showPreview(data, p.resolution, p.mean, p.std);
    ui.imageInfo.textContent = `${image.name}: ${pixels.width}×${pixels.height} → resized ${g.resizeWidth}×${g.resizeHeight} → crop ${p.resolution}×${p.resolution} at (${g.crop.left}, ${g.crop.top})`;
    // A model exported with --fp16-io takes float16 (raw bits) and gives float16.
    const half = (session.inputMetadata?.[0] as { type?: string } | undefined)?.type === 'float16';
    const R = p.resolution;
    if (info.input === 'pixels') {
      // An embedded-preprocessing file: the decoded picture itself, RGB uint8 [1,H,W,3] (the crop above is only the preview).
      inputTensor = new ort.Tensor('uint8', rgbOf(pixels), [1, pixels.height, pixels.width, 3]);
    } else if (info.input === 'nhwc') {
      const hwc = new Float32Array(data.length);
      for (let c = 0; c < 3; c++) for (let i = 0; i < R * R; i++) hwc[i * 3 + c] = data[c * R * R + i]!;
      inputTensor = half ? new ort.Tensor('float16', toFloat16Array(hwc), [1, R, R, 3]) : new ort.Tensor('float32', hwc, [1, R, R, 3]);
    } else {
      const dims = [1, 3, R, R];
      inputTensor = half ? new ort.Tensor('float16', toFloat16Array(data), dims) : new ort.Tensor('float32', data, dims);
    }
    const t0 = performance.now();
    const out = await session.run({ [session.inputNames[0]!]: inputTensor });
    const ms = performance.now() - t0;
    const on = `${ms.toFixed(0)} ms on ${loaded.ep === 'webgpu' ? 'WebGPU' : 'wasm'}`;
    ui.measure.disabled = false;
    if (info.outputs.kind === 'none') {
      // No class output to rank: the features / embedding ran, which is what the latency panel times.
      demo.top5 = [];
      ui.top5.hidden = true;
      const shapes = session.outputNames.map((n) => `${n} [${out[n]!.dims.join(',')}]`).join(', ');
      setStatus('done', `no classes (a backbone / embedding file): ${shapes} — one inference in ${on}`);
      return;
    }
    // The first output: logits, probabilities or top-K scores (float16 with --fp16-io); a topk file's classes are the second.
    const first = out[session.outputNames[0]!]!;
    const raw = first.data;
    const values = raw instanceof Uint16Array ? fromFloat16Array(raw) : Float32Array.from(raw as ArrayLike<number>);
    const width = Number(first.dims[first.dims.length - 1]);
    const classes = info.outputs.kind === 'topk' ? (out[session.outputNames[1]!]!.data as BigInt64Array) : undefined;
    demo.top5 = rankClasses(info.outputs, values, width, 0, 5, classes).map((c) => ({ ...c, label: labels?.[c.index] ?? `class ${c.index}` }));
    renderTop5();
    setStatus('done', `${demo.top5[0]!.label} — one inference in ${on}`);
  } catch (e) {
    fail(e);
  }
}

function renderTop5(): void {
  const body = ui.top5.tBodies[0]!;
  body.replaceChildren(
    ...demo.top5.map((t, k) => {
      const tr = document.createElement('tr');
      if (k === 0) tr.className = 'top';
      const name = document.createElement('td');
      name.className = 'name';
      name.textContent = t.label;
      const bar = document.createElement('td');
      bar.className = 'p';
      const fill = document.createElement('div');
      fill.className = 'bar';
      fill.style.width = `${Math.max(1, 100 * t.probability)}%`;
      bar.append(fill);
      const v = document.createElement('td');
      v.className = 'v';
      v.textContent = `${(100 * t.probability).toFixed(1)}%`;
      tr.append(name, bar, v);
      return tr;
    }),
  );
  ui.top5.hidden = false;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function measure(): Promise<void> {
  if (!loaded || !inputTensor) return;
  const n = Math.min(500, Math.max(1, Math.floor(Number(ui.runs.value)) || 10));
  const { session } = loaded;
  const feeds = { [session.inputNames[0]!]: inputTensor };
  ui.measure.disabled = true;
  setStatus('measuring', `measuring ${n} runs…`);
  try {
    await session.run(feeds); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      runs.push(performance.now() - t0);
      ui.latency.textContent = `run ${i + 1}/${n}: ${runs[i]!.toFixed(1)} ms`;
    }
    const p50 = median(runs);
    demo.latency = { runs, p50 };
    ui.latency.textContent = `p50 ${p50.toFixed(1)} ms over ${n} runs (min ${Math.min(...runs).toFixed(1)}, max ${Math.max(...runs).toFixed(1)}) · ${(1000 / p50).toFixed(1)} img/s · ${loaded.ep === 'webgpu' ? 'WebGPU' : 'wasm'}, 1 warm-up run`;
    ui.latency.dataset['p50'] = p50.toFixed(3);
    drawChart(runs, p50);
    setStatus('done', `${demo.top5[0]?.label ?? 'no classes'} — latency measured`);
  } catch (e) {
    fail(e);
  } finally {
    ui.measure.disabled = false;
  }
}

/** Bars per run (ms) with the p50 as a line. */
function drawChart(runs: readonly number[], p50: number): void {
  const W = 320;
  const H = 120;
  const pad = 24;
  const max = Math.max(...runs) * 1.1;
  const bw = (W - pad) / runs.length;
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text) e.textContent = text;
    return e;
  };
  const y = (ms: number) => H - 16 - ((H - 24) * ms) / max;
  ui.chart.replaceChildren(
    ...runs.map((ms, i) => el('rect', { x: pad + i * bw + 1, y: y(ms), width: Math.max(1, bw - 2), height: H - 16 - y(ms), fill: '#1f5fd6', opacity: 0.75 })),
    el('line', { x1: pad, x2: W, y1: y(p50), y2: y(p50), stroke: '#d6431f', 'stroke-width': 1.5, 'stroke-dasharray': '4 3' }),
    el('text', { x: W - 4, y: y(p50) - 4, 'text-anchor': 'end', 'font-size': 11, fill: '#d6431f' }, `p50 ${p50.toFixed(1)} ms`),
    el('text', { x: 0, y: 12, 'font-size': 10, fill: '#5b6475' }, `${max.toFixed(0)} ms`),
    el('text', { x: pad, y: H - 2, 'font-size': 10, fill: '#5b6475' }, `run 1…${runs.length}`),
  );
  ui.chart.removeAttribute('hidden');
}

function pickImage(file: File | undefined): void {
  if (!file) return;
  image = file;
  if (loaded) void classify();
  else setStatus(demo.state === 'loading-model' ? 'loading-model' : 'idle', 'image chosen — waiting for the model');
}

ui.imageFile.addEventListener('change', () => pickImage(ui.imageFile.files?.[0]));
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  pickImage(e.dataTransfer?.files[0]);
});
ui.modelFile.addEventListener('change', async () => {
  const f = ui.modelFile.files?.[0];
  if (!f) return;
  modelBytes = new Uint8Array(await f.arrayBuffer());
  modelFileName = f.name;
  await loadModel();
});
ui.epSelect.addEventListener('change', () => void loadModel());
ui.measure.addEventListener('click', () => void measure());

async function start(): Promise<void> {
  const ep = new URLSearchParams(location.search).get('ep');
  if (ep === 'auto' || ep === 'webgpu' || ep === 'wasm') ui.epSelect.value = ep;
  ort = await import('onnxruntime-web');
  ort.env.wasm.wasmPaths = { mjs: new URL(ortGlueUrl, location.href).href, wasm: new URL(ortWasmUrl, location.href).href };
  // multi-threaded wasm when the page is cross-origin isolated (effnet serve sends COOP/COEP).
  ort.env.wasm.numThreads = crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const res = await fetch('./effnet-config.json').catch(() => null);
  if (!res?.ok) {
    ui.modelName.textContent = 'no model served — load an .onnx file (e.g. from `effnet export b0 -o b0.onnx`)';
    return;
  }
  served = (await res.json()) as ServedConfig;
  ui.modelName.textContent = `${served.model.name} · downloading ${(served.model.bytes / 1e6).toFixed(1)} MB…`;
  const m = await fetch(served.model.url);
  if (!m.ok) throw new Error(`${served.model.url}: HTTP ${m.status}`);
  modelBytes = new Uint8Array(await m.arrayBuffer());
  modelFileName = served.model.name;
  await loadModel();
}

start().catch(fail);
