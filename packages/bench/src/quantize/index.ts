// The int8 calibration moved to @effnet/pipeline (activation ranges) and @effnet/images (calibration images); re-exported for the bench scripts.
export {
  CALIBRATION_METHODS,
  calibrateActivations,
  entropyRange,
  histogramInto,
  klThreshold,
  percentileRange,
  type ActivationCalibrationOptions,
  type ActivationStatistics,
  type CalibrationMethod,
} from '@effnet/pipeline';
export { CalibrationDataError, loadCalibrationImages, type CalibrationBatch, type CalibrationImages, type CalibrationImagesOptions } from '@effnet/images';
