/**
 * The geometry of timm/torchvision evaluation preprocessing, as a pure function so that other
 * implementations (the browser demo) compute exactly the same resize and crop:
 *
 *   scale = floor(R / cropPct)                              timm: scale_size = math.floor(img_size / crop_pct)
 *   shorter side → scale, longer side → floor(scale · long / short)   torchvision Resize(int)
 *   crop R×R at left = round((W' − R) / 2), top = round((H' − R) / 2)  torchvision CenterCrop
 *
 * `round` is Python's round(): halves go to the even neighbour (round(1.5) = 2, round(2.5) = 2).
 * When the resized image is smaller than R in a dimension (cropPct > 1), torchvision pads with
 * zeros (floor((R − size) / 2) before); that case is reported through `pad` (offsets of the image
 * inside the R×R output).
 */

export interface EvalGeometryOptions {
  /** Output side R (the model's input resolution). */
  readonly resolution: number;
  /** Fraction of the resized image the crop keeps; resize target is floor(R / cropPct). */
  readonly cropPct: number;
}

export interface EvalGeometry {
  /** Size the decoded image is resized to (shorter side = `scale`). */
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  /** floor(R / cropPct). */
  readonly scale: number;
  /** Crop box in the resized image, clipped to it. */
  readonly crop: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
  /** Where the crop box lands in the R×R output (non-zero only when the resized image is smaller than R). */
  readonly pad: { readonly left: number; readonly top: number };
}

/** Python 3 round(): round half to even (also ONNX QuantizeLinear's rounding). effnet's one such function: graph-builder's int8 pass and the model builders use it too. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

export function evalGeometry(width: number, height: number, o: EvalGeometryOptions): EvalGeometry {
  const R = o.resolution;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new RangeError(`image size ${width}x${height}: expected positive integers`);
  if (!(Number.isInteger(R) && R > 0)) throw new RangeError(`resolution ${R}: expected a positive integer`);
  if (!(o.cropPct > 0 && Number.isFinite(o.cropPct))) throw new RangeError(`crop_pct ${o.cropPct}: expected a positive number`);
  const scale = Math.floor(R / o.cropPct);
  let resizeWidth: number;
  let resizeHeight: number;
  if (width <= height) {
    resizeWidth = scale;
    resizeHeight = Math.max(1, Math.floor((scale * height) / width));
  } else {
    resizeHeight = scale;
    resizeWidth = Math.max(1, Math.floor((scale * width) / height));
  }
  // torchvision CenterCrop: a dimension smaller than R is first zero-padded by floor((R - size) / 2)
  // before / ceil after; the crop then starts at int(round((size - R) / 2.0)) in the other dimensions.
  const place = (size: number) => (size < R ? { start: 0, size, pad: Math.floor((R - size) / 2) } : { start: roundHalfEven((size - R) / 2), size: R, pad: 0 });
  const x = place(resizeWidth);
  const y = place(resizeHeight);
  return {
    resizeWidth,
    resizeHeight,
    scale,
    crop: { left: x.start, top: y.start, width: x.size, height: y.size },
    pad: { left: x.pad, top: y.pad },
  };
}
