export { CALIBRATION_METHODS, calibrateActivations, entropyRange, histogramInto, klThreshold, percentileRange, type ActivationCalibrationOptions, type ActivationStatistics, type CalibrationBatch, type CalibrationMethod } from './calibrate.js';
export { loadCalibrationImages, type CalibrationImages, type CalibrationImagesOptions } from './images.js';
