export { isOnnxPath, prepareModel, type PrepareOptions, type PreparedModel } from './prepare.js';
