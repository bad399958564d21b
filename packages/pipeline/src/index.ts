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
 */
export { isOnnxPath, openModel, openModelFile, prepareModel, type FileModel, type ModelHandle, type PrepareOptions, type PreparedModel } from './prepare.js';
export { CALIBRATION_BATCH, calibrateBatchNorm, type CalibrateOptions, type StatisticsProvider } from './calibrate.js';
export { batchNormStatistics, onnxruntimeStatistics } from './onnxruntime-statistics.js';
