/**
 * @effnet/runtime: the only place effnet creates onnxruntime sessions. onnxruntime-node in process
 * (`cpu`, `cuda`, `webgpu`) or in a child process (synchronous: BatchNorm statistics), onnxruntime-web
 * in Node (`wasm`) and in headless Chromium (`web-wasm`, `web-webgpu`); which execution provider can
 * run here, and why one cannot. Sessions take and give any number of named tensors of any element
 * type ({@link TensorData}); {@link createRunner} is the single-image-input layer over them.
 * onnxruntime and Chromium are loaded on first use: importing this package loads neither.
 */
export {
  BROWSER_EPS,
  BrowserEpError,
  CHROMIUM_HELP,
  ChromiumUnavailableError,
  checkEp,
  CUDA_HELP,
  cudaAvailable,
  EpUnavailableError,
  NODE_EPS,
  WEB_WEBGPU_HELP,
  WEBGPU_HELP,
  type BrowserEp,
  type NodeEp,
} from './errors.js';
export { elementCount, fromFloat32, isTensorType, TENSOR_TYPES, tensor, tensorBytes, tensorFromBytes, toFloat32, type TensorArrays, type TensorData, type Tensors, type TensorType } from './tensor.js';
export { type IoInfo, type ModelSession, type SessionOptions } from './model-session.js';
export { openSession } from './session.js';
export { packageVersion, runtimeVersions } from './versions.js';
export { runInChildProcess, type ChildRunOptions } from './child.js';
export { checkPixels, createRunner, inputKindOf, MAX_PIXELS, MAX_PIXELS_SIDE, maxAbsDiff, runnerOf, type InputKind, type Output, type Runner, type RunnerOptions } from './runner.js';
export { chromiumArgs, chromiumPath, launchChromium } from './browser/chromium.js';
export { hostAllowed, isLoopbackHost, ISOLATION_HEADERS, startServer, type RunningServer, type ServerOptions, type StaticRoute } from './browser/server.js';
