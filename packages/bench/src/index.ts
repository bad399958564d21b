export { isOnnxPath, openModel, openModelFile, prepareModel, type FileModel, type ModelHandle, type PrepareOptions, type PreparedModel } from './prepare.js';
export { createRunner, cudaAvailable, CUDA_HELP, EpUnavailableError, maxAbsDiff, NODE_EPS, WEBGPU_HELP, type NodeEp, type Output, type Runner, type RunnerOptions } from './session.js';
export * from './perf/index.js';
