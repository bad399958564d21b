/**
 * PIL's resize (Image.resize with BICUBIC or BILINEAR, reducing_gap None — what torchvision's
 * Resize does on PIL images) in plain TypeScript, with no Node or DOM imports, so that the browser
 * demo preprocesses exactly like `effnet eval` without sharp:
 *
 *   separable: horizontal pass, then vertical pass, each on 8-bit pixels (the intermediate image is
 *   rounded and clamped to 0..255 as PIL does); output pixel i samples around
 *   centre = (i + 0.5) · in/out (pixel-centre alignment); when shrinking the kernel is widened by
 *   in/out (antialiasing); weights are normalised to sum 1 and applied in 22-bit fixed point.
 *
 * Kernels: bicubic = Keys cubic with a = −0.5 (support 2), bilinear = triangle (support 1).
 * Together with evalGeometry (resize size, centre crop) and normalizePixels this is the whole
 * eval preprocessing of an already decoded image.
 */
import { evalGeometry, type EvalGeometry } from './geometry.js';

export type Interpolation = 'bicubic' | 'bilinear';

interface Filter {
  readonly support: number;
  at(x: number): number;
}

const CUBIC_A = -0.5;
const FILTERS: Readonly<Record<Interpolation, Filter>> = {
  bicubic: {
    support: 2,
    at(x) {
      const a = CUBIC_A;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  bilinear: {
    support: 1,
    at(x) {
      const t = Math.abs(x);
      return t < 1 ? 1 - t : 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point taps of one pass: for output i, `count[i]` weights starting at input `start[i]`. */
interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `width` weights per output pixel (unused tail zero). */
  readonly weights: Int32Array;
  readonly width: number;
}

function taps(inSize: number, outSize: number, filter: Filter): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * width);
  const k = new Float64Array(width);
  const inv = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // Math.trunc as C's (int) cast; the arguments here are > −1 so this equals floor for the clamp.
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const n = hi - lo;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const w = filter.at((j + lo - centre + 0.5) * inv);
      k[j] = w;
      sum += w;
    }
    for (let j = 0; j < n; j++) {
      const w = sum !== 0 ? k[j]! / sum : 0;
      weights[i * width + j] = Math.trunc(w * ONE + (w < 0 ? -0.5 : 0.5));
    }
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, width };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** An 8-bit image, `channels` interleaved values per pixel, rows of `width` pixels. */
export interface Pixels {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * Resizes `src` to `width`×`height` as PIL's Image.resize does (see the module comment). All
 * channels are resampled (PIL would resample alpha too, premultiplied; callers pass RGB or ignore
 * the alpha channel).
 */
export function resizePixels(src: Pixels, width: number, height: number, interpolation: Interpolation = 'bicubic'): Pixels {
  const { width: W, height: H, channels: C } = src;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new RangeError(`resize target ${width}x${height}: expected positive integers`);
  if (src.data.length < W * H * C) throw new RangeError(`pixels: ${src.data.length} values, expected ${W}x${H}x${C} = ${W * H * C}`);
  const filter = FILTERS[interpolation];
  if (!filter) throw new RangeError(`interpolation '${interpolation}': expected bicubic or bilinear`);
  let cur: Pixels = src;
  if (width !== W) {
    const t = taps(W, width, filter);
    const out = new Uint8Array(width * H * C);
    const d = cur.data;
    for (let y = 0; y < H; y++) {
      const row = y * W * C;
      for (let x = 0; x < width; x++) {
        const s = t.start[x]!;
        const n = t.count[x]!;
        const wo = x * t.width;
        for (let c = 0; c < C; c++) {
          let acc = HALF;
          for (let j = 0; j < n; j++) acc += d[row + (s + j) * C + c]! * t.weights[wo + j]!;
          out[(y * width + x) * C + c] = clip8(acc);
        }
      }
    }
    cur = { data: out, width, height: H, channels: C };
  }
  if (height !== H) {
    const t = taps(H, height, filter);
    const out = new Uint8Array(width * height * C);
    const d = cur.data;
    const stride = width * C;
    for (let y = 0; y < height; y++) {
      const s = t.start[y]!;
      const n = t.count[y]!;
      const wo = y * t.width;
      for (let i = 0; i < stride; i++) {
        let acc = HALF;
        for (let j = 0; j < n; j++) acc += d[(s + j) * stride + i]! * t.weights[wo + j]!;
        out[y * stride + i] = clip8(acc);
      }
    }
    cur = { data: out, width, height, channels: C };
  }
  return cur === src ? { data: src.data, width: W, height: H, channels: C } : cur;
}

export interface PixelPreprocessOptions {
  readonly resolution: number;
  readonly cropPct: number;
  readonly interpolation: Interpolation;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * A decoded image (RGB or RGBA; alpha is dropped) → the model input [1,3,R,R] as float32 CHW:
 * evalGeometry's resize, centre crop (zero padding when the image is smaller), /255,
 * (x − mean) / std. The same rules as preprocessImage (sharp) in preprocess.ts.
 */
/** Checks mean and std: 3 finite numbers each, std positive (a zero std divides by zero: NaN inputs); RangeError naming them otherwise. */
export function checkNormalization(o: { readonly mean: readonly number[]; readonly std: readonly number[] }): void {
  const three = (v: unknown, positive: boolean) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!three(o?.mean, false)) throw new RangeError(`mean ${JSON.stringify(o?.mean)}: expected 3 finite numbers (R, G, B)`);
  if (!three(o?.std, true)) throw new RangeError(`std ${JSON.stringify(o?.std)}: expected 3 positive numbers (R, G, B)`);
}

export function preprocessPixels(src: Pixels, o: PixelPreprocessOptions): { data: Float32Array; geometry: EvalGeometry } {
  checkNormalization(o);
  if (src.channels !== 3 && src.channels !== 4) throw new RangeError(`pixels: ${src.channels} channels, expected 3 (RGB) or 4 (RGBA)`);
  const g = evalGeometry(src.width, src.height, o);
  const rgb = src.channels === 3 ? src : dropAlpha(src);
  const img = resizePixels(rgb, g.resizeWidth, g.resizeHeight, o.interpolation);
  const R = o.resolution;
  const plane = R * R;
  const out = new Float32Array(3 * plane);
  const { crop, pad } = g;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * o.std[c]!);
    const shift = o.mean[c]! / o.std[c]!;
    const base = c * plane;
    if (crop.width !== R || crop.height !== R) out.fill(-shift, base, base + plane);
    for (let y = 0; y < crop.height; y++) {
      const srcRow = ((crop.top + y) * img.width + crop.left) * 3 + c;
      const dst = base + (pad.top + y) * R + pad.left;
      for (let x = 0; x < crop.width; x++) out[dst + x] = img.data[srcRow + 3 * x]! * scale - shift;
    }
  }
  return { data: out, geometry: g };
}

function dropAlpha(src: Pixels): Pixels {
  const n = src.width * src.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[3 * i] = src.data[4 * i]!;
    out[3 * i + 1] = src.data[4 * i + 1]!;
    out[3 * i + 2] = src.data[4 * i + 2]!;
  }
  return { data: out, width: src.width, height: src.height, channels: 3 };
}
