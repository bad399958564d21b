import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { preprocessPixels, type Interpolation, type Pixels } from '@effnet/preprocess';
import { requires, SHARED, sharedData } from '../../../test-utils/requires.js';
import { cropImage, preprocessImage } from './preprocess.js';

// The browser demo's pure resampler (@effnet/preprocess) against the sharp path of effnet eval.
const val = join(SHARED, 'imagenette/val');

async function decode(input: string | Buffer): Promise<Pixels> {
  const { data, info } = await sharp(input, { ignoreIcc: true, autoOrient: false }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** The R×R crop of preprocessPixels, back as uint8 HWC (to compare with cropImage's pixels). */
function cropFromPixels(img: Pixels, R: number, cropPct: number, interpolation: Interpolation): Uint8Array {
  const t = preprocessPixels(img, { resolution: R, cropPct, interpolation, mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] });
  const out = new Uint8Array(R * R * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < R * R; i++) out[i * 3 + c] = Math.round(t.data[c * R * R + i]!);
  return out;
}

function maxDiff(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

/** Real photographs: Imagenette val (stored at 224x224) and non-square crops of them. */
function sampleImages(n: number): string[] {
  const out: string[] = [];
  for (const wnid of readdirSync(val).sort()) {
    const files = readdirSync(join(val, wnid)).sort();
    out.push(join(val, wnid, files[0]!));
    if (out.length >= n) break;
  }
  return out;
}

requires(sharedData('imagenette/val')).describe('same pixels as the sharp path of effnet eval (real images from ../shared/imagenette/val)', () => {
  // 224 → 182 (R 160, shrinking), 224 → 256 (R 224, enlarging), non-square 300x200 and 150x210.
  const cases: { R: number; size?: [number, number] }[] = [{ R: 160 }, { R: 224 }, { R: 160, size: [300, 200] }, { R: 224, size: [150, 210] }, { R: 128, size: [500, 375] }];

  // sharp (libvips reduce / affine) approximates PIL: measured max 2..12 grey levels, mean 0.004..0.31
  // per value on these 20 crops; resizePixels equals PIL exactly (next suite).
  it('bicubic crops are within a few grey levels of sharp on every pixel (mean under 0.35)', async () => {
    let worst = 0;
    let worstMean = 0;
    const report: string[] = [];
    for (const file of sampleImages(4)) {
      for (const c of cases) {
        // Non-square inputs made losslessly from the photo (PNG), so both sides decode the same pixels.
        const input = c.size ? await sharp(file).resize(c.size[0], c.size[1], { fit: 'fill', kernel: 'lanczos3' }).png().toBuffer() : file;
        const ours = cropFromPixels(await decode(input), c.R, 0.875, 'bicubic');
        const theirs = await cropImage(input, { resolution: c.R, cropPct: 0.875, interpolation: 'bicubic' });
        const d = maxDiff(ours, theirs);
        report.push(`${c.size?.join('x') ?? '224x224'}→R${c.R}: max ${d.max}, mean ${d.mean.toFixed(4)}`);
        worst = Math.max(worst, d.max);
        worstMean = Math.max(worstMean, d.mean);
      }
    }
    console.log(`resizePixels vs sharp: ${report.join('; ')}`);
    expect(worst).toBeLessThanOrEqual(16);
    expect(worstMean).toBeLessThanOrEqual(0.35);
  });

  it('preprocessPixels gives the model input preprocessImage gives, within 16/255/std', async () => {
    const file = sampleImages(1)[0]!;
    const o = { resolution: 160, cropPct: 0.875, interpolation: 'bicubic' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const a = preprocessPixels(await decode(file), o).data;
    const b = await preprocessImage(file, o);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    expect(m).toBeLessThanOrEqual(16 / 255 / 0.224);
    expect(m).toBeGreaterThan(0); // the two resamplers are not the same code
  });
});
