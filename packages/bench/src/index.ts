export { createRunner, cudaAvailable, CUDA_HELP, EpUnavailableError, maxAbsDiff, NODE_EPS, WEBGPU_HELP, type NodeEp, type Output, type Runner, type RunnerOptions } from './session.js';
export { classifyImages, softmaxRow, type Classification, type ClassifyOptions } from './eval/classify.js';
export { assertFiniteLogits, evaluate, NonFiniteLogitsError, topK, type ClassAccuracy, type EvalOptions, type EvalProgress, type EvalResult } from './eval/eval.js';
export {
  checkPart,
  datasetFingerprint,
  makePart,
  MAX_SHARDS,
  MergeError,
  mergeParts,
  parseShard,
  PART_FORMAT,
  selectShard,
  SHARD_INDEX_ENV,
  type EvalPart,
  type Merged,
  type Shard,
} from './eval/shard.js';
export { summarizeEval, type EvalRecord, type EvalSummary } from './eval/summary.js';
export * from './perf/index.js';
export {
  coefficientGrid,
  countModel,
  paretoFront,
  scaleSearch,
  searchMarkdown,
  writeSearchReports,
  type Candidate,
  type CandidateModel,
  type SearchOptions,
  type SearchReport,
  type SearchResult,
} from './scale-search.js';
export { CHROMIUM_HELP, chromiumArgs, chromiumPath, launchChromium } from './browser/chromium.js';
export { BROWSER_EPS, createBrowserRunner, type BrowserEp, type BrowserRunner, type BrowserRunnerOptions } from './browser/runner.js';
export { hostAllowed, isLoopbackHost, ISOLATION_HEADERS, startServer, type RunningServer, type ServerOptions, type StaticRoute } from './browser/server.js';
