/**
 * @effnet/pipeline: the model pipeline below bench and the CLI. A model id (+ trained weights or a
 * WeightSource, passes, precision, opset, tensor names) becomes ONNX bytes or a file
 * ({@link prepareModel}); an existing .onnx file opens as the same kind of handle ({@link openModel}).
 *
 * BatchNorm calibration of the default (formula) weights is injected: pass a
 * {@link StatisticsProvider} as `PrepareOptions.statistics`. The effnet CLI and bench inject
 * {@link onnxruntimeStatistics} (onnxruntime-node, run in a child process: importing this package
 * never loads onnxruntime). Without a provider the default weights keep identity BatchNorm
 * statistics and the file's effnet.weights metadata says "no statistics provider, not calibrated".
 *
 * int8: {@link prepareInt8Model} / {@link quantizeModel} (QDQ, activation ranges from
 * {@link calibrateActivations} over calibration images; onnxruntime-node is imported on first use).
 */
export { isOnnxPath, openModel, openModelFile, prepareModel, type FileModel, type ModelHandle, type PrepareOptions, type PreparedModel } from './prepare.js';
export { applyGraphPasses, flagName, PASSES, passMetadata, resolvePasses, type PassOption, type PassOptions, type PassRecord, type PassStage, type ResolvedPasses } from './passes.js';
export { CALIBRATION_BATCH, calibrateBatchNorm, calibrationBatchFor, MIN_BN_MAP, MIN_BN_SAMPLES, type CalibrateOptions, type StatisticsProvider } from './calibrate.js';
export { batchNormStatistics, onnxruntimeStatistics } from './onnxruntime-statistics.js';
export {
  CALIBRATION_METHODS,
  calibrateActivations,
  calibrationBytesPerImage,
  calibrationGroups,
  OUTLIER_FACTOR,
  OUTLIER_MIN_IMAGES,
  robustExtreme,
  CALIBRATION_RUN_BYTES,
  calibrationMethod,
  entropyRange,
  histogramInto,
  klThreshold,
  percentileRange,
  type ActivationCalibrationOptions,
  type ActivationStatistics,
  type CalibrationSource,
  type CalibrationMethod,
} from './activations.js';
export {
  BUILTIN_CALIBRATION_IMAGES,
  BUILTIN_CALIBRATION_SOURCE,
  DEFAULT_CALIBRATION_IMAGES,
  DEFAULT_CALIBRATION_METHOD,
  Int8OptionError,
  CalibrationMemoryError,
  MAX_CALIBRATION_BATCH,
  calibrationPeakBytes,
  planCalibration,
  int8LatencyOnly,
  LATENCY_ONLY_NOTE,
  prepareInt8Model,
  quantizeModel,
  type ActivationRanges,
  type Int8Calibration,
  type Int8Model,
  type Int8Options,
  type Int8Summary,
} from './int8.js';
export { backboneOutputs, dynamicSize, embedPreprocessing, MAX_IMAGE_SIDE, nhwcInput, outputsHead, parseOutputs, type OutputsMode, type PassContext } from './deploy.js';
export { parseFeatures } from './passes.js';
export {
  ARENA_FACTOR,
  availableMemory,
  describeAvailable,
  inferenceMemory,
  largestFittingBatch,
  largestFittingResolution,
  MEMORY_LIMIT_ENV,
  memoryLimitFromEnv,
  MemoryLimitError,
  statisticsMemory,
  SUGGESTION_MARGIN,
  type InferenceMemory,
  type RunMemory,
} from './memory.js';
