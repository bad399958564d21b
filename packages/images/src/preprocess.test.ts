import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { evalGeometry } from '@effnet/preprocess';
import { pythonModules, requires, SHARED, sharedData } from '../../../test-utils/requires.js';
import { cropImage, ImageDecodeError, preprocessImage } from './preprocess.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-preprocess-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shared = SHARED;

/** A lossless PNG whose R channel is a ramp in x, G a ramp in y, B constant. */
async function ramps(w: number, h: number, fx: (x: number) => number, fy: (y: number) => number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      raw[(y * w + x) * 3] = fx(x);
      raw[(y * w + x) * 3 + 1] = fy(y);
      raw[(y * w + x) * 3 + 2] = 77;
    }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

const px = (img: Buffer, R: number, x: number, y: number, c: number) => img[(y * R + x) * 3 + c]!;

describe('resampling keeps PIL pixel-centre alignment (x_in = (x_out + 0.5) / s - 0.5)', () => {
  it('enlarging 2x reproduces a linear ramp exactly inside the border (cubic interpolation is exact on lines)', async () => {
    const png = await ramps(
      64,
      64,
      (x) => 4 * x,
      (y) => 3 * y + 10,
    );
    const out = await cropImage(png, { resolution: 128, cropPct: 1, interpolation: 'bicubic' });
    for (let i = 4; i < 124; i++) {
      // 4 * ((i + 0.5) / 2 - 0.5) = 2i - 1
      expect(px(out, 128, i, 60, 0)).toBe(2 * i - 1);
      // 3 * ((i + 0.5) / 2 - 0.5) + 10 = 1.5i + 9.25
      expect(Math.abs(px(out, 128, 60, i, 1) - (1.5 * i + 9.25))).toBeLessThanOrEqual(0.5);
      expect(px(out, 128, i, i, 2)).toBe(77);
    }
  });

  it('shrinking 2x (antialiased) keeps a linear ramp and its centre alignment', async () => {
    const png = await ramps(
      128,
      96,
      (x) => 2 * x + 1,
      (y) => 2 * y + 3,
    );
    // shorter side 96 → floor(48 / 1) = 48: scale 1/2; the 64-wide image is cropped at round((64 - 48) / 2) = 8
    const out = await cropImage(png, { resolution: 48, cropPct: 1, interpolation: 'bicubic' });
    for (let i = 3; i < 45; i++) {
      // 2 * ((x + 0.5) * 2 - 0.5) + 1 = 4x + 2 with x = i + 8
      expect(Math.abs(px(out, 48, i, 20, 0) - (4 * (i + 8) + 2))).toBeLessThanOrEqual(1);
      expect(Math.abs(px(out, 48, 20, i, 1) - (4 * i + 4))).toBeLessThanOrEqual(1);
    }
  });
});

