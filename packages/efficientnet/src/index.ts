export { decodeBlock, BlockStringError, EFFICIENTNET_B0_STAGES, type BlockSpec, type BlockType } from './arch.js';
export { BASE_RESOLUTION, COMPOUND, compoundScaling, flopsGrowth, VARIANTS, roundFilters, roundRepeats, type Coefficients, type Scaling, type Variant } from './scaling.js';
export { efficientNet, type EfficientNetConfig, type StageRow } from './efficientnet.js';
export { resNet, RESNET_DEPTHS, type ResNetConfig } from './resnet.js';
export {
  amoebaNet,
  AMOEBANET_B_NORMAL,
  AMOEBANET_B_REDUCTION,
  factorizedReduction,
  reductionLayers,
  type AmoebaNetConfig,
  type AmoebaNetGraph,
  type CellSpec,
} from './amoebanet.js';
export { padAmounts, Layers, type Padding } from './layers.js';
export { defaultWeights, type ParamKind, type WeightSource } from './weights.js';
export { fill, fnv1a32, fmix32, formulaInput, uniform } from './formula.js';
export {
  buildModel,
  findModel,
  IMAGENET_MEAN,
  IMAGENET_STD,
  MODELS,
  UnknownModelError,
  type BuildOptions,
  type BuiltModel,
  type ModelSpec,
  type Preprocess,
} from './models.js';
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
