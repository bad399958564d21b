/**
 * Hardening II through the real binary: bounded memory for images of extreme shape and files that
 * declare huge inputs, FIFOs and devices as images and labels, dangling symlinks in a data folder,
 * non-finite weights and logits, untrained-weights notices, float16 I/O and outputs checked first.
 */
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { flatten, globalAveragePool, Graph, mul, toFloat16 } from '@effnet/graph-builder';
import { writeModel } from '@effnet/onnx-export';
import { BIN, runBin, type BinResult, binScratch, expectError, mkfifo } from './test-utils/bin.js';

const { fresh, effnet } = binScratch('effnet-harden2-');

/**
 * A real 3-class classifier whose answer is known (logits = per-channel mean of the normalized
 * image: red is class 0), with the input shape given.
 */
function channelMeanModel(path: string, shape: readonly (number | string)[] = ['N', 3, 16, 16], metadata: Record<string, string> = {}): string {
  const g = new Graph('channel_mean');
  const x = g.input('input', 'float32', shape as (number | string)[]);
  g.output(flatten(globalAveragePool(x)), 'logits');
  writeModel(g.build(), path, { opset: 17, metadata: { 'effnet.num_classes': '3', ...metadata } });
  return path;
}

async function colourPng(path: string, width: number, height: number, background = 'red'): Promise<string> {
  writeFileSync(
    path,
    await sharp({ create: { width, height, channels: 3, background } })
      .png()
      .toBuffer(),
  );
  return path;
}

/** Runs the binary with a preload that reports the process's peak RSS (bytes) to `rssFile` at exit. */
async function effnetWithRss(args: readonly string[], cwd: string): Promise<{ r: BinResult; rss: number }> {
  const rssFile = join(cwd, 'rss.txt');
  const preload = join(cwd, 'rss.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS * 1024)));\n`);
  const r = await runBin(args, cwd, [process.execPath, '--require', preload, BIN]);
  return { r, rss: Number(readFileSync(rssFile, 'utf8')) };
}

describe('images of extreme shape: only what the crop needs is resampled', () => {
  it('classify a 4000x1 and an 8000x1 PNG (a few hundred bytes) in bounded memory, red found', async () => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'm.onnx'), ['N', 3, 160, 160]);
    const wide = await colourPng(join(d, 'wide.png'), 4000, 1);
    const wider = await colourPng(join(d, 'wider.png'), 1, 8000);
    const t0 = performance.now();
    const { r, rss } = await effnetWithRss(['classify', model, '--top', '1', '--json', wide, wider], d);
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { top: { index: number }[] }[];
    expect(out.map((x) => x.top[0]!.index)).toEqual([0, 0]);
    console.log(`classify 4000x1 + 1x8000 PNG at 160 px: peak RSS ${(rss / 2 ** 20).toFixed(0)} MB, ${seconds.toFixed(2)} s (process)`);
    // Was 3.0 GB for the 4000x1 image alone (a 728000x182 intermediate); the bound leaves slack.
    expect(rss).toBeLessThan(600 * 2 ** 20);
  });
});

describe('FIFOs and devices as images or labels are refused at once, never read', () => {
  it('a FIFO and /dev/zero as images (classify)', async () => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'm.onnx'));
    const fifo = mkfifo(join(d, 'x.png'));
    expectError(await effnet(['classify', model, fifo], d), 1, /x\.png: image is a FIFO \(named pipe\), expected a regular file/);
    expectError(await effnet(['classify', model, '/dev/zero'], d), 1, /\/dev\/zero: image is a character device, expected a regular file/);
  });

  it('a FIFO and /dev/zero as --labels (classify), and as an eval labels file', async () => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'm.onnx'));
    const img = await colourPng(join(d, 'a.png'), 20, 20);
    const fifo = mkfifo(join(d, 'labels.txt'));
    expectError(await effnet(['classify', model, '--labels', fifo, img], d), 1, /labels\.txt: labels file is a FIFO \(named pipe\), expected a regular file/);
    expectError(await effnet(['classify', model, '--labels', '/dev/zero', img], d), 1, /\/dev\/zero: labels file is a character device/);
    expectError(await effnet(['eval', model, '--data', d, '--labels', fifo], d), 1, /labels\.txt: labels file is a FIFO/);
  });
});

