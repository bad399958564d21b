/**
 * Inference sessions on every execution provider effnet supports in Node:
 * onnxruntime-node (`cpu`, `cuda`, `webgpu` via its built-in Dawn) and onnxruntime-web (`wasm`).
 * An EP that cannot run here fails with an error that says why and how to enable it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromFloat16Array, toFloat16Array } from '@effnet/graph-builder';
import { verifyExternalData } from '@effnet/onnx-export';

/** `web-webgpu` / `web-wasm`: onnxruntime-web inside headless Chromium (browser/runner.ts). */
export const NODE_EPS = ['cpu', 'cuda', 'webgpu', 'wasm', 'web-webgpu', 'web-wasm'] as const;
export type NodeEp = (typeof NODE_EPS)[number];

/**
 * The execution provider cannot run here (not installed, no adapter, no Chromium): says why and how
 * to enable it. Callers tell it apart with instanceof (a bench run stops at the first one; other
 * failures are recorded and the run goes on).
 */
export class EpUnavailableError extends Error {
  override name = 'EpUnavailableError';
}

export interface RunnerOptions {
  readonly ep?: NodeEp;
  /** Intra-op threads (cpu) / wasm threads. Default: runtime's choice. */
  readonly threads?: number;
}

export interface Output {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface Runner {
  readonly ep: NodeEp;
  readonly inputName: string;
  readonly outputName: string;
  /** Session creation time, milliseconds. */
  readonly createMs: number;
  run(data: Float32Array, dims: readonly number[]): Promise<Output>;
  release(): Promise<void>;
}

const require = createRequire(import.meta.url);

export const CUDA_HELP =
  'the CUDA execution provider is not installed: onnxruntime-node ships it as a separate download that this project skips ' +
  '(package.json allowScripts denies its install script). On a machine with CUDA 12 and cuDNN 9: ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (network access to NuGet needed), ' +
  'or copy libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so beside onnxruntime_binding.node';

export const WEBGPU_HELP =
  'no WebGPU adapter was found. onnxruntime-node uses Dawn over Vulkan: install a Vulkan driver for your GPU, or on a machine ' +
  "without a GPU use the SwiftShader driver shipped by Debian's chromium package: `apt-get install chromium libvulkan1` and set " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json';

/** Where onnxruntime-node's native binding lives (the CUDA provider library must sit beside it). */
function ortNativeDir(): string | undefined {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function cudaAvailable(): boolean {
  const dir = ortNativeDir();
  return !!dir && existsSync(join(dir, 'libonnxruntime_providers_cuda.so'));
}

async function nodeRunner(model: Uint8Array | string, ep: Exclude<NodeEp, 'wasm'>, o: RunnerOptions): Promise<Runner> {
  const ort = (await import('onnxruntime-node')).default;
  if (ep === 'cuda' && !cudaAvailable()) throw new EpUnavailableError(`--ep cuda: ${CUDA_HELP}`);
  const opts: import('onnxruntime-node').InferenceSession.SessionOptions = {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
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
  return sessionRunner(ep, performance.now() - t0, session, (type, data, dims) => new ort.Tensor(type, data, dims));
}

async function wasmRunner(model: Uint8Array | string, o: RunnerOptions): Promise<Runner> {
  const ort = await import('onnxruntime-web');
  const dist = dirname(require.resolve('onnxruntime-web'));
  ort.env.wasm.wasmPaths = pathToFileURL(`${dist}/`).href;
  ort.env.wasm.numThreads = o.threads ?? 1;
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return sessionRunner('wasm', performance.now() - t0, session, (type, data, dims) => new ort.Tensor(type, data, dims));
}

/** What onnxruntime-node and onnxruntime-web sessions have in common, as far as a Runner needs. */
interface OrtSession<T> {
  readonly inputNames: readonly string[];
  /** Input types (onnxruntime ≥ 1.21): a float16 input (`--fp16-io`) is fed float16. */
  readonly inputMetadata?: readonly ({ readonly isTensor: boolean; readonly type?: string } | undefined)[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, T>): Promise<Record<string, { readonly data: unknown; readonly dims: readonly number[] }>>;
  release(): Promise<void>;
}

function sessionRunner<T>(ep: NodeEp, createMs: number, session: OrtSession<T>, tensor: (type: 'float32' | 'float16', data: Float32Array | Uint16Array, dims: number[]) => T): Runner {
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  // Models exported with --fp16-io take and give float16: converted here, so callers always see float32.
  const half = isHalfInput(session);
  return {
    ep,
    inputName,
    outputName,
    createMs,
    async run(data, dims) {
      const input = half ? tensor('float16', feedData(data, true), [...dims]) : tensor('float32', data, [...dims]);
      const t = (await session.run({ [inputName]: input }))[outputName]!;
      return { data: asFloat32(t.data), dims: t.dims };
    },
    release: () => session.release(),
  };
}

/** Whether the session's first input is float16 (a model exported with `--fp16-io`); shared with the browser runner. */
export function isHalfInput(session: { readonly inputMetadata?: readonly ({ readonly type?: string } | undefined)[] }): boolean {
  return session.inputMetadata?.[0]?.type === 'float16';
}

/** The input as the model takes it: float32 as is, or narrowed to float16 bits for a `--fp16-io` model. */
export function feedData(data: Float32Array, half: true): Uint16Array;
export function feedData(data: Float32Array, half: boolean): Float32Array | Uint16Array;
export function feedData(data: Float32Array, half: boolean): Float32Array | Uint16Array {
  return half ? toFloat16Array(data) : data;
}

/** Output data as float32: float16 outputs (raw bits in a Uint16Array, or a Float16Array) widened. */
export function asFloat32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array) return fromFloat16Array(data);
  if (ArrayBuffer.isView(data) && (data as { constructor: { name: string } }).constructor.name === 'Float16Array') return Float32Array.from(data as unknown as ArrayLike<number>);
  throw new Error(`model output has element type ${(data as object)?.constructor?.name ?? typeof data}; expected float32 or float16`);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** Opens `model` (bytes or a path to an .onnx file) on the chosen execution provider. */
export async function createRunner(model: Uint8Array | string, o: RunnerOptions = {}): Promise<Runner> {
  const ep = o.ep ?? 'cpu';
  if (!NODE_EPS.includes(ep)) throw new EpUnavailableError(`--ep ${ep}: unknown execution provider (expected ${NODE_EPS.join(', ')})`);
  if (typeof model === 'string' && !existsSync(model)) throw new Error(`${model}: no such file`);
  // A path goes to onnxruntime as is: check first that its external data is the data file it was
  // written with (an interrupted `export --force` can leave an old model beside new data).
  if (typeof model === 'string') verifyExternalData(model);
  if (ep === 'web-webgpu' || ep === 'web-wasm') return (await import('./browser/runner.js')).createBrowserRunner(model, { ep, ...(o.threads ? { threads: o.threads } : {}) });
  return ep === 'wasm' ? wasmRunner(model, o) : nodeRunner(model, ep, o);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`outputs differ in size: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
