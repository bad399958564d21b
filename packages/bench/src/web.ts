/**
 * `@effnet/bench/web`: the parts of the eval preprocessing that run anywhere (no Node, no DOM),
 * for the browser demo (packages/web): geometry, PIL-exact resampling, normalisation.
 */
export { evalGeometry, roundHalfEven, type EvalGeometry, type EvalGeometryOptions } from './eval/geometry.js';
export { preprocessPixels, resizePixels, type Interpolation, type PixelPreprocessOptions, type Pixels } from './eval/resample.js';