describe('eval: a dangling symlink or a symlink loop in the data folder is counted, listed and skipped', () => {
  it('reports both as unreadable and evaluates the rest', async () => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'm.onnx'));
    const data = join(d, 'data');
    mkdirSync(join(data, 'a_red'), { recursive: true });
    mkdirSync(join(data, 'b_green'), { recursive: true });
    await colourPng(join(data, 'a_red/1.png'), 30, 20, '#e01010');
    await colourPng(join(data, 'b_green/1.png'), 30, 20, '#10d020');
    symlinkSync(join(d, 'gone.png'), join(data, 'a_red/dangling.png'));
    symlinkSync('loop.png', join(data, 'b_green/loop.png'));
    const r = await effnet(['eval', model, '--data', data, '--folder-order', '--json'], d);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { n: number; listed: number; top1: number; failed: { file: string; error: string }[] };
    expect([report.n, report.listed, report.top1]).toEqual([2, 4, 1]);
    expect(report.failed.map((f) => f.file)).toEqual(['a_red/dangling.png', 'b_green/loop.png']);
    expect(report.failed[0]!.error).toMatch(/no such file/);
    expect(report.failed[1]!.error).toMatch(/symlink loop/);
    const strict = await effnet(['eval', model, '--data', data, '--folder-order', '--strict'], d);
    expectError(strict, 1, /a_red\/dangling\.png: cannot open \(no such file\) \(--strict\)/);
  });
});

describe("a file's declared input shape is checked before anything is allocated", () => {
  it.each([
    ['8000x8000', ['N', 3, 8000, 8000], /declares 8000x8000 pixels; effnet reads image models up to 4096x4096/],
    ['30000x30000', ['N', 3, 30000, 30000], /declares 30000x30000 pixels/],
    ['2^40 square', ['N', 3, 2 ** 40, 2 ** 40], /declares 1099511627776x1099511627776 pixels/],
    ['batch 10^8', [100_000_000, 3, 16, 16], /declares a batch size of 100000000; expected 1\.\.1024/],
  ])('%s: exit 1 naming the file and the dimension', async (_, shape, msg) => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'huge.onnx'), shape as (number | string)[]);
    const img = await colourPng(join(d, 'a.png'), 20, 20);
    expectError(await effnet(['classify', model, img], d), 1, /huge\.onnx: input 'input' \[/, msg);
  });
});

describe('every output is checked before any work', () => {
  it('the same path twice, empty paths: exit 2 naming the flags, nothing written', async () => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'm.onnx'));
    const data = join(d, 'data');
    mkdirSync(join(data, 'a'), { recursive: true });
    await colourPng(join(data, 'a/1.png'), 20, 20);
    const out = join(d, 'x.json');
    expectError(await effnet(['eval', model, '--data', data, '--folder-order', '--predictions', out, '--json', out], d), 2, /--json and --predictions both write .*x\.json: give them different paths/);
    expectError(await effnet(['eval', model, '--data', data, '--folder-order', '--predictions', out, '--json', out, '--force'], d), 2, /both write/);
    expectError(await effnet(['eval', model, '--data', data, '--folder-order', '--json', ''], d), 2, /--json: empty path/);
    expectError(await effnet(['eval', model, '--data', data, '--folder-order', '--predictions', ''], d), 2, /--predictions: empty path/);
    expectError(await effnet(['export', 'b0', '-o', ''], d), 2, /--out: empty path/);
    expectError(await effnet(['bench', 'b0', '--out', ''], d), 2, /--out: empty path/);
    expect(readdirSync(d).sort()).toEqual(['data', 'm.onnx']);
  });

  it('a dangling symlink as output, a folder named results.json in a report folder: exit 1 before any work', async () => {
    const d = fresh();
    symlinkSync(join(d, 'missing', 'b0.onnx'), join(d, 'link.onnx'));
    expectError(await effnet(['export', 'b0', '-o', join(d, 'link.onnx')], d), 1, /link\.onnx: is a symbolic link to a missing file/);
    mkdirSync(join(d, 'report', 'results.json'), { recursive: true });
    expectError(await effnet(['bench', 'b0', '--out', join(d, 'report')], d), 1, /report\/results\.json: is a directory/);
    expectError(await effnet(['scale-search', '--budget-flops', '1e9', '--out', join(d, 'report')], d), 1, /report\/results\.json: is a directory/);
  });
});

