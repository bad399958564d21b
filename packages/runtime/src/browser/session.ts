/**
 * A ModelSession whose inference happens in headless Chromium with onnxruntime-web: `web-webgpu`
 * (the WebGPU EP) or `web-wasm` (the WebAssembly EP). One browser and one page stay open for the
 * session's life; the model is fetched by the page from a localhost server (in memory); each
 * input crosses as base64 and is cached in the page while it does not change (a benchmark repeats
 * the same input); the outputs come back as base64 with their types and dims. Each run therefore
 * costs one DevTools round trip besides the inference. Any number of inputs and outputs, of any
 * element type of tensor.ts.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_EPS, BrowserEpError, CHROMIUM_HELP, EpUnavailableError, firstLine, WEB_WEBGPU_HELP, type BrowserEp } from '../errors.js';
import { checkFeeds, ioInfo, type IoInfo, type ModelSession } from '../model-session.js';
import { isTensorType, TENSOR_TYPES, tensorBytes, tensorFromBytes, type TensorData, type TensorType } from '../tensor.js';
import { launchChromium } from './chromium.js';
import { startServer, type RunningServer } from './server.js';

export interface BrowserSessionOptions {
  readonly ep: BrowserEp;
  /** onnxruntime-web wasm threads (env.wasm.numThreads). Default 1, as the Node wasm session. */
  readonly threads?: number;
}

const require = createRequire(import.meta.url);

/** The page: onnxruntime-web (all backends) from the package's dist, nothing else. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>effnet runtime</title>
<script type="module">
import * as ort from '/ort/ort.all.min.mjs';
globalThis.effnetOrt = ort;
</script>`;

type PageMeta = { type?: string; shape?: (number | string)[] } | undefined;

/** What the page reports after creating the session. */
interface PageSession {
  createMs: number;
  inputNames: string[];
  outputNames: string[];
  inputMetadata?: PageMeta[];
  outputMetadata?: PageMeta[];
  adapter: string | null;
}

/** A tensor crossing the DevTools protocol: base64 bytes, or null for "the one the page already holds under this name". */
interface WireTensor {
  name: string;
  type: string;
  /** The typed array holding the data (Float32Array, BigInt64Array, …). */
  array: string;
  dims: number[];
  data: string | null;
}

/** Opens `model` (ONNX bytes or a path to a self-contained .onnx file) in headless Chromium. */
export async function openBrowserSession(model: Uint8Array | string, o: BrowserSessionOptions): Promise<ModelSession> {
  if (!BROWSER_EPS.includes(o.ep)) throw new BrowserEpError(`--ep ${o.ep}: not a browser execution provider (expected ${BROWSER_EPS.join(', ')})`);
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
  const dist = dirname(require.resolve('onnxruntime-web'));
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await server?.close();
  };
  try {
    server = await startServer({
      mounts: { '/ort/': dist },
      routes: new Map([
        ['/', { body: PAGE, type: 'text/html; charset=utf-8' }],
        ['/model.onnx', { body: bytes, type: 'application/octet-stream' }],
      ]),
    });
    browser = await launchChromium({ webgpu: o.ep === 'web-webgpu' });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page
      .waitForFunction(() => 'effnetOrt' in globalThis, undefined, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`onnxruntime-web did not load in Chromium${errors.length ? `: ${errors[0]}` : ''}`);
      });
    const info = await page
      .evaluate(
        async ({ ep, threads }): Promise<PageSession | { noAdapter: string }> => {
          const w = globalThis as unknown as { effnetOrt: typeof import('onnxruntime-web'); effnetSession: unknown; effnetInputs: unknown };
          const ort = w.effnetOrt;
          ort.env.wasm.numThreads = threads;
          ort.env.logLevel = 'error';
          let adapter: string | null = null;
          if (ep === 'webgpu') {
            const gpu = (globalThis as unknown as { navigator: { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> } } }).navigator
              .gpu;
            if (!gpu) return { noAdapter: 'navigator.gpu is undefined (WebGPU is off in this browser)' };
            const a = await gpu.requestAdapter();
            if (!a) return { noAdapter: 'navigator.gpu.requestAdapter() returned null' };
            adapter = a.info ? [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' ') : 'unknown';
          }
          const t0 = performance.now();
          const s = await ort.InferenceSession.create('/model.onnx', { executionProviders: [ep], graphOptimizationLevel: 'all' });
          const createMs = performance.now() - t0;
          w.effnetSession = s;
          w.effnetInputs = {};
          type Meta = { type?: string; shape?: (number | string)[] } | undefined;
          const meta = s as unknown as { inputMetadata?: readonly Meta[]; outputMetadata?: readonly Meta[] };
          const plain = (m: readonly Meta[] | undefined) => m?.map((x) => (x ? { ...(x.type ? { type: x.type } : {}), ...(x.shape ? { shape: [...x.shape] } : {}) } : undefined));
          const inputMetadata = plain(meta.inputMetadata);
          const outputMetadata = plain(meta.outputMetadata);
          return {
            createMs,
            inputNames: [...s.inputNames],
            outputNames: [...s.outputNames],
            adapter,
            ...(inputMetadata ? { inputMetadata } : {}),
            ...(outputMetadata ? { outputMetadata } : {}),
          };
        },
        { ep: o.ep === 'web-webgpu' ? 'webgpu' : 'wasm', threads: o.threads ?? 1 },
      )
      .catch((e: Error) => {
        throw new Error(`onnxruntime-web (${o.ep}) could not load the model in Chromium: ${firstLine(e.message)}`);
      });
    if ('noAdapter' in info) throw new BrowserEpError(`--ep ${o.ep}: no WebGPU adapter in Chromium: ${info.noAdapter}. ${WEB_WEBGPU_HELP}`);
    return pageSession(o.ep, page, info, cleanup);
  } catch (e) {
    await cleanup();
    if (e instanceof EpUnavailableError) throw e;
    if (/Executable doesn't exist|ENOENT/.test((e as Error).message)) throw new BrowserEpError(`--ep ${o.ep}: ${CHROMIUM_HELP}`);
    throw e;
  }
}

