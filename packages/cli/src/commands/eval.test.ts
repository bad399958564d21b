import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { flatten, globalAveragePool, Graph } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { runCli as run } from '../test-utils/run.js';
import { requires, SHARED, sharedData } from '../../../../test-utils/requires.js';

const imagenette = join(SHARED, 'imagenette');
const WEIGHTS = join(imagenette, 'efficientnet_b0-imagenette.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'effnet-eval-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A real 3-class ONNX file with a known answer (per-channel mean of the normalized image): red 0, green 1, blue 2. */
function channelMeanFile(): string {
  const g = new Graph('channel_mean');
  g.output(flatten(globalAveragePool(g.input('input', 'float32', ['N', 3, 16, 16]))), 'logits');
  const path = join(dir, 'rgb.onnx');
  writeFileSync(path, serializeModel(g.build(), { opset: 17, metadata: { 'effnet.model': 'channel-mean', 'effnet.crop_pct': '1' } }));
  return path;
}

let model: string;
let data: string;
beforeAll(async () => {
  model = channelMeanFile();
  data = join(dir, 'val');
  const put = async (f: string, colour: string) => {
    mkdirSync(join(data, f, '..'), { recursive: true });
    writeFileSync(
      join(data, f),
      await sharp({ create: { width: 30, height: 20, channels: 3, background: colour } })
        .jpeg()
        .toBuffer(),
    );
  };
  await put('0_red/a.jpg', '#f01010');
  await put('0_red/b.jpg', '#e02020');
  await put('1_green/a.jpg', '#10f010');
  await put('2_blue/a.jpg', '#1010f0');
  await put('2_blue/odd one.jpg', '#f01010'); // labelled blue, is red
  writeFileSync(join(data, '1_green/broken.jpg'), 'not a JPEG');
});

describe('effnet eval', () => {
  it('prints accuracy, lists unreadable images, writes --json and --predictions atomically', async () => {
    const out = mkdtempSync(join(dir, 'out-')); // this test's own outputs: it passes alone and in any order
    const json = join(out, 'eval.json');
    const preds = join(out, 'preds.json');
    const r = await run(['eval', model, '--data', data, '--batch', '2', '--json', json, '--predictions', preds]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/top-1 80\.00%  top-5 100\.00%  n 5  \(1 unreadable, skipped\)/);
    expect(r.out).toMatch(/unreadable: 1_green\/broken.jpg: /);
    expect(r.out).toMatch(/images\/s; .* inference .* decoding/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report).toMatchObject({ model: 'channel-mean', resolution: 16, cropPct: 1, interpolation: 'bicubic', n: 5, listed: 6, top1: 0.8, top5: 1, ep: 'cpu', batch: 2 });
    expect(report.perClass).toEqual([
      { class: '0_red', index: 0, n: 2, top1: 1, top5: 1 },
      { class: '1_green', index: 1, n: 1, top1: 1, top5: 1 },
      { class: '2_blue', index: 2, n: 2, top1: 0.5, top5: 1 },
    ]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0].file).toBe('1_green/broken.jpg');
    expect(Object.keys(report.seconds).sort()).toEqual(['decode', 'inference', 'setup', 'stall', 'total']);
    expect(report.imagesPerSecond).toBeGreaterThan(0);
    const p = JSON.parse(readFileSync(preds, 'utf8'));
    expect(p).toEqual({
      '0_red/a.jpg': [0, 2, 1],
      '0_red/b.jpg': [0, 2, 1],
      '1_green/a.jpg': [1, 2, 0],
      '2_blue/a.jpg': [2, 1, 0],
      '2_blue/odd one.jpg': [0, 2, 1],
    });
    expect(readdirSync(out).sort()).toEqual(['eval.json', 'preds.json']); // no temp file left

    // Existing outputs: refused before any work without --force, replaced with it.
    const again = await run(['eval', model, '--data', data, '--json', json]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/eval.json: already exists \(use --force to overwrite\)/);
    const again2 = await run(['eval', model, '--data', data, '--predictions', preds, '--limit', '3']);
    expect(again2.code).toBe(2);
    expect(Object.keys(JSON.parse(readFileSync(preds, 'utf8')))).toHaveLength(5);
    const forced = await run(['eval', model, '--data', data, '--predictions', preds, '--limit', '3', '--force']);
    expect(forced.code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(preds, 'utf8')))).toHaveLength(3);
  });

  it('--json alone prints the report on stdout; --strict makes an unreadable image fatal and writes nothing', async () => {
    const r = await run(['eval', model, '--data', data, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ n: 5, top1: 0.8 });
    const out = mkdtempSync(join(dir, 'out-'));
    const preds = join(out, 'strict-preds.json');
    const s = await run(['eval', model, '--data', data, '--strict', '--predictions', preds]);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/^effnet: error: 1_green\/broken.jpg: .*\(--strict\)$/m);
    expect(existsSync(preds)).toBe(false);
    expect(readdirSync(out)).toEqual([]); // nothing written, no temp file
  });

  it('usage errors exit 2 with the flag named', async () => {
    expect((await run(['eval', model])).err).toMatch(/--data: required \(the image folder to evaluate on\)/);
    const r = await run(['eval', model, '--data', data, '--resolution', '32']);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/--resolution 32: .*rgb.onnx has a fixed 16x16 input/)]);
    expect((await run(['eval', model, '--data', data, '--mean', '1,2'])).err).toMatch(/--mean expects 3 comma-separated numbers/);
    expect((await run(['eval', model, '--data', data, '--interpolation', 'lanczos'])).err).toMatch(/--interpolation expects one of bicubic, bilinear/);
    const m = await run(['eval', model, '--data', join(dir, 'nowhere')]);
    expect([m.code, m.err.trim()]).toEqual([1, expect.stringMatching(/^effnet: error: .*nowhere: no such directory$/)]);
  });
});

