/**
 * Image file → normalized NCHW float32, the way timm evaluates (PIL + torchvision transforms),
 * decoded and resampled by sharp (libvips):
 *
 *   decode (no EXIF rotation, embedded ICC profile ignored, alpha dropped, grey → RGB)
 *   → resize to evalGeometry's size with PIL's BICUBIC (Catmull-Rom, antialiased when shrinking,
 *     pixel-centre aligned) → center crop R×R → /255 → (x − mean) / std.
 *
 * sharp runs on libuv's thread pool, so many calls may be in flight at once.
 */
import { readRegularFileAsync } from '@effnet/safe-fs';
import { checkNormalization, evalGeometry, type EvalGeometry, type Interpolation } from '@effnet/preprocess';

/** sharp's resampling kernels; 'cubic' is Catmull-Rom (Keys a = −0.5), like PIL's BICUBIC. */
export type ResizeKernel = 'cubic' | 'linear' | 'mitchell' | 'lanczos2' | 'lanczos3' | 'nearest' | 'mks2013' | 'mks2021';

export interface PreprocessOptions {
  readonly resolution: number;
  readonly cropPct: number;
  readonly interpolation: Interpolation;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Override the resampling kernel chosen from `interpolation` (for comparisons). */
  readonly kernel?: ResizeKernel;
}

export const KERNEL_FOR: Readonly<Record<PreprocessOptions['interpolation'], ResizeKernel>> = {
  bicubic: 'cubic',
  bilinear: 'linear',
};

/** An image that could not be decoded: names the file and what the decoder said. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** sharp, loaded on first use (~0.2 s of start-up that commands without images would pay). */
let sharpModule: Promise<typeof import('sharp')> | undefined;
async function loadSharp(): Promise<typeof import('sharp')> {
  sharpModule ??= import('sharp').then((m) => {
    m.default.cache(false); // each image is read once; libvips' operation cache would only hold memory
    return m;
  });
  return sharpModule;
}

/** A decoded image resized to evalGeometry's size (HWC, RGB, uint8), with the crop still to take. */
export interface ResizedImage {
  readonly data: Buffer;
  /**
   * Row stride in pixels (the resampler may return a few columns more than resizeWidth). For images
   * of extreme shape only the crop's part of the resized image is computed; geometry.crop is then
   * relative to `data`.
   */
  readonly width: number;
  readonly height: number;
  readonly geometry: EvalGeometry;
}

/** Largest image file read (bytes): far above any photograph, far below what would exhaust memory. */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;
/** Largest decoded image (pixels, 3 bytes each): 16384×8192, e.g. a 128-megapixel panorama. */
export const MAX_IMAGE_PIXELS = 2 ** 27;

/** Edge pixels replicated around the image before upsampling, so border taps do not see black. */
const UPSAMPLE_MARGIN = 3;