function pageSession(ep: BrowserEp, page: Page, info: PageSession, cleanup: () => Promise<void>): ModelSession {
  /** The bytes of each input the page holds (sent again only when they change). */
  const held = new Map<string, { type: string; dims: string; bytes: Buffer }>();
  let released = false;
  const inputs: IoInfo[] = ioInfo(info.inputNames, info.inputMetadata);
  const outputs: IoInfo[] = ioInfo(info.outputNames, info.outputMetadata);
  return {
    ep,
    inputs,
    outputs,
    createMs: info.createMs,
    adapter: info.adapter,
    async run(feeds, fetch) {
      if (released) throw new Error(`${ep}: session already released`);
      checkFeeds(inputs, feeds);
      const wire: WireTensor[] = Object.entries(feeds).map(([name, t]) => {
        const bytes = Buffer.from(tensorBytes(t));
        const dims = JSON.stringify(t.dims);
        const h = held.get(name);
        const same = h !== undefined && h.type === t.type && h.dims === dims && h.bytes.equals(bytes);
        if (!same) held.set(name, { type: t.type, dims, bytes });
        return { name, type: t.type, array: t.data.constructor.name, dims: [...t.dims], data: same ? null : bytes.toString('base64') };
      });
      const r = await page
        .evaluate(
          async ({ wire, fetch }) => {
            const w = globalThis as unknown as {
              effnetOrt: typeof import('onnxruntime-web');
              effnetSession: import('onnxruntime-web').InferenceSession;
              effnetInputs: Record<string, import('onnxruntime-web').Tensor>;
            };
            const ort = w.effnetOrt;
            const s = w.effnetSession;
            for (const t of wire) {
              if (t.data === null) continue;
              const bin = atob(t.data);
              const u8 = new Uint8Array(bin.length);
              for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
              // The typed array Node holds the tensor in (tensor.ts), by name: the page cannot import that table.
              const Ctor = (globalThis as unknown as Record<string, (new (b: ArrayBuffer) => ArrayBufferView) | undefined>)[t.array];
              if (!/^(Big)?(Int|Uint|Float)\d+Array$/.test(t.array) || !Ctor) throw new Error(`input '${t.name}': ${t.array} is not a typed array`);
              w.effnetInputs[t.name] = new ort.Tensor(t.type as 'float32', new Ctor(u8.buffer) as Float32Array, t.dims);
            }
            const feeds: Record<string, import('onnxruntime-web').Tensor> = {};
            for (const t of wire) feeds[t.name] = w.effnetInputs[t.name]!;
            const names = fetch ?? [...s.outputNames];
            const out = await s.run(feeds, names);
            return names.map((name) => {
              const t = out[name]!;
              // Raw bytes: float16 as bits (a Uint16Array or a Float16Array), int64 as 8-byte words.
              const f = t.data as unknown as ArrayBufferView;
              const b = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
              let str = '';
              for (let i = 0; i < b.length; i += 0x8000) str += String.fromCharCode(...b.subarray(i, i + 0x8000));
              return { name, type: t.type as string, dims: [...t.dims], data: btoa(str) };
            });
          },
          { wire, fetch: fetch ? [...fetch] : null },
        )
        .catch((e: Error) => {
          held.clear();
          throw new Error(`onnxruntime-web (${ep}) in Chromium: ${firstLine(e.message)}`);
        });
      const result: Record<string, TensorData> = {};
      for (const t of r) result[t.name] = tensorFromBytes(checkType(t.name, t.type), Buffer.from(t.data, 'base64'), t.dims);
      return result;
    },
    async release() {
      if (released) return;
      released = true;
      await page.evaluate(() => (globalThis as unknown as { effnetSession?: { release(): Promise<void> } }).effnetSession?.release()).catch(() => {});
      await cleanup();
    },
  };
}

function checkType(name: string, type: string): TensorType {
  if (!isTensorType(type)) throw new Error(`model output '${name}' has element type ${type}; effnet's runtime handles ${TENSOR_TYPES.join(', ')}`);
  return type;
}
