export {
  DEFAULT_OPSET,
  ExportError,
  INLINE_LIMIT_BYTES,
  MAX_OPSET,
  MIN_OPSET,
  checkOpset,
  initializerBytes,
  serializeModel,
  writeModel,
  writeModelAsync,
  type ExportOptions,
  type WriteOptions,
  type WriteResult,
} from './export.js';
export { decodeModel, ModelReadError, readModel, type LoadedModel } from './read.js';
export { summarizeModel, type ModelSummary, type TensorSummary } from './summary.js';
