/**
 * `@effnet/images`: image files for effnet in Node — decoding and timm-style eval resizing with
 * sharp (libvips, loaded on first use so that commands without images start fast), labelled data
 * set listing (ImageFolder or a labels file), and class-name files. The pure rules (geometry,
 * resampling, ImageNet classes, ONNX metadata) are `@effnet/preprocess`.
 */
export {
  cropImage,
  cropNormalizeInto,
  ImageDecodeError,
  KERNEL_FOR,
  loadPixels,
  loadResized,
  MAX_IMAGE_BYTES,
  MAX_IMAGE_PIXELS,
  preprocessImage,
  type Pixels,
  type PreprocessOptions,
  type ResizedImage,
  type ResizeKernel,
} from './preprocess.js';
export { IMAGE_EXTENSIONS, listDataset, listImageFolder, listLabelsFile, MAX_LABELS_BYTES, spreadSubset, type Dataset, type ListOptions, type Sample } from './dataset.js';
export { alignClasses, ClassMappingError, readLabels, toImagenetLabels, type ModelClasses } from './labels.js';
export {
  CalibrationDataError,
  loadCalibrationImages,
  openCalibrationImages,
  type CalibrationBatch,
  type CalibrationImages,
  type CalibrationImagesOptions,
  type CalibrationStream,
} from './calibration.js';
