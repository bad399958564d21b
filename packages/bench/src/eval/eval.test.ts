import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatten, gemm, globalAveragePool, Graph } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { createRunner, type Runner } from '@effnet/runtime';
import { listImageFolder } from '@effnet/images';
import { evaluate, topK, type EvalOptions } from './eval.js';
import { classifyImages, softmaxRow } from './classify.js';

/**
 * A real 3-class ONNX classifier whose answer is known: logits = per-channel mean of the normalized
 * image, so a red image is class 0, green 1, blue 2.
 */
function channelMeanModel(fixedBatch?: number): Uint8Array {
  const g = new Graph('channel_mean');
  const x = g.input('input', 'float32', [fixedBatch ?? 'N', 3, 'H', 'W']);
  g.output(flatten(globalAveragePool(x)), 'logits');
  return serializeModel(g.build(), { opset: 17 });
}

/**
 * A 12-class classifier with known ranks: logit j = (12 − j) × the image's mean normalized red, so
 * for a red image class 0 ranks first, class 1 second, … class j at rank j + 1.
 */
function rankedModel(): Uint8Array {
  const g = new Graph('ranked');
  const x = g.input('input', 'float32', ['N', 3, 'H', 'W']);
  const w = Float32Array.from({ length: 36 }, (_, i) => (i % 3 === 0 ? 12 - i / 3 : 0));
  g.output(gemm(flatten(globalAveragePool(x)), g.initializer('w', 'float32', [12, 3], w), { transB: true }), 'logits');
  return serializeModel(g.build(), { opset: 17 });
}

const root = mkdtempSync(join(tmpdir(), 'effnet-eval-'));
let runner: Runner;
const COLOURS = { red: '#e01010', green: '#10d020', blue: '#1020f0' } as const;

async function image(path: string, colour: string, format: 'jpeg' | 'png' = 'jpeg', size = 40): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  const img = sharp({ create: { width: size, height: Math.round(size * 0.75), channels: 3, background: colour } });
  writeFileSync(path, await (format === 'png' ? img.png() : img.jpeg()).toBuffer());
}

/** ImageFolder: classes a_red, b_green, c_blue; one image in c_blue is deliberately red (a miss). */
async function folder(name: string): Promise<string> {
  const dir = join(root, name);
  await image(join(dir, 'a_red/1.jpg'), COLOURS.red);
  await image(join(dir, 'a_red/2.png'), COLOURS.red, 'png');
  await image(join(dir, 'a_red/3.jpg'), COLOURS.red, 'jpeg', 17);
  await image(join(dir, 'b_green/1.jpg'), COLOURS.green);
  await image(join(dir, 'b_green/2.jpg'), COLOURS.green, 'jpeg', 300);
  await image(join(dir, 'c_blue/1.jpg'), COLOURS.blue);
  await image(join(dir, 'c_blue/2.jpg'), COLOURS.red);
  return dir;
}

const opts: EvalOptions = { resolution: 16, cropPct: 0.875, interpolation: 'bicubic', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], batch: 2 };

beforeAll(async () => {
  runner = await createRunner(channelMeanModel(), { threads: 1 });
});
afterAll(async () => {
  await runner?.release();
  rmSync(root, { recursive: true, force: true });
});

describe('topK', () => {
  it('returns the k largest indices, largest first, first index on ties', () => {
    const d = new Float32Array([0.1, 5, -2, 5, 3, 0, /* row 1 */ 1, 2, 3, 4, 5, 6]);
    expect(topK(d, 6, 0, 3)).toEqual([1, 3, 4]);
    expect(topK(d, 6, 1, 5)).toEqual([5, 4, 3, 2, 1]);
    expect(topK(d, 6, 0, 1)).toEqual([1]);
  });
  it('softmaxRow sums to 1 and is stable for large logits', () => {
    const p = softmaxRow(new Float32Array([1000, 1000, 0]), 3, 0);
    expect(p[0]).toBeCloseTo(0.5, 12);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 12);
  });
});