const needImagenette = sharedData('imagenette/efficientnet_b0-imagenette.safetensors', 'imagenette/val', 'imagenette/reference.json');

requires(needImagenette).describe('effnet classify (real Imagenette images, trained B0; needs ../shared)', () => {
  it('prints the right class names with probabilities', async () => {
    const val = join(imagenette, 'val');
    const images = ['n01440764/ILSVRC2012_val_00009111.JPEG', 'n03417042/ILSVRC2012_val_00006922.JPEG', 'n03888257/ILSVRC2012_val_00001440.JPEG'].map((f) => join(val, f));
    const r = await run(['classify', 'efficientnet-b0', '--weights', WEIGHTS, '--resolution', '160', '--labels', join(imagenette, 'reference.json'), '--top', '3', ...images]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const blocks = r.out.trim().split(/\n(?=\/)/);
    expect(blocks).toHaveLength(3);
    const first = blocks.map((b) => b.split('\n')[1]!);
    expect(first[0]).toMatch(/^\s+\d+\.\d\d%  tench \(n01440764\)  \[0\]$/);
    expect(first[1]).toMatch(/garbage truck \(n03417042\)  \[6\]$/);
    expect(first[2]).toMatch(/parachute \(n03888257\)  \[9\]$/);
    for (const b of blocks) expect(b.split('\n')).toHaveLength(4);
    const j = await run(['classify', 'efficientnet-b0', '--weights', WEIGHTS, '--resolution', '160', '--labels', join(imagenette, 'val'), '--json', images[0]!]);
    const res = JSON.parse(j.out);
    expect(res[0].top[0]).toMatchObject({ index: 0, label: 'n01440764', name: 'tench (n01440764)' });
    expect(res[0].top.reduce((s: number, t: { probability: number }) => s + t.probability, 0)).toBeLessThanOrEqual(1 + 1e-9);
    const bad = await run(['classify', 'efficientnet-b0', '--weights', WEIGHTS, '--labels', 'imagenet', images[0]!]);
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/--labels imagenet: 1000 labels but efficientnet-b0 has 10 classes/)]);
  });

  it('names classes without --labels when the weights carry their class list (exported file too)', async () => {
    const image = join(imagenette, 'val', 'n03888257/ILSVRC2012_val_00001440.JPEG');
    const direct = await run(['classify', 'efficientnet-b0', '--weights', WEIGHTS, '--resolution', '160', '--top', '1', image]);
    expect([direct.code, direct.err]).toEqual([0, '']);
    expect(direct.out).toMatch(/parachute \(n03888257\)  \[9\]/);
    const file = join(mkdtempSync(join(dir, 'out-')), 'imagenette-labels.onnx');
    expect((await run(['export', 'efficientnet-b0', '--weights', WEIGHTS, '--resolution', '160', '-o', file])).code).toBe(0);
    const fromFile = await run(['classify', file, '--top', '1', image]);
    expect([fromFile.code, fromFile.err]).toEqual([0, '']);
    expect(fromFile.out).toMatch(/parachute \(n03888257\)  \[9\]/);
  });
});

/**
 * The mission's accuracy check: effnet's own pipeline (sharp decode + resize, the ONNX graph built
 * from the timm checkpoint, onnxruntime) against timm + PyTorch + PIL on all 3,925 images.
 * About 1-4 minutes on 2 shared cores, so it runs in the slow suite (EFFNET_SLOW=1).
 */
(process.env['EFFNET_SLOW'] ? requires(needImagenette).describe : describe.skip)('accuracy on Imagenette val vs timm reference (slow)', () => {
  const reference = () => JSON.parse(readFileSync(join(imagenette, 'reference.json'), 'utf8')).reference as Record<string, { top1: number; top5: number; n: number }>;
  // 160 px (the checkpoint's own size) is held to the reference by the 3-shard run of all 3,925
  // images in shard.test.ts, which evaluates the exported file the same way: not run twice.
  it.each([224])(
    'efficientnet-b0 at %d px: top-1 and top-5 within one point of the reference',
    async (R) => {
      const ref = reference()[String(R)]!;
      const r = await run(['eval', 'efficientnet-b0', '--weights', WEIGHTS, '--data', join(imagenette, 'val'), '--resolution', String(R), '--batch', '32', '--json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      expect(report.n).toBe(ref.n);
      expect(report.failed).toEqual([]);
      expect(Math.abs(report.top1 - ref.top1)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(report.top5 - ref.top5)).toBeLessThanOrEqual(0.01);
      console.error(
        `Imagenette ${R} px: top-1 ${report.top1.toFixed(4)} (timm ${ref.top1.toFixed(4)}), top-5 ${report.top5.toFixed(4)} (timm ${ref.top5.toFixed(4)}), ${report.imagesPerSecond.toFixed(1)} img/s`,
      );
    },
    900_000,
  );
});
