export { classifyImages, softmaxRow, type Classification, type ClassifyOptions } from './eval/classify.js';
export { assertFiniteLogits, evaluate, NonFiniteLogitsError, topK, type ClassAccuracy, type EvalOptions, type EvalProgress, type EvalResult } from './eval/eval.js';
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
