/** The calibration set streamed: nothing decoded until read, one batch at a time, failures recorded, the same pixels as loading it whole. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { CalibrationDataError, loadCalibrationImages, openCalibrationImages } from './calibration.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-calib-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pre = { resolution: 16, cropPct: 0.875, interpolation: 'bicubic' as const, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

async function png(path: string, shade: number): Promise<void> {
  writeFileSync(
    path,
    await sharp({ create: { width: 24, height: 20, channels: 3, background: { r: shade, g: 255 - shade, b: 40 } } })
      .png()
      .toBuffer(),
  );
}

describe('openCalibrationImages', () => {
  it('decodes batch by batch as it is read, skips and records what does not decode, and matches loading it whole', async () => {
    const root = join(dir, 'set');
    for (const c of ['a', 'b']) mkdirSync(join(root, c), { recursive: true });
    await png(join(root, 'a', '1.png'), 10);
    await png(join(root, 'a', '2.png'), 90);
    writeFileSync(join(root, 'b', '3.png'), 'not an image');
    await png(join(root, 'b', '4.png'), 200);
    await png(join(root, 'b', '5.png'), 250);
    const s = openCalibrationImages(root, { ...pre, count: 5, batch: 2 });
    expect(s.chosen).toEqual(['a/1.png', 'a/2.png', 'b/3.png', 'b/4.png', 'b/5.png']);
    expect(s.batches).toBe(3);
    expect(s.files).toEqual([]); // nothing decoded yet
    const dims: number[][] = [];
    const it = s.read()[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value.dims).toEqual([2, 3, 16, 16]);
    expect(s.files).toEqual(['a/1.png', 'a/2.png']); // only the first batch so far
    for (let r = await it.next(); !r.done; r = await it.next()) dims.push([...r.value.dims]);
    expect(dims).toEqual([
      [1, 3, 16, 16],
      [1, 3, 16, 16],
    ]);
    expect(s.files).toEqual(['a/1.png', 'a/2.png', 'b/4.png', 'b/5.png']);
    expect(s.failed.map((f) => f.file)).toEqual(['b/3.png']);
    // A second read (the histogram pass) yields the same pixels and does not add files.
    const again: Float32Array[] = [];
    for await (const b of s.read()) again.push(b.data);
    expect(s.files.length).toBe(4);
    const whole = await loadCalibrationImages(root, { ...pre, count: 5, batch: 4 });
    expect(Float32Array.from(again.flatMap((d) => [...d]))).toEqual(Float32Array.from(whole.batches.flatMap((b) => [...b.data])));
    expect(whole.files).toEqual(s.files);
  });

  it('a read in which no image decodes is a CalibrationDataError naming the folder', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'x.jpg'), 'nope');
    const s = openCalibrationImages(bad, { ...pre, count: 1 });
    await expect(
      (async () => {
        for await (const _ of s.read()) void _;
      })(),
    ).rejects.toThrow(CalibrationDataError);
    await expect(loadCalibrationImages(bad, pre)).rejects.toThrow(/bad: none of the 1 calibration images could be decoded/);
  });

  it('a flat folder: a link to an image is read through, a dangling link is listed and reported as failed', async () => {
    const flat = join(dir, 'flat');
    mkdirSync(flat);
    await png(join(dir, 'target.png'), 120);
    await png(join(flat, 'a.png'), 30);
    symlinkSync(join(dir, 'target.png'), join(flat, 'b.png'));
    symlinkSync(join(dir, 'missing.png'), join(flat, 'c.png'));
    const s = openCalibrationImages(flat, { ...pre, count: 10 });
    expect(s.chosen).toEqual(['a.png', 'b.png', 'c.png']);
    for await (const _ of s.read()) void _;
    expect(s.files).toEqual(['a.png', 'b.png']);
    expect(s.failed.map((f) => f.file)).toEqual(['c.png']);
  });
});
