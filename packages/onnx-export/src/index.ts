export {
  DEFAULT_OPSET,
  ExportError,
  INLINE_LIMIT_BYTES,
  MAX_OPSET,
  MIN_OPSET,
  checkOpset,
  estimateModelSize,
  initializerBytes,
  InsufficientSpaceError,
  serializeModel,
  writeModel,
  writeModelAsync,
  type ExportOptions,
  type WriteOptions,
  type WriteResult,
} from './export.js';
export { decodeModel, EXTERNAL_DATA_KEYS, ModelReadError, readModel, verifyExternalData, type LoadedModel } from './read.js';
export { assertRegularFile, FileTypeError, openRegularFile, readRegularFile } from '@effnet/safe-fs';
export { summarizeModel, type ModelSummary, type SummaryOptions, type TensorSummary } from './summary.js';