describe('non-finite logits are an error, never a confident answer', () => {
  it('classify and eval: exit 1 naming the model and the image', async () => {
    const d = fresh();
    const g = new Graph('nan_logits');
    const x = g.input('input', 'float32', ['N', 3, 16, 16]);
    const w = g.initializer('scale', 'float32', [1, 3], Float32Array.from([1, NaN, 1]));
    g.output(mul(flatten(globalAveragePool(x)), w), 'logits');
    const model = join(d, 'nan.onnx');
    writeModel(g.build(), model, { opset: 17, metadata: { 'effnet.model': 'nan-model' } });
    const data = join(d, 'data');
    mkdirSync(join(data, 'a'), { recursive: true });
    const img = await colourPng(join(data, 'a/1.png'), 20, 20);
    expectError(await effnet(['classify', model, img], d), 1, /nan-model: non-finite logits \(NaN for class 1\) on .*a\/1\.png; its weights or graph are broken/);
    expectError(await effnet(['eval', model, '--data', data, '--folder-order'], d), 1, /nan-model: non-finite logits \(NaN for class 1\) on a\/1\.png/);
  });
});

describe('untrained default weights are named wherever predictions are shown', () => {
  it('classify and eval: a notice line in text, "weights" in JSON', async () => {
    const d = fresh();
    const model = channelMeanModel(join(d, 'm.onnx'), ['N', 3, 16, 16], { 'effnet.model': 'tiny-default', 'effnet.weights': 'formula; BatchNorm identity (gamma 1, beta 0, mean 0, var 1)' });
    const trained = channelMeanModel(join(d, 't.onnx'), ['N', 3, 16, 16], { 'effnet.model': 'tiny-trained', 'effnet.weights': 'tiny.safetensors' });
    const data = join(d, 'data');
    mkdirSync(join(data, 'a'), { recursive: true });
    const img = await colourPng(join(data, 'a/1.png'), 20, 20);
    const note = /^note: tiny-default has untrained deterministic default weights \(no --weights\)/m;
    const text = await effnet(['classify', model, img], d);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(note);
    const json = await effnet(['classify', model, '--json', img], d);
    expect((JSON.parse(json.stdout) as { weights: string }[])[0]!.weights).toBe('untrained (deterministic default)');
    const t = await effnet(['classify', trained, '--json', img], d);
    expect((JSON.parse(t.stdout) as { weights: string }[])[0]!.weights).toBe('tiny.safetensors');
    expect((await effnet(['classify', trained, img], d)).stdout).not.toMatch(/untrained/);
    const ev = await effnet(['eval', model, '--data', data, '--folder-order'], d);
    expect(ev.stdout).toMatch(/^note: tiny-default has untrained deterministic default weights/m);
    const evJson = await effnet(['eval', model, '--data', data, '--folder-order', '--json'], d);
    expect((JSON.parse(evJson.stdout) as { weights: string }).weights).toBe('untrained (deterministic default)');
  });
});

describe('float16 input/output models (--fp16-io) run in effnet itself', () => {
  it('classify and eval feed float16 and read float16 logits', async () => {
    const d = fresh();
    const g = new Graph('channel_mean_fp16');
    const x = g.input('input', 'float32', ['N', 3, 16, 16]);
    g.output(flatten(globalAveragePool(x)), 'logits');
    const ir = toFloat16(g.build(), { keepIoFloat32: false });
    expect(ir.inputs[0]!.dtype).toBe('float16');
    const model = join(d, 'half.onnx');
    writeModel(ir, model, { opset: 17, metadata: { 'effnet.num_classes': '3' } });
    const data = join(d, 'data');
    mkdirSync(join(data, 'a_red'), { recursive: true });
    mkdirSync(join(data, 'b_green'), { recursive: true });
    const red = await colourPng(join(data, 'a_red/1.png'), 20, 20, '#e01010');
    await colourPng(join(data, 'b_green/1.png'), 20, 20, '#10d020');
    const c = await effnet(['classify', model, '--json', '--top', '1', red], d);
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(c.stdout) as { top: { index: number; probability: number }[] }[])[0]!.top[0]!.index).toBe(0);
    const e = await effnet(['eval', model, '--data', data, '--folder-order', '--json'], d);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout) as { top1: number; n: number }).toMatchObject({ top1: 1, n: 2 });
    const b = await effnet(['bench', model, '--out', join(d, 'report'), '--iterations', '3', '--warmup', '1', '--json'], d);
    expect(b.code, b.stderr).toBe(0);
    const results = (JSON.parse(readFileSync(join(d, 'report', 'results.json'), 'utf8')) as { results: unknown[] }).results;
    expect(results).toHaveLength(1);
  });
});