describe('preprocessImage', () => {
  it('normalizes to CHW float32 with mean/std, replicates grey into RGB and drops alpha', async () => {
    const o = { resolution: 8, cropPct: 0.875, interpolation: 'bicubic' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const grey = await sharp(Buffer.alloc(200, 51), { raw: { width: 20, height: 10, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 100 })
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const g = await preprocessImage(grey, o);
    expect(g).toHaveLength(3 * 64);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 64; i++) expect(g[c * 64 + i]).toBeCloseTo((51 / 255 - o.mean[c]!) / o.std[c]!, 5);
    // RGBA: PIL's convert('RGB') keeps the colour of transparent pixels.
    const rgba = await sharp({ create: { width: 9, height: 9, channels: 4, background: { r: 255, g: 0, b: 102, alpha: 0 } } })
      .png()
      .toBuffer();
    const a = await preprocessImage(rgba, o);
    expect([a[0], a[64], a[128]].map((v) => Number(v!.toFixed(4)))).toEqual([0, 1, 2].map((c) => Number((([255, 0, 102][c]! / 255 - o.mean[c]!) / o.std[c]!).toFixed(4))));
  });

  it('pads with zeros (before normalization) when crop_pct > 1, as torchvision CenterCrop', async () => {
    const white = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const o = { resolution: 32, cropPct: 1.6, interpolation: 'bilinear' as const, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const g = evalGeometry(40, 40, o); // 20x20 image at (6, 6)
    expect(g.pad).toEqual({ left: 6, top: 6 });
    const x = await preprocessImage(white, o);
    const at = (c: number, yy: number, xx: number) => x[c * 1024 + yy * 32 + xx];
    expect(at(0, 0, 0)).toBe(-1);
    expect(at(1, 5, 15)).toBe(-1);
    expect(at(2, 6, 6)).toBe(1);
    expect(at(2, 25, 25)).toBe(1);
    expect(at(0, 26, 25)).toBe(-1);
  });

  it('fails with ImageDecodeError naming the file for non-images, truncated JPEGs and missing files', async () => {
    const o = { resolution: 16, cropPct: 0.875, interpolation: 'bicubic' as const };
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'this is not an image\n');
    await expect(cropImage(text, o)).rejects.toThrow(ImageDecodeError);
    await expect(cropImage(text, o)).rejects.toThrow(/notes.jpg: .*(unsupported image format|Input buffer)/);
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366cc' } })
      .jpeg()
      .toBuffer();
    const cut = join(dir, 'cut.jpg');
    writeFileSync(cut, jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    await expect(cropImage(cut, o)).rejects.toThrow(/cut.jpg: .*(premature end|truncated)/i);
    await expect(cropImage(join(dir, 'gone.png'), o)).rejects.toThrow(/gone.png: cannot open \(no such file\)/);
  });
});

/** PIL (Debian python3-pil) as the reference: Image.resize(BICUBIC) + the torchvision crop, on uint8. */
const pil = requires(pythonModules('PIL', 'numpy'), sharedData('imagenette/val'));
const GREY = 'n01440764/n01440764_15560.JPEG';
const PIL_SCRIPT = `
import sys, math, numpy as np
from PIL import Image
R = int(sys.argv[1]); out = sys.argv[2]
crops = []
for f in sys.argv[3:]:
    im = Image.open(f).convert('RGB')
    w, h = im.size
    s = math.floor(R / 0.875)
    nw, nh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), Image.BICUBIC)
    l, t = int(round((nw - R) / 2.0)), int(round((nh - R) / 2.0))
    crops.append(np.asarray(im.crop((l, t, l + R, t + R))))
np.stack(crops).tofile(out)
`;

pil.describe('same pixels as PIL + torchvision transforms (timm eval)', () => {
  it('on real Imagenette JPEGs (shrink at 160, enlarge at 224) and a non-square image', async () => {
    const val = join(shared, 'imagenette/val');
    // Real photos when ../shared is there (a grey one among them); the synthetic image always.
    const files = existsSync(val) ? ['n01440764/ILSVRC2012_val_00009111.JPEG', 'n03028079/ILSVRC2012_val_00003351.JPEG', 'n03888257/ILSVRC2012_val_00001440.JPEG', GREY].map((f) => join(val, f)) : [];
    const wide = join(dir, 'wide.png');
    writeFileSync(
      wide,
      await ramps(
        333,
        250,
        (x) => (x * 7) % 256,
        (y) => (y * y) % 256,
      ),
    );
    files.push(wide);
    // Mean |Δ| in uint8 levels: shrinking (libvips reduce vs PIL, both fixed-point) differs by a level on
    // some pixels; enlarging matches almost exactly. The synthetic image's sawtooth edges magnify rounding.
    const tolerance = (R: number, f: string) => (f === wide ? 0.5 : R === 160 ? 0.35 : 0.05);
    for (const R of [160, 224]) {
      const out = join(dir, `pil${R}.u8`);
      execFileSync('/usr/bin/python3', ['-c', PIL_SCRIPT, String(R), out, ...files]);
      const ref = readFileSync(out);
      for (let i = 0; i < files.length; i++) {
        const ours = await cropImage(files[i]!, { resolution: R, cropPct: 0.875, interpolation: 'bicubic' });
        const theirs = ref.subarray(i * R * R * 3, (i + 1) * R * R * 3);
        let sum = 0;
        let max = 0;
        for (let j = 0; j < ours.length; j++) {
          const d = Math.abs(ours[j]! - theirs[j]!);
          sum += d;
          max = Math.max(max, d);
        }
        expect(sum / ours.length, `${files[i]} at ${R}: mean |Δ| (max ${max})`).toBeLessThan(tolerance(R, files[i]!));
      }
    }
  });
});

describe('images of extreme shape (only the crop part is resampled)', () => {
  it('gives the same crop as resampling the whole image', async () => {
    // Noise, so that any shift of the sampling grid shows.
    const W = 97;
    const H = 7;
    const px = Buffer.from(Array.from({ length: W * H * 3 }, (_, i) => (i * 7919 + ((i * i) % 251)) & 255));
    const png = await sharp(px, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    for (const interpolation of ['bicubic', 'bilinear'] as const) {
      const o = { resolution: 16, cropPct: 0.875, interpolation };
      const ours = await cropImage(png, o);
      // Reference: the whole-image enlargement (PIL pixel-centre alignment), then the centre crop.
      const g = evalGeometry(W, H, o);
      const m = 3;
      const padded = await sharp(px, { raw: { width: W, height: H, channels: 3 } })
        .extend({ top: m, bottom: m, left: m, right: m, extendWith: 'copy' })
        .raw()
        .toBuffer();
      const sx = g.resizeWidth / W;
      const sy = g.resizeHeight / H;
      const up = await sharp(padded, { raw: { width: W + 2 * m, height: H + 2 * m, channels: 3 } })
        .affine([sx, 0, 0, sy], { interpolator: interpolation === 'bilinear' ? sharp.interpolators.bilinear : sharp.interpolators.bicubic, idx: 0.5 - 0.5 / sx - m, idy: 0.5 - 0.5 / sy - m })
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(g.resizeWidth * g.resizeHeight).toBeGreaterThan(4 * g.crop.width * g.crop.height); // the crop-only path is taken
      const ref = Buffer.alloc(16 * 16 * 3);
      for (let y = 0; y < g.crop.height; y++) {
        const src = ((g.crop.top + y) * up.info.width + g.crop.left) * 3;
        up.data.copy(ref, ((g.pad.top + y) * 16 + g.pad.left) * 3, src, src + g.crop.width * 3);
      }
      let max = 0;
      for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]! - ours[i]!));
      expect(max, interpolation).toBeLessThanOrEqual(1);
    }
  });
});
