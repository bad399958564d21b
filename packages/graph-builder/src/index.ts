export type { DType, TensorData } from './dtype.js';
export { DTYPES, dtypeFromOnnx, isFloat } from './dtype.js';
export type { AttrValue, DataSource, Dim, GraphIR, InitializerIR, NodeIR, Shape, ValueInfo } from './ir.js';
export { checkGraphIR, describeValue, formatShape, materialize, numel } from './ir.js';
export { applyOp, Graph, Tensor, type NodeOptions } from './graph.js';
export { NameError, OptionError, ShapeError } from './errors.js';
export { NAME_RE, NameScope } from './names.js';
export { defineOp, inferOp, opDefinition, opDefinitions, type Attrs, type InputSpec, type OpDef, type OpSpec, type OutputType, type TypeConstraint, type ValueType } from './op-def.js';
export { GraphEditor, type EditorOptions, type NodeChanges } from './editor.js';
export * from './ops.js';
export * as shapes from './shapes.js';
export { graphStats, nodeMacs, shapeTable, type GraphStats } from './stats.js';
export { estimateMemory, formatBytes, type MemoryEstimate, type MemoryOptions } from './memory.js';
export { foldBatchNorm } from './passes/fold-batchnorm.js';
export { toFloat16, type Float16Options } from './passes/float16.js';
export { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Array, toFloat16Array } from './half.js';
export { renameValues } from './passes/rename.js';
export { explicitPads } from './passes/explicit-pads.js';
export { clipAsRelu } from './passes/clip-as-relu.js';
export { batchNormStatsGraph, type BatchNormStat, type BatchNormStatsGraph } from './passes/bn-calibration.js';
export { inferShapes } from './passes/infer-shapes.js';
export {
  activationParams,
  QUANTIZABLE_OPS,
  QUANTIZE_POLICIES,
  quantizationTargets,
  quantizeQdq,
  QuantizeError,
  quantizeWeights,
  type QuantizableOp,
  type QuantizeOptions,
  type QuantizePolicy,
  type QuantizeWithRanges,
  type TensorRange,
} from './passes/quantize.js';
