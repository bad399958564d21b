export { decodeBlock, BlockStringError, type Activation, type BlockSpec, type BlockType, type CnSpec, type DsSpec, type ErSpec, type Gate, type IrSpec, type SeSpec } from './arch.js';
export { BLOCKS, buildBlock, convBnAct, depthwiseSeparable, edgeResidual, invertedResidual, operatorName, type BlockContext, type BlockFn } from './blocks.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  INCEPTION_MEAN,
  INCEPTION_STD,
  isBlockModel,
  PT,
  TF,
  type BlockModel,
  type BuiltGraph,
  type Family,
  type FamilyModel,
  type OwnModel,
  type Preprocess,
} from './family.js';
export { AMOEBANET } from './families/amoebanet.js';
export { RESNET } from './families/resnet.js';
export { FAMILIES } from './families/index.js';
export { EFFICIENTNET, EFFICIENTNET_B0 } from './families/efficientnet.js';
export { EFFICIENTNETV2, EFFICIENTNETV2_BASE, EFFICIENTNETV2_L, EFFICIENTNETV2_M, EFFICIENTNETV2_S, EFFICIENTNETV2_XL } from './families/efficientnetv2.js';
export { EFFICIENTNET_LITE, EFFICIENTNET_LITE0 } from './families/lite.js';
export {
  appliesTo,
  BUILD_OPTIONS,
  describeRange,
  MAX_CELLS,
  MAX_FILTERS,
  MAX_MULTIPLIER,
  MAX_NUM_CLASSES,
  MAX_PHI,
  MAX_RESOLUTION,
  optionName,
  rangeProblem,
  validateBuildOptions,
  type BuildOptionDef,
  type BuildOptionKey,
  type OptionRange,
  type OptionScope,
} from './options.js';
export {
  BASE_RESOLUTION,
  COMPOUND,
  compoundScaling,
  flopsGrowth,
  makeDivisible,
  VARIANTS,
  roundFilters,
  roundRepeats,
  scaleStageRepeats,
  type ChannelRule,
  type Coefficients,
  type DepthRule,
  type Scaling,
  type Variant,
} from './scaling.js';
export {
  efficientNet,
  headChannels,
  scaleChannels,
  SE_TIMM,
  stageBlocks,
  stemChannels,
  type Architecture,
  type EfficientNetConfig,
  type EfficientNetGraph,
  type FeatureTap,
  type HeadSpec,
  type ScalingRule,
  type SeDefaults,
  type StageRow,
  type StemSpec,
} from './efficientnet.js';
export { resNet, RESNET_DEPTHS, type ResNetConfig } from './resnet.js';
export { amoebaNet, AMOEBANET_B_NORMAL, AMOEBANET_B_REDUCTION, factorizedReduction, reductionLayers, type AmoebaNetConfig, type AmoebaNetGraph, type CellSpec } from './amoebanet.js';
export { padAmounts, Layers, type Padding } from './layers.js';
export { defaultWeights, type ParamKind, type WeightSource } from './weights.js';
export { fill, fnv1a32, fmix32, formulaInput, uniform } from './formula.js';
export { buildModel, findModel, MODELS, UnknownModelError, type BuildOptions, type BuiltModel, type ModelSpec, type ResolvedBuildOptions } from './models.js';
export {
  MAX_HEADER_BYTES,
  memorySink,
  READABLE_DTYPES,
  Safetensors,
  SafetensorsError,
  writeSafetensors,
  type ByteSink,
  type ReadableDtype,
  type SafetensorsTensor,
  type TensorToWrite,
  type WriteSafetensorsOptions,
} from './weights/safetensors.js';
export { detectLayout, isIgnoredKey, LAYOUT_LABELS, mapKeys, type KeyMapping, type WeightLayout } from './weights/naming.js';
export { buildModelWithWeights, inspectWeights, WeightsError, type ImportedWeights, type WeightsBuildOptions } from './weights/import.js';
export { fixtureTensors, readFixture, type Fixture, type FixtureEntry } from './weights/fixture.js';
export { openTensorFile, type TensorFile } from './weights/tensor-file.js';
export { CHECKPOINT_KEYS, TORCH_FLOAT_DTYPES, TorchCheckpoint, TorchCheckpointError, type TorchDtype, type TorchTensorInfo } from './weights/torch.js';
export { PickleError } from './weights/pickle.js';
export { ZipError } from './weights/zip.js';
export { hubCacheDir, HubCacheError, hubNamesFor, isHubRef, parseHubRef, resolveHubWeights, timmArchitecture, type HubConfig, type HubWeights } from './weights/hf.js';
export { TIMM_HUB_NAMES } from './weights/hub-names.js';
