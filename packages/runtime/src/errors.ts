/**
 * Why an execution provider cannot run here, and how to enable it. Callers tell an unavailable
 * provider apart with instanceof (a bench run stops at the first one; other failures are recorded
 * and the run goes on).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The execution providers effnet runs models on in Node: onnxruntime-node (`cpu`, `cuda`,
 * `webgpu` via its built-in Dawn), onnxruntime-web in Node (`wasm`), and onnxruntime-web inside
 * headless Chromium (`web-webgpu`, `web-wasm`).
 */
export const NODE_EPS = ['cpu', 'cuda', 'webgpu', 'wasm', 'web-webgpu', 'web-wasm'] as const;
export type NodeEp = (typeof NODE_EPS)[number];

export const BROWSER_EPS = ['web-webgpu', 'web-wasm'] as const;
export type BrowserEp = (typeof BROWSER_EPS)[number];

/** The execution provider cannot run here (not installed, no adapter, no Chromium): says why and how to enable it. */
export class EpUnavailableError extends Error {
  override name = 'EpUnavailableError';
}

/** The page could not run the requested web EP (no WebGPU adapter, no Chromium). */
export class BrowserEpError extends EpUnavailableError {}

/** No usable Chromium: the web-* execution providers are unavailable. */
export class ChromiumUnavailableError extends EpUnavailableError {}

export const CUDA_HELP =
  'the CUDA execution provider is not installed: onnxruntime-node ships it as a separate download that this project skips ' +
  '(package.json allowScripts denies its install script). On a machine with CUDA 12 and cuDNN 9: ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (network access to NuGet needed), ' +
  'or copy libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so beside onnxruntime_binding.node';

export const WEBGPU_HELP =
  'no WebGPU adapter was found. onnxruntime-node uses Dawn over Vulkan: install a Vulkan driver for your GPU, or on a machine ' +
  "without a GPU use the SwiftShader driver shipped by Debian's chromium package: `apt-get install chromium libvulkan1` and set " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json';

export const WEB_WEBGPU_HELP =
  'Chromium exposes WebGPU with --enable-unsafe-webgpu (effnet passes it); without a GPU the adapter is SwiftShader, ' +
  "which ships with Debian's chromium package — check that /usr/lib/chromium/libvk_swiftshader.so exists, or try --ep web-wasm";

export const CHROMIUM_HELP = "install Debian's chromium (`apt-get install chromium`) or point EFFNET_CHROMIUM at a Chromium/Chrome binary (effnet never downloads a browser)";

const require = createRequire(import.meta.url);

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

/** Throws EpUnavailableError for an unknown EP, or `cuda` without its provider library (checked before any model is built). */
export function checkEp(ep: string): asserts ep is NodeEp {
  if (!(NODE_EPS as readonly string[]).includes(ep)) throw new EpUnavailableError(`--ep ${ep}: unknown execution provider (expected ${NODE_EPS.join(', ')})`);
  if (ep === 'cuda' && !cudaAvailable()) throw new EpUnavailableError(`--ep cuda: ${CUDA_HELP}`);
}

export function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? s).trim();
}
