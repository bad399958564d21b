export { measureLatency, percentile, summarize, type LatencyStats, type TimingOptions, type TimingResult } from './timing.js';
export { measureJob, type BenchJob, type JobModelOptions, type ModelResult, type Phase, type ProgressEvent, type TimingSettings } from './measure.js';
export { checkModels, RESULTS_SCHEMA, runBench, workerPath, type BenchOptions, type BenchRun, type FailedResult, type RunEvent } from './run.js';
export {
  accuracyPoints,
  buildReport,
  parseAccuracy,
  accuracyDescribes,
  isNoisy,
  NOISY_SPREAD,
  renderCharts,
  REPORT_FILES,
  toMarkdown,
  writeReports,
  type AccuracyEntry,
  type BenchReport,
  type ComparisonResult,
  type ReportOptions,
} from './report.js';
export { accuracyVsParams, latencyVsFlops, latencyVsParams, renderSvg, svgToPng, type AccuracyPoint, type LatencyPoint } from './charts.js';
export {
  ALL_PUBLISHED,
  FAMILY_COMPARISONS,
  PAPER_CITATION,
  PAPER_COMPARISONS,
  PAPER_LATENCY_SETUP,
  PAPER_MODELS,
  paperModel,
  PUBLISHED_MODELS,
  seriesOf,
  V2_CITATION,
  type PaperComparison,
  type PaperModel,
  type Series,
} from './paper.js';
export { machineInfo, versions, type MachineInfo, type Versions } from './machine.js';
export { table3, TABLE3, TABLE3_CITATION, type Table3Result, type Table3Row } from './table3.js';
