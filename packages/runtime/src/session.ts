/**
 * Sessions on every execution provider effnet supports in Node: onnxruntime-node (`cpu`, `cuda`,
 * `webgpu` via its built-in Dawn), onnxruntime-web (`wasm`) and onnxruntime-web in headless
 * Chromium (`web-webgpu`, `web-wasm`; browser/session.ts). onnxruntime is imported on first use,
 * so importing this package loads none of it. An EP that cannot run here fails with an
 * EpUnavailableError that says why and how to enable it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyExternalData } from '@effnet/onnx-export';
import { checkEp, CUDA_HELP, EpUnavailableError, firstLine, WEBGPU_HELP, type NodeEp } from './errors.js';
import { checkFeeds, ioInfo, type ModelSession, type OrtValueMetadata, type SessionOptions } from './model-session.js';
import { fromOrt, type TensorData } from './tensor.js';

const require = createRequire(import.meta.url);

/** Opens `model` (ONNX bytes or a path to an .onnx file) on the chosen execution provider. */
export async function openSession(model: Uint8Array | string, o: SessionOptions = {}): Promise<ModelSession> {
  const ep = o.ep ?? 'cpu';
  checkEp(ep);
  if (typeof model === 'string' && !existsSync(model)) throw new Error(`${model}: no such file`);
  // A path goes to onnxruntime as is: check first that its external data is the data file it was
  // written with (an interrupted `export --force` can leave an old model beside new data).
  if (typeof model === 'string') verifyExternalData(model);
  if (ep === 'web-webgpu' || ep === 'web-wasm')
    return (await import('./browser/session.js')).openBrowserSession(model, { ep, ...(o.threads ? { threads: o.threads } : {}), ...(o.browser ? { browser: o.browser } : {}) });
  return ep === 'wasm' ? wasmSession(model, o) : nodeSession(model, ep, o);
}

async function nodeSession(model: Uint8Array | string, ep: Exclude<NodeEp, 'wasm' | 'web-wasm' | 'web-webgpu'>, o: SessionOptions): Promise<ModelSession> {
  const ort = (await import('onnxruntime-node')).default;
  const opts: import('onnxruntime-node').InferenceSession.SessionOptions = {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    ...(o.quiet ? { logSeverityLevel: 3 as const } : {}),
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    ...(o.lowMemory ? { enableCpuMemArena: false, enableMemPattern: false } : {}),
  };
  const t0 = performance.now();
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  } catch (e) {
    const msg = (e as Error).message;
    if (ep === 'webgpu' && /adapter|vulkan|dawn|webgpu/i.test(msg)) throw new EpUnavailableError(`--ep webgpu: ${WEBGPU_HELP} (onnxruntime: ${firstLine(msg)})`);
    if (ep === 'cuda') throw new EpUnavailableError(`--ep cuda: ${CUDA_HELP} (onnxruntime: ${firstLine(msg)})`);
    throw new Error(`${typeof model === 'string' ? model : 'model'}: onnxruntime could not load it: ${firstLine(msg)}`);
  }
  return wrapSession(ep, performance.now() - t0, session, ortTensor(ort.Tensor));
}

async function wasmSession(model: Uint8Array | string, o: SessionOptions): Promise<ModelSession> {
  const ort = await import('onnxruntime-web');
  const dist = dirname(require.resolve('onnxruntime-web'));
  ort.env.wasm.wasmPaths = pathToFileURL(`${dist}/`).href;
  ort.env.wasm.numThreads = o.threads ?? 1;
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...(o.quiet ? { logSeverityLevel: 3 as const } : {}) });
  return wrapSession('wasm', performance.now() - t0, session, ortTensor(ort.Tensor));
}

/** onnxruntime's Tensor constructor (node or web) applied to a TensorData: the typed array is the one onnxruntime expects for the type. */
function ortTensor<T>(ctor: unknown): (t: TensorData) => T {
  const Tensor = ctor as new (type: string, data: unknown, dims: readonly number[]) => T;
  return (t) => new Tensor(t.type, t.data, [...t.dims]);
}

interface OrtResult {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** What onnxruntime-node and onnxruntime-web sessions have in common, as far as a ModelSession needs. */
interface OrtSession<T> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Input/output metadata (onnxruntime ≥ 1.21). */
  readonly inputMetadata?: readonly (OrtValueMetadata | undefined)[];
  readonly outputMetadata?: readonly (OrtValueMetadata | undefined)[];
  run(feeds: Record<string, T>): Promise<Record<string, OrtResult>>;
  run(feeds: Record<string, T>, fetches: readonly string[]): Promise<Record<string, OrtResult>>;
  release(): Promise<void>;
}

function wrapSession<T>(ep: NodeEp, createMs: number, session: OrtSession<T>, toOrt: (t: TensorData) => T): ModelSession {
  const inputs = ioInfo(session.inputNames, session.inputMetadata);
  const outputs = ioInfo(session.outputNames, session.outputMetadata);
  return {
    ep,
    inputs,
    outputs,
    createMs,
    adapter: null,
    async run(feeds, fetch) {
      checkFeeds(inputs, feeds);
      const ortFeeds: Record<string, T> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
      const r = fetch ? await session.run(ortFeeds, fetch) : await session.run(ortFeeds);
      const out: Record<string, TensorData> = {};
      for (const name of fetch ?? session.outputNames) {
        const t = r[name];
        if (!t) throw new Error(`onnxruntime returned no output '${name}'`);
        out[name] = fromOrt(name, t);
      }
      return out;
    },
    release: () => session.release(),
  };
}
