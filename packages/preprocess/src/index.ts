/**
 * `@effnet/preprocess`: effnet's image preprocessing as pure functions (no dependencies, no Node
 * or DOM imports), shared by `effnet eval` and the browser demo so both feed a model the same
 * numbers: timm's eval geometry, PIL-exact resampling, normalisation, the ImageNet-1k classes, and
 * the decoding of effnet's ONNX metadata.
 */
export { evalGeometry, roundHalfEven, type EvalGeometry, type EvalGeometryOptions } from './geometry.js';
export { checkNormalization, preprocessPixels, resizePixels, type Interpolation, type PixelPreprocessOptions, type Pixels } from './resample.js';
export { allImagenetWnids, displayLabel, imagenetClass, imagenetClasses, type ImagenetClass } from './labels.js';
export {
  BUILTIN_CALIBRATION_SOURCE,
  DEFAULT_CROP_PCT,
  declaredLayout,
  describeImageModel,
  int8LatencyOnly,
  LATENCY_ONLY_NOTE,
  IMAGENET_MEAN,
  IMAGENET_STD,
  MAX_CLASSES,
  MAX_FIXED_BATCH,
  MAX_RESOLUTION,
  metadataLabels,
  metadataPreprocess,
  type ImageInputKind,
  type ImageModelInfo,
  UNTRAINED_WEIGHTS,
  untrainedWeights,
  type MetadataDim,
  type ModelIo,
} from './metadata.js';
export { metadataOutputs, noClassesMessage, rankClasses, type ClassOutputs, type RankedClass } from './outputs.js';
