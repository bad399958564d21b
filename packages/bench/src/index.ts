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
