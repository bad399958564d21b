/**
 * A ModelSession whose inference happens in headless Chromium with onnxruntime-web: `web-webgpu`
 * (the WebGPU EP) or `web-wasm` (the WebAssembly EP). One browser (or a shared one the caller
 * passes) and one page stay open for the session's life; the model is fetched by the page from a localhost server (in memory); each
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
import { startServer, type RunningServer, type StaticRoute } from './server.js';

export interface BrowserSessionOptions {
  readonly ep: BrowserEp;
  /** onnxruntime-web wasm threads (env.wasm.numThreads). Default 1, as the Node wasm session. */
  readonly threads?: number;
  /** A browser to open the page in (shared: release() closes the page only). Default: one launched for this session. */
  readonly browser?: Browser;
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

/** A page with onnxruntime-web loaded, and the localhost server it fetches models from (routes added per session). */
interface Host {
  readonly server: RunningServer;
  readonly page: Page;
  readonly routes: Map<string, StaticRoute>;
  readonly errors: string[];
}

/** The one page of each shared browser: onnxruntime-web loads (and its wasm compiles) once for all its sessions. */
const hosts = new WeakMap<Browser, Promise<Host>>();
let nextSession = 0;

async function openHost(browser: Browser | (() => Promise<Browser>), onBrowser: (b: Browser) => void): Promise<Host> {
  const routes = new Map<string, StaticRoute>([['/', { body: PAGE, type: 'text/html; charset=utf-8' }]]);
  const server = await startServer({ mounts: { '/ort/': dirname(require.resolve('onnxruntime-web')) }, routes });
  try {
    const b = typeof browser === 'function' ? await browser() : browser;
    onBrowser(b);
    const page = await b.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page
      .waitForFunction(() => 'effnetOrt' in globalThis, undefined, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`onnxruntime-web did not load in Chromium${errors.length ? `: ${errors[0]}` : ''}`);
      });
    return { server, page, routes, errors };
  } catch (e) {
    await server.close();
    throw e;
  }
}

/** The shared browser's page, opened on first use and closed with the browser. */
function sharedHost(browser: Browser): Promise<Host> {
  let host = hosts.get(browser);
  if (!host) {
    host = openHost(browser, () => {});
    hosts.set(browser, host);
    host.then(
      (h) => browser.once('disconnected', () => void h.server.close()),
      () => hosts.delete(browser),
    );
  }
  return host;
}

/** Opens `model` (ONNX bytes or a path to a self-contained .onnx file) in headless Chromium. */
export async function openBrowserSession(model: Uint8Array | string, o: BrowserSessionOptions): Promise<ModelSession> {
  if (!BROWSER_EPS.includes(o.ep)) throw new BrowserEpError(`--ep ${o.ep}: not a browser execution provider (expected ${BROWSER_EPS.join(', ')})`);
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
  const id = `s${nextSession++}`;
  const route = `/model-${id}.onnx`;
  let own: Browser | undefined;
  let host: Host | undefined;
  const cleanup = async () => {
    if (o.browser) {
      // A shared browser and its page stay open for their owner: only this session's model and tensors go.
      host?.routes.delete(route);
      await host?.page
        .evaluate((id) => {
          const w = globalThis as unknown as { effnetSessions?: Record<string, unknown>; effnetInputs?: Record<string, unknown> };
          delete w.effnetSessions?.[id];
          delete w.effnetInputs?.[id];
        }, id)
        .catch(() => {});
    } else {
      await own?.close().catch(() => {});
      await host?.server.close();
    }
  };
  try {
    host = o.browser
      ? await sharedHost(o.browser)
      : await openHost(
          () => launchChromium({ webgpu: o.ep === 'web-webgpu' }),
          (b) => (own = b),
        );
    host.routes.set(route, { body: bytes, type: 'application/octet-stream' });
    const errors = host.errors;
    const info = await host.page
      .evaluate(
        async ({ ep, threads, id, url }): Promise<PageSession | { noAdapter: string }> => {
          const w = globalThis as unknown as { effnetOrt: typeof import('onnxruntime-web'); effnetSessions?: Record<string, unknown>; effnetInputs?: Record<string, unknown> };
          const ort = w.effnetOrt;
          // Read when the wasm starts: the page's first session decides (a shared page keeps it).
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
          const s = await ort.InferenceSession.create(url, { executionProviders: [ep], graphOptimizationLevel: 'all' });
          const createMs = performance.now() - t0;
          (w.effnetSessions ??= {})[id] = s;
          (w.effnetInputs ??= {})[id] = {};
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
        { ep: o.ep === 'web-webgpu' ? 'webgpu' : 'wasm', threads: o.threads ?? 1, id, url: route },
      )
      .catch((e: Error) => {
        throw new Error(`onnxruntime-web (${o.ep}) could not load the model in Chromium: ${firstLine(e.message)}${errors.length ? ` (${firstLine(errors[errors.length - 1]!)})` : ''}`);
      });
    // The page has the model now: the server need not hold its bytes.
    host.routes.delete(route);
    if ('noAdapter' in info) throw new BrowserEpError(`--ep ${o.ep}: no WebGPU adapter in Chromium: ${info.noAdapter}. ${WEB_WEBGPU_HELP}`);
    return pageSession(o.ep, host.page, id, info, cleanup);
  } catch (e) {
    await cleanup();
    if (e instanceof EpUnavailableError) throw e;
    if (/Executable doesn't exist|ENOENT/.test((e as Error).message)) throw new BrowserEpError(`--ep ${o.ep}: ${CHROMIUM_HELP}`);
    throw e;
  }
}

function pageSession(ep: BrowserEp, page: Page, id: string, info: PageSession, cleanup: () => Promise<void>): ModelSession {
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
          async ({ wire, fetch, id }) => {
            const g = globalThis as unknown as {
              effnetOrt: typeof import('onnxruntime-web');
              effnetSessions: Record<string, import('onnxruntime-web').InferenceSession>;
              effnetInputs: Record<string, Record<string, import('onnxruntime-web').Tensor>>;
            };
            const ort = g.effnetOrt;
            const s = g.effnetSessions[id]!;
            const w = { effnetInputs: g.effnetInputs[id]! };
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
          { wire, fetch: fetch ? [...fetch] : null, id },
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
      await page.evaluate((id) => (globalThis as unknown as { effnetSessions?: Record<string, { release(): Promise<void> }> }).effnetSessions?.[id]?.release(), id).catch(() => {});
      await cleanup();
    },
  };
}

function checkType(name: string, type: string): TensorType {
  if (!isTensorType(type)) throw new Error(`model output '${name}' has element type ${type}; effnet's runtime handles ${TENSOR_TYPES.join(', ')}`);
  return type;
}