describe('evaluate', () => {
  it('computes top-1, top-5, per-class accuracy and predictions from image files', async () => {
    const ds = listImageFolder(await folder('ok'));
    const preds: [string, readonly number[]][] = [];
    const progress: number[] = [];
    const r = await evaluate(runner, ds, 3, { ...opts, onPrediction: (s, t) => preds.push([s.key, t]), onProgress: (p) => progress.push(p.done) });
    expect(r.n).toBe(7);
    expect(r.top1).toBeCloseTo(6 / 7, 12);
    expect(r.top5).toBe(1); // 3 classes: top-"5" is all of them
    expect(r.perClass.map((c) => [c.class, c.index, c.n, c.top1])).toEqual([
      ['a_red', 0, 3, 1],
      ['b_green', 1, 2, 1],
      ['c_blue', 2, 2, 0.5],
    ]);
    expect(preds.map(([k, t]) => [k, t[0]])).toEqual([
      ['a_red/1.jpg', 0],
      ['a_red/2.png', 0],
      ['a_red/3.jpg', 0],
      ['b_green/1.jpg', 1],
      ['b_green/2.jpg', 1],
      ['c_blue/1.jpg', 2],
      ['c_blue/2.jpg', 0],
    ]);
    expect(preds.every(([, t]) => t.length === 3 && new Set(t).size === 3)).toBe(true);
    expect(progress).toEqual([2, 4, 6, 7]);
    expect(r.failed).toEqual([]);
    expect(r.seconds.inference).toBeGreaterThan(0);
    expect(r.seconds.total).toBeGreaterThanOrEqual(r.seconds.inference);
    expect(r.seconds.decode).toBeGreaterThan(0);
    expect(r.seconds.decode).toBeLessThanOrEqual(r.seconds.total); // a union of intervals, not a sum over batches
  });

  it('top-5 with more classes than 5: a red image of class j is a top-5 hit for j < 5 only (12 classes)', async () => {
    const dir = join(root, 'ranked');
    for (let j = 0; j < 12; j++) await image(join(dir, `c${String(j).padStart(2, '0')}/1.jpg`), COLOURS.red);
    const ranked = await createRunner(rankedModel(), { threads: 1 });
    try {
      const preds = new Map<string, readonly number[]>();
      const r = await evaluate(ranked, listImageFolder(dir), 12, { ...opts, onPrediction: (s, t) => preds.set(s.key, t) });
      expect(r.n).toBe(12);
      expect(r.top1).toBeCloseTo(1 / 12, 12);
      expect(r.top5).toBeCloseTo(5 / 12, 12); // ranks 1..5 of 12; "among the first 6" would give 6/12
      expect(r.perClass.map((c) => c.top5)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
      expect(preds.get('c05/1.jpg')).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await ranked.release();
    }
  });

  it('counts, lists and skips unreadable images: a non-image file and a truncated JPEG', async () => {
    const dir = await folder('corrupt');
    writeFileSync(join(dir, 'b_green/notes.jpg'), 'not an image at all\n');
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: COLOURS.blue } })
      .jpeg()
      .toBuffer();
    writeFileSync(join(dir, 'c_blue/0-cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    const ds = listImageFolder(dir);
    expect(ds.samples).toHaveLength(9);
    const keys: string[] = [];
    for (const batch of [1, 2, 4, 16]) {
      const r = await evaluate(runner, ds, 3, { ...opts, batch, onPrediction: (s) => keys.push(s.key) });
      expect(r.n).toBe(7);
      expect(r.listed).toBe(9);
      expect(r.top1).toBeCloseTo(6 / 7, 12);
      expect(r.failed.map((f) => f.file)).toEqual(['b_green/notes.jpg', 'c_blue/0-cut.jpg']);
      expect(r.failed[0]!.error).toMatch(/unsupported image format|Input buffer/);
      expect(r.failed[1]!.error).toMatch(/premature end|truncated/i);
      expect(r.perClass.map((c) => c.n)).toEqual([3, 2, 2]);
    }
    expect(keys.filter((k) => k.includes('notes') || k.includes('cut'))).toEqual([]);
  });

  it('--strict: the first unreadable image is fatal and named', async () => {
    const dir = await folder('strict');
    writeFileSync(join(dir, 'b_green/broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
    await expect(evaluate(runner, listImageFolder(dir), 3, { ...opts, strict: true })).rejects.toThrow(/b_green\/broken.png: .* \(--strict\)/);
  });

  it('pads short batches for a model with a fixed batch size', async () => {
    const fixed = await createRunner(channelMeanModel(4), { threads: 1 });
    try {
      const r = await evaluate(fixed, listImageFolder(join(root, 'ok')), 3, { ...opts, batch: 4, fixedBatch: true });
      expect([r.n, r.top1]).toEqual([7, 6 / 7]);
    } finally {
      await fixed.release();
    }
  });

  it('refuses data with more classes than the model has outputs', async () => {
    const dir = await folder('four');
    await image(join(dir, 'd_extra/1.jpg'), COLOURS.red);
    await expect(evaluate(runner, listImageFolder(dir), 3, opts)).rejects.toThrow(/4 classes but the model has 3 outputs \(class 'd_extra' has index 3\)/);
  });

  it('decodes at most `prefetch` batches ahead of inference (memory flat in the number of images)', async () => {
    const ds = listImageFolder(join(root, 'ok'));
    const many = { ...ds, samples: Array.from({ length: 40 }, (_, i) => ds.samples[i % ds.samples.length]!) };
    let ready = 0;
    let runs = 0;
    const ahead: number[] = [];
    // The real runner, made slow so that decoding can race ahead as far as it is allowed to.
    const slow: Runner = {
      ...runner,
      run: async (data, dims) => {
        ahead.push(ready - runs);
        runs++;
        await new Promise((r) => setTimeout(r, 40));
        return runner.run(data, dims);
      },
    };
    const r = await evaluate(slow, many, 3, { ...opts, batch: 4, prefetch: 2, onBatchReady: () => void ready++ });
    expect(r.n).toBe(40);
    expect(ahead).toHaveLength(10);
    // While batch b runs, batches up to b + 2 may be decoded: never more than 3 held.
    expect(Math.max(...ahead)).toBeLessThanOrEqual(3);
    expect(Math.max(...ahead)).toBeGreaterThanOrEqual(2); // and decoding did run ahead
    expect(r.seconds.stall).toBeLessThan(r.seconds.inference);
  });
});

describe('classifyImages', () => {
  it('gives the top classes with softmax probabilities per file', async () => {
    const dir = join(root, 'ok');
    const files = ['a_red/1.jpg', 'b_green/1.jpg', 'c_blue/1.jpg'].map((f) => join(dir, f));
    const r = await classifyImages(runner, files, 3, { ...opts, top: 2, batch: 2 });
    expect(r.map((x) => x.top.map((t) => t.index))).toEqual([
      [0, 2],
      [1, 2],
      [2, 1],
    ]);
    for (const x of r) expect(x.top[0]!.probability).toBeGreaterThan(0.5);
  });
});
