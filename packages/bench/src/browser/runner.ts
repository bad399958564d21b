/**
 * A Runner whose inference happens in headless Chromium with onnxruntime-web: `web-webgpu` (the
 * WebGPU EP) or `web-wasm` (the WebAssembly EP). One browser and one page stay open for the
 * runner's life; the model is fetched by the page from a localhost server (in memory), the input
 * crosses once as base64 and is cached in the page while it does not change (a benchmark repeats
 * the same input), the output comes back as base64. Each run therefore costs one DevTools
 * round trip besides the inference. A `--fp16-io` model is fed float16 and its float16 output
 * widened, with the Node runners' conversions (session.ts), so callers always see float32.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { asFloat32, EpUnavailableError, feedData, isHalfInput, type Output, type Runner } from '../session.js';
import { CHROMIUM_HELP, launchChromium } from './chromium.js';
import { startServer, type RunningServer } from './server.js';

export const BROWSER_EPS = ['web-webgpu', 'web-wasm'] as const;
export type BrowserEp = (typeof BROWSER_EPS)[number];

export interface BrowserRunnerOptions {
  readonly ep: BrowserEp;
  /** onnxruntime-web wasm threads (env.wasm.numThreads). Default 1, as the Node wasm runner. */
  readonly threads?: number;
}

/** A Runner in Chromium; `adapter` names the WebGPU adapter the page got ("google swiftshader" without a GPU), null for wasm. */
export interface BrowserRunner extends Runner {
  readonly ep: BrowserEp;
  readonly adapter: string | null;
}

/** The page could not run the requested web EP (no WebGPU adapter, no Chromium). */
export class BrowserEpError extends EpUnavailableError {}

export const WEB_WEBGPU_HELP =
  'Chromium exposes WebGPU with --enable-unsafe-webgpu (effnet passes it); without a GPU the adapter is SwiftShader, ' +
  "which ships with Debian's chromium package — check that /usr/lib/chromium/libvk_swiftshader.so exists, or try --ep web-wasm";

const require = createRequire(import.meta.url);

/** The page: onnxruntime-web (all backends) from the package's dist, nothing else. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>effnet bench</title>
<script type="module">
import * as ort from '/ort/ort.all.min.mjs';
globalThis.effnetOrt = ort;
</script>`;

/** What the page reports after creating the session. */
interface PageSession {
  createMs: number;
  inputName: string;
  outputName: string;
  adapter: string | null;
  /** onnxruntime-web's metadata of the first input (its `type` is 'float16' for a --fp16-io model); absent when it does not say. */
  input?: { type?: string };
}

/** Output bytes from the page as float32: float32 as is, float16 bits widened (session.ts asFloat32). */
function fromBase64(s: string, type: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  if (type !== 'float32' && type !== 'float16') throw new Error(`model output has element type ${type}; expected float32 or float16`);
  const out = type === 'float32' ? new Float32Array(b.byteLength / 4) : new Uint16Array(b.byteLength / 2);
  new Uint8Array(out.buffer).set(b);
  return asFloat32(out);
}

/** Opens `model` (ONNX bytes or a path to a self-contained .onnx file) in headless Chromium. */
export async function createBrowserRunner(model: Uint8Array | string, o: BrowserRunnerOptions): Promise<BrowserRunner> {
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
          const w = globalThis as unknown as { effnetOrt: typeof import('onnxruntime-web'); effnetSession: unknown; effnetInput: unknown };
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
          const meta = (s as unknown as { inputMetadata?: readonly ({ type?: string } | undefined)[] }).inputMetadata;
          return { createMs, inputName: s.inputNames[0]!, outputName: s.outputNames[0]!, adapter, ...(meta?.[0] ? { input: { ...(meta[0].type ? { type: meta[0].type } : {}) } } : {}) };
        },
        { ep: o.ep === 'web-webgpu' ? 'webgpu' : 'wasm', threads: o.threads ?? 1 },
      )
      .catch((e: Error) => {
        throw new Error(`onnxruntime-web (${o.ep}) could not load the model in Chromium: ${firstLine(e.message)}`);
      });
    if ('noAdapter' in info) throw new BrowserEpError(`--ep ${o.ep}: no WebGPU adapter in Chromium: ${info.noAdapter}. ${WEB_WEBGPU_HELP}`);
    return pageRunner(o.ep, page, info, cleanup);
  } catch (e) {
    await cleanup();
    if (e instanceof EpUnavailableError) throw e;
    if (/Executable doesn't exist|ENOENT/.test((e as Error).message)) throw new BrowserEpError(`--ep ${o.ep}: ${CHROMIUM_HELP}`);
    throw e;
  }
}

function pageRunner(ep: BrowserEp, page: Page, info: PageSession, cleanup: () => Promise<void>): BrowserRunner {
  let last: Buffer | undefined;
  let released = false;
  const half = isHalfInput({ inputMetadata: [info.input] });
  return {
    ep,
    inputName: info.inputName,
    outputName: info.outputName,
    createMs: info.createMs,
    adapter: info.adapter,
    async run(data: Float32Array, dims: readonly number[]): Promise<Output> {
      if (released) throw new Error(`${ep}: runner already released`);
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const same = last !== undefined && last.equals(bytes);
      const fed = same ? undefined : feedData(data, half);
      const input = fed ? Buffer.from(fed.buffer, fed.byteOffset, fed.byteLength).toString('base64') : null;
      if (!same) last = Buffer.from(bytes);
      const r = await page
        .evaluate(
          async ({ input, dims, half }) => {
            const w = globalThis as unknown as {
              effnetOrt: typeof import('onnxruntime-web');
              effnetSession: import('onnxruntime-web').InferenceSession;
              effnetInput?: import('onnxruntime-web').Tensor;
            };
            const ort = w.effnetOrt;
            const s = w.effnetSession;
            if (input !== null) {
              const bin = atob(input);
              const u8 = new Uint8Array(bin.length);
              for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
              w.effnetInput = half ? new ort.Tensor('float16', new Uint16Array(u8.buffer), dims) : new ort.Tensor('float32', new Float32Array(u8.buffer), dims);
            }
            const out = await s.run({ [s.inputNames[0]!]: w.effnetInput! });
            const t = out[s.outputNames[0]!]!;
            // Raw bytes: float32, or float16 bits (a Uint16Array or a Float16Array) widened in Node.
            const f = t.data as unknown as ArrayBufferView;
            const b = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
            let str = '';
            for (let i = 0; i < b.length; i += 0x8000) str += String.fromCharCode(...b.subarray(i, i + 0x8000));
            return { data: btoa(str), dims: [...t.dims], type: t.type as string };
          },
          { input, dims: [...dims], half },
        )
        .catch((e: Error) => {
          last = undefined;
          throw new Error(`onnxruntime-web (${ep}) in Chromium: ${firstLine(e.message)}`);
        });
      return { data: fromBase64(r.data, r.type), dims: r.dims };
    },
    async release() {
      if (released) return;
      released = true;
      await page.evaluate(() => (globalThis as unknown as { effnetSession?: { release(): Promise<void> } }).effnetSession?.release()).catch(() => {});
      await cleanup();
    },
  };
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? s).trim();
}