/** A decoded picture: HWC, RGB, uint8 (grey and RGBA pictures converted as PIL's convert('RGB')). */
export interface Pixels {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * Decodes `input` to RGB pixels with no resizing: what an `--embed-preprocessing` file takes
 * (resize, crop and normalize happen in its graph).
 */
export async function loadPixels(input: string | Uint8Array, file = typeof input === 'string' ? input : 'image'): Promise<Pixels> {
  const bytes = await readImageBytes(input, file);
  const sharp = (await loadSharp()).default;
  try {
    return await decodeRgb(sharp, bytes);
  } catch (e) {
    throw new ImageDecodeError(`${file}: ${firstLine((e as Error).message)}`);
  }
}

/** The file's pixels as RGB uint8 HWC, no resizing (grey and RGBA converted; ICC and EXIF orientation ignored, as PIL). */
async function decodeRgb(sharp: (typeof import('sharp'))['default'], bytes: Uint8Array): Promise<Pixels> {
  const rgb = await sharp(bytes, { failOn: 'error', ignoreIcc: true, autoOrient: false, sequentialRead: true, limitInputPixels: MAX_IMAGE_PIXELS })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (rgb.info.channels !== 3) throw new Error(`decoded to ${rgb.info.channels} channels, expected 3`);
  return { data: rgb.data, width: rgb.info.width, height: rgb.info.height };
}

async function readImageBytes(input: string | Uint8Array, file: string): Promise<Uint8Array> {
  try {
    // Only regular files (a FIFO would block, /dev/zero never ends), at most MAX_IMAGE_BYTES.
    return typeof input === 'string' ? await readRegularFileAsync(input, 'image', MAX_IMAGE_BYTES) : input;
  } catch (e) {
    const msg = (e as Error).message;
    throw new ImageDecodeError(msg.startsWith(`${input}: `) ? `${file}: ${msg.slice(String(input).length + 2)}` : `${file}: cannot read (${msg})`);
  }
}

/**
 * Decodes `input` and resizes it to evalGeometry's size. Shrinking uses libvips' reduce with the
 * chosen kernel (antialiased: the kernel is widened by the scale factor, as PIL does). Enlarging
 * uses an affine transform with PIL's pixel-centre alignment (x_in = (x_out + 0.5) / s − 0.5) and
 * replicated edges; libvips' own resize shifts enlarged images by a fraction of a pixel.
 */
export async function loadResized(input: string | Uint8Array, o: Omit<PreprocessOptions, 'mean' | 'std'>, file = typeof input === 'string' ? input : 'image'): Promise<ResizedImage> {
  const bytes = await readImageBytes(input, file);
  const sharp = (await loadSharp()).default;
  try {
    const rgb = await decodeRgb(sharp, bytes);
    const { width: W, height: H } = rgb;
    const g = evalGeometry(W, H, o);
    const raw = (w: number, h: number) => ({ raw: { width: w, height: h, channels: 3 as const } });
    if (g.resizeWidth === W && g.resizeHeight === H) return { data: rgb.data, width: W, height: H, geometry: g };
    if (o.kernel || (g.resizeWidth <= W && g.resizeHeight <= H)) {
      const kernel = o.kernel ?? KERNEL_FOR[o.interpolation];
      const data = await sharp(rgb.data, raw(W, H)).resize(g.resizeWidth, g.resizeHeight, { fit: 'fill', kernel }).raw().toBuffer();
      return { data, width: g.resizeWidth, height: g.resizeHeight, geometry: g };
    }
    const sx = g.resizeWidth / W;
    const sy = g.resizeHeight / H;
    // Only the part of the enlarged image that the crop keeps is computed: a 4000×1 PNG would
    // otherwise become a 728000×182 image (400 MB) for a 160×160 crop. Each output pixel depends on
    // four input pixels around (x + 0.5) / s − 0.5, so the input span under the crop (plus taps) is
    // resampled with the same scale and phase. Images of ordinary shape take the whole-image path.
    const region = g.resizeWidth * g.resizeHeight > 4 * Math.max(1, g.crop.width * g.crop.height);
    const span = (start: number, length: number, s: number, size: number) => {
      if (!region) return { from: 0, to: size, start: 0 };
      const from = Math.max(0, Math.floor((start + 0.5) / s - 0.5) - 2);
      const to = Math.min(size, Math.ceil((start + length - 0.5) / s - 0.5) + 3);
      return { from, to, start };
    };
    const xs = span(g.crop.left, g.crop.width, sx, W);
    const ys = span(g.crop.top, g.crop.height, sy, H);
    const m = UPSAMPLE_MARGIN;
    const w = xs.to - xs.from;
    const h = ys.to - ys.from;
    // Edges replicated by m pixels (real neighbours where the span is inside the image).
    // (Two pipelines: sharp extracts before it extends within one.)
    let padded = await sharp(rgb.data, raw(W, H)).extend({ top: m, bottom: m, left: m, right: m, extendWith: 'copy' }).raw().toBuffer();
    if (region)
      padded = await sharp(padded, raw(W + 2 * m, H + 2 * m))
        .extract({ left: xs.from, top: ys.from, width: w + 2 * m, height: h + 2 * m })
        .raw()
        .toBuffer();
    const up = await sharp(padded, raw(w + 2 * m, h + 2 * m))
      .affine([sx, 0, 0, sy], {
        interpolator: o.interpolation === 'bilinear' ? sharp.interpolators.bilinear : sharp.interpolators.bicubic,
        idx: 0.5 - (xs.start + 0.5) / sx + xs.from - m,
        idy: 0.5 - (ys.start + 0.5) / sy + ys.from - m,
      })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const needW = region ? g.crop.width : g.resizeWidth;
    const needH = region ? g.crop.height : g.resizeHeight;
    if (up.info.width < needW || up.info.height < needH) throw new Error(`resampled to ${up.info.width}x${up.info.height}, expected at least ${needW}x${needH}`);
    const geometry = region ? { ...g, crop: { ...g.crop, left: 0, top: 0 } } : g;
    return { data: up.data, width: up.info.width, height: up.info.height, geometry };
  } catch (e) {
    throw new ImageDecodeError(`${file}: ${firstLine((e as Error).message)}`);
  }
}

/**
 * Takes the R×R center crop of a resized image and writes it normalized, CHW, into `out` at
 * element offset `offset` (one slot of a batch). Padding (crop larger than the image) is 0 before
 * normalization, as torchvision pads.
 */
export function cropNormalizeInto(img: ResizedImage, out: Float32Array, offset: number, o: Pick<PreprocessOptions, 'mean' | 'std' | 'resolution'>): void {
  const R = o.resolution;
  const { crop, pad } = img.geometry;
  const plane = R * R;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * o.std[c]!);
    const shift = o.mean[c]! / o.std[c]!;
    const base = offset + c * plane;
    if (crop.width !== R || crop.height !== R) out.fill(-shift, base, base + plane);
    for (let y = 0; y < crop.height; y++) {
      const src = ((crop.top + y) * img.width + crop.left) * 3 + c;
      const dst = base + (pad.top + y) * R + pad.left;
      for (let x = 0; x < crop.width; x++) out[dst + x] = img.data[src + 3 * x]! * scale - shift;
    }
  }
}

/** The R×R×3 uint8 crop (HWC, RGB) of one image, before normalization. */
export async function cropImage(input: string | Uint8Array, o: Omit<PreprocessOptions, 'mean' | 'std'>): Promise<Buffer> {
  const img = await loadResized(input, o);
  const R = o.resolution;
  const { crop, pad } = img.geometry;
  const out = Buffer.alloc(R * R * 3);
  for (let y = 0; y < crop.height; y++) {
    const src = ((crop.top + y) * img.width + crop.left) * 3;
    img.data.copy(out, ((pad.top + y) * R + pad.left) * 3, src, src + crop.width * 3);
  }
  return out;
}

/** One image as a [1,3,R,R] float32 tensor's data. */
export async function preprocessImage(input: string | Uint8Array, o: PreprocessOptions): Promise<Float32Array> {
  checkNormalization(o);
  const img = await loadResized(input, o);
  const out = new Float32Array(3 * o.resolution * o.resolution);
  cropNormalizeInto(img, out, 0, o);
  return out;
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? s).trim();
}
