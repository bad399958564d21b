import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON, pythonModules, requires, SHARED, sharedData } from '../../../test-utils/requires.js';
import { resizePixels, type Pixels } from './resample.js';

const val = join(SHARED, 'imagenette/val');

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

describe('resizePixels (PIL resize in TypeScript)', () => {
  it('keeps a constant image constant and an identity size unchanged', () => {
    const img: Pixels = { data: new Uint8Array(30 * 20 * 3).fill(200), width: 30, height: 20, channels: 3 };
    for (const interp of ['bicubic', 'bilinear'] as const) {
      const down = resizePixels(img, 11, 7, interp);
      const up = resizePixels(img, 61, 45, interp);
      expect(down.data.every((v) => v === 200)).toBe(true);
      expect(up.data.every((v) => v === 200)).toBe(true);
    }
    expect(resizePixels(img, 30, 20).data).toBe(img.data);
  });

  it('is exact on a linear ramp when enlarging 2x (pixel-centre alignment: x_in = (x_out + 0.5) / 2 − 0.5)', () => {
    const W = 32;
    const data = new Uint8Array(W * 3);
    for (let x = 0; x < W; x++) data.fill(4 * x + 20, 3 * x, 3 * x + 3);
    const up = resizePixels({ data, width: W, height: 1, channels: 3 }, 64, 1);
    for (let i = 4; i < 60; i++) expect(up.data[3 * i]).toBe(4 * ((i + 0.5) / 2 - 0.5) + 20);
  });

  it('rejects bad sizes and short buffers naming them', () => {
    const img: Pixels = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    expect(() => resizePixels(img, 0, 3)).toThrow(/resize target 0x3/);
    expect(() => resizePixels({ ...img, width: 3 }, 2, 2)).toThrow(/3x2x3 = 18/);
  });
});

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

const python = PYTHON;

/** A photo decoded by PIL itself (RGB), so both resamplers start from the same pixels without sharp. */
function decode(file: string): Pixels {
  const code = `import sys; from PIL import Image; im = Image.open(sys.argv[1]).convert('RGB'); sys.stdout.buffer.write(b'%d %d\\n' % im.size + im.tobytes())`;
  const r = spawnSync(python, ['-c', code, file], { maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${file}: PIL could not decode it (${r.stderr?.toString().trim()})`);
  const nl = r.stdout.indexOf(10);
  const [width, height] = r.stdout.subarray(0, nl).toString().split(' ').map(Number) as [number, number];
  return { data: new Uint8Array(r.stdout.subarray(nl + 1)), width, height, channels: 3 };
}

requires(sharedData('imagenette/val'), pythonModules('PIL')).describe('same pixels as PIL itself (Debian python3-pil)', () => {
  it('bicubic and bilinear, shrinking and enlarging, equal PIL exactly', async () => {
    for (const file of sampleImages(2)) {
      const img = decode(file);
      for (const [w, h, interp] of [
        [182, 182, 'bicubic'],
        [256, 256, 'bicubic'],
        [182, 150, 'bicubic'],
        [256, 300, 'bicubic'],
        [100, 257, 'bilinear'],
        [37, 41, 'bicubic'],
      ] as const) {
        const ours = resizePixels(img, w, h, interp);
        const code = `import sys; from PIL import Image; im = Image.frombytes('RGB', (${img.width}, ${img.height}), sys.stdin.buffer.read()); sys.stdout.buffer.write(im.resize((${w}, ${h}), Image.${interp.toUpperCase()}).tobytes())`;
        const r = spawnSync(python, ['-c', code], { input: Buffer.from(img.data), maxBuffer: 1 << 26 });
        expect(r.status, r.stderr?.toString()).toBe(0);
        expect(maxDiff(new Uint8Array(ours.data), new Uint8Array(r.stdout)).max, `${file} → ${w}x${h} ${interp}`).toBe(0);
      }
    }
  });
});
