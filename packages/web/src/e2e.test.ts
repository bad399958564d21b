/**
 * End to end: the CLI exports the Imagenette checkpoint, `effnet serve` serves the demo with it,
 * headless Chromium (the system one, WebGPU on: SwiftShader without a GPU) opens the page, a real
 * validation image goes in through the file input, and the page must name the right class and
 * the execution provider; once on WebGPU, once forced to wasm (with the latency panel).
 * Screenshots go to $ARTIFACTS_DIR or test-artifacts/ (git-ignored).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { chromiumPath, launchChromium, openSession, tensor, type ModelSession } from '@effnet/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
// The test, like the CLI it runs, comes from the workspace (vitest aliases); the page itself needs only @effnet/preprocess.
import { preprocessImage } from '@effnet/images';
import { preprocessPixels } from '@effnet/preprocess';
import { chromium, requires, SHARED, sharedData } from '../../../test-utils/requires.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = SHARED;
const val = join(shared, 'imagenette/val');
const weights = join(shared, 'imagenette/efficientnet_b0-imagenette.safetensors');
const bin = join(repo, 'packages/cli/bin/effnet.js');
const artifacts = process.env['ARTIFACTS_DIR'] ? resolve(process.env['ARTIFACTS_DIR']) : join(repo, 'test-artifacts');
const ready = requires(sharedData('imagenette/val', 'imagenette/efficientnet_b0-imagenette.safetensors'), chromium(chromiumPath()));

const RESOLUTION = 160;
const PRE = { resolution: RESOLUTION, cropPct: 0.875, interpolation: 'bicubic' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** ImageFolder classes: the sorted wnid folders (the checkpoint's output order). */
const CLASSES = existsSync(val) ? readdirSync(val).sort() : [];

interface DemoState {
  state: string;
  ep: string | null;
  adapter: string | null;
  input: Float32Array | null;
  top5: { index: number; label: string; probability: number }[];
  outputs: string | null;
  latency: { runs: number[]; p50: number } | null;
  error: string | null;
}

ready.describe('browser demo end to end (effnet export → effnet serve → headless Chromium)', () => {
  let dir: string;
  let model: string;
  let server: ChildProcess;
  let url: string;
  let browser: Browser;
  let cpu: ModelSession;

  beforeAll(async () => {
    for (const f of [join(repo, 'packages/cli/dist/main.js'), join(repo, 'packages/web/dist/index.html')]) if (!existsSync(f)) throw new Error(`${f} missing: build first (npm run build)`);
    dir = mkdtempSync(join(tmpdir(), 'effnet-web-e2e-'));
    model = join(dir, 'imagenette.onnx');
    const exp = spawnSync(process.execPath, [bin, 'export', 'efficientnet-b0', '--weights', weights, '--resolution', String(RESOLUTION), '-o', model], { encoding: 'utf8' });
    expect(exp.status, exp.stderr).toBe(0);
    cpu = await openSession(model);
    server = spawn(process.execPath, [bin, 'serve', model, '--labels', val, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((ok, fail) => {
      let out = '';
      let err = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /effnet demo: (http:\/\/\S+\/)/.exec(out);
        if (m) ok(m[1]!);
      });
      server.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      server.once('exit', (code) => fail(new Error(`effnet serve exited ${code}: ${err}`)));
    });
    browser = await launchChromium({ webgpu: true });
    mkdirSync(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    await cpu?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `effnet serve FILE …` started; its URL, and how to stop it. */
  async function serveFile(file: string, ...flags: string[]): Promise<{ url: string; stop: () => void }> {
    const child = spawn(process.execPath, [bin, 'serve', file, ...flags, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const at = await new Promise<string>((ok, fail) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /effnet demo: (http:\/\/\S+\/)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => fail(new Error(`effnet serve exited ${code}: ${err}`)));
    });
    return { url: at, stop: () => child.kill('SIGTERM') };
  }

  /** `effnet export efficientnet-b0` of the Imagenette checkpoint at 160 px with `flags`. */
  function exportWith(name: string, ...flags: string[]): string {
    const out = join(dir, name);
    const r = spawnSync(process.execPath, [bin, 'export', 'efficientnet-b0', '--weights', weights, '--resolution', String(RESOLUTION), ...flags, '-o', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return out;
  }

  /** What `effnet classify FILE IMAGE --json` says (top 5). */
  function cliClassify(file: string, image: string): { index: number; probability: number }[] {
    const r = spawnSync(process.execPath, [bin, 'classify', file, image, '--labels', val, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { top: { index: number; probability: number }[] }[])[0]!.top;
  }

  /** onnxruntime-node on the sharp preprocessing of `effnet eval`: the reference answer. */
  async function reference(image: string): Promise<Float32Array> {
    const x = await preprocessImage(image, PRE);
    const out = await cpu.run({ [cpu.inputs[0]!.name]: tensor('float32', x, [1, 3, RESOLUTION, RESOLUTION]) });
    const logits = out[cpu.outputs[0]!.name]!.data as Float32Array;
    const e = logits.map((v) => Math.exp(v - Math.max(...logits)));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  }

  async function classify(page: Page, query: string, image: string, at = url): Promise<DemoState> {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${at}${query}`);
    await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 60_000 });
    await page.setInputFiles('#image-file', image);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 120_000 });
    const state = await page.evaluate(() => {
      const d = (window as unknown as { effnetDemo: DemoState }).effnetDemo;
      return { ...d, input: d.input ? Array.from(d.input) : null } as unknown as DemoState;
    });
    expect(state.error, errors.join('; ')).toBeNull();
    return state;
  }

  /** The page's model input against the TypeScript resampler on sharp's decode of the same file. */
  async function inputDiff(state: DemoState, image: string): Promise<number> {
    const { data, info } = await sharp(image, { ignoreIcc: true, autoOrient: false }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const node = preprocessPixels({ data, width: info.width, height: info.height, channels: 3 }, PRE).data;
    const page = state.input!;
    expect(page.length).toBe(node.length);
    let m = 0;
    for (let i = 0; i < node.length; i++) m = Math.max(m, Math.abs(node[i]! - page[i]!));
    return m;
  }

  it('WebGPU: garbage truck from Imagenette val, top-1 right, EP reported as WebGPU', async () => {
    const wnid = 'n03417042';
    const image = join(val, wnid, 'ILSVRC2012_val_00006922.JPEG');
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    const t0 = performance.now();
    const state = await classify(page, '?ep=webgpu', image);
    const ms = performance.now() - t0;
    await page.screenshot({ path: join(artifacts, 'web-demo-webgpu.png'), fullPage: true });
    expect(state.ep).toBe('webgpu');
    expect(await page.textContent('#ep')).toMatch(/execution provider: WebGPU/);
    expect(await page.isHidden('#notice')).toBe(true);
    expect(state.top5[0]!.label).toBe(`garbage truck (${wnid})`);
    expect(CLASSES[state.top5[0]!.index]).toBe(wnid);
    const ref = await reference(image);
    const diff = await inputDiff(state, image);
    console.log(
      `web-webgpu (${state.adapter}): ${state.top5[0]!.label} ${(100 * state.top5[0]!.probability).toFixed(2)}% (node cpu on sharp input ${(100 * ref[6]!).toFixed(2)}%), page input vs Node resampler max ${diff.toExponential(2)}, ${(ms / 1000).toFixed(1)} s`,
    );
    expect(diff).toBeLessThanOrEqual(2 / 255 / 0.224); // JPEG decoders (Chromium vs libvips) within 2 grey levels
    expect(Math.abs(state.top5[0]!.probability - ref[6]!)).toBeLessThan(0.03);
    await page.close();
  });

  it('wasm forced (?ep=wasm): English springer, top-1 right, latency panel with p50', async () => {
    const wnid = 'n02102040';
    const image = join(val, wnid, 'ILSVRC2012_val_00004650.JPEG');
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    const state = await classify(page, '?ep=wasm', image);
    expect(state.ep).toBe('wasm');
    expect(await page.textContent('#ep')).toMatch(/execution provider: wasm/);
    expect(state.top5[0]!.label).toBe(`English springer (${wnid})`);
    expect(CLASSES[state.top5[0]!.index]).toBe(wnid);
    const ref = await reference(image);
    expect(Math.abs(state.top5[0]!.probability - ref[1]!)).toBeLessThan(0.03);
    await page.fill('#runs', '5');
    await page.click('#measure');
    await page.waitForSelector('#latency[data-p50]', { timeout: 60_000 });
    const latency = await page.evaluate(() => (window as unknown as { effnetDemo: DemoState }).effnetDemo.latency);
    expect(latency!.runs).toHaveLength(5);
    expect(latency!.p50).toBeGreaterThan(0);
    expect(await page.isVisible('#chart rect')).toBe(true);
    console.log(`web-wasm: ${state.top5[0]!.label} ${(100 * state.top5[0]!.probability).toFixed(2)}% (node cpu ${(100 * ref[1]!).toFixed(2)}%), p50 ${latency!.p50.toFixed(1)} ms over 5 runs`);
    await page.screenshot({ path: join(artifacts, 'web-demo-wasm.png'), fullPage: true });
    await page.close();
  });

  it('auto in a Chromium without WebGPU flags (no adapter here): falls back to wasm with a visible notice, tench still right', async () => {
    const wnid = 'n01440764';
    const image = join(val, wnid, 'ILSVRC2012_val_00009111.JPEG');
    const plain = await launchChromium({ webgpu: false });
    try {
      const page = await plain.newPage({ viewport: { width: 1100, height: 820 } });
      const state = await classify(page, '', image);
      await page.screenshot({ path: join(artifacts, 'web-demo-fallback.png'), fullPage: true });
      expect(state.ep).toBe('wasm');
      expect(await page.isVisible('#notice')).toBe(true);
      expect(await page.textContent('#notice')).toMatch(/WebGPU unavailable — .*Running on wasm/);
      expect(state.top5[0]!.label).toBe(`tench (${wnid})`);
    } finally {
      await plain.close();
    }
  });

  it('an int8 file calibrated on the built-in input: the page says "latency only" beside the classes, as the CLI does', async () => {
    const int8 = join(dir, 'latency-only-int8.onnx');
    const exp = spawnSync(process.execPath, [bin, 'export', 'efficientnet-b0', '--weights', weights, '--resolution', String(RESOLUTION), '--int8', '--calibration-data', 'builtin', '-o', int8], {
      encoding: 'utf8',
    });
    expect(exp.status, exp.stderr).toBe(0);
    const other = spawn(process.execPath, [bin, 'serve', int8, '--labels', val, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const at = await new Promise<string>((ok, fail) => {
        let out = '';
        other.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /effnet demo: (http:\/\/\S+\/)/.exec(out);
          if (m) ok(m[1]!);
        });
        other.once('exit', (code) => fail(new Error(`effnet serve exited ${code}`)));
      });
      const page = await browser.newPage();
      try {
        await page.goto(`${at}?ep=wasm`);
        await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 60_000 });
        expect(await page.isVisible('#weights-notice')).toBe(true);
        expect(await page.textContent('#weights-notice')).toMatch(/int8 calibrated on the built-in input: latency only, accuracy meaningless/);
      } finally {
        await page.close();
      }
    } finally {
      other.kill('SIGTERM');
    }
  });
  it("an --embed-preprocessing --outputs topk:5 file (uint8 pictures in, scores and classes out): the CLI's top-5, probabilities within 1e-4", async () => {
    const wnid = 'n02102040';
    const image = join(val, wnid, 'ILSVRC2012_val_00004650.JPEG');
    const file = exportWith('embedded-topk5.onnx', '--embed-preprocessing', '--outputs', 'topk:5');
    const served = await serveFile(file, '--labels', val);
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    try {
      const state = await classify(page, '?ep=wasm', image, served.url);
      await page.screenshot({ path: join(artifacts, 'web-demo-embedded-topk.png'), fullPage: true });
      expect(state.outputs).toBe('topk');
      expect(await page.textContent('#model-info')).toMatch(/input uint8 pictures of any size .*10 classes, top-5 in the file/);
      const cli = cliClassify(file, image);
      expect(state.top5.map((t) => t.index)).toEqual(cli.map((t) => t.index));
      expect(state.top5[0]!.label).toBe(`English springer (${wnid})`);
      const d = Math.max(...state.top5.map((t, i) => Math.abs(t.probability - cli[i]!.probability)));
      console.log(
        `embedded topk:5 (wasm): ${state.top5[0]!.label} ${(100 * state.top5[0]!.probability).toFixed(3)}% vs classify ${(100 * cli[0]!.probability).toFixed(3)}%, max |Δp| over the 5 ${d.toExponential(2)}`,
      );
      expect(d).toBeLessThanOrEqual(1e-4);
    } finally {
      await page.close();
      served.stop();
    }
  });

  it("a --layout nhwc file (float32 [N,H,W,3]): the CLI's top class; exactly what onnxruntime-node gives on the page's input (within 1e-4)", async () => {
    const wnid = 'n03417042';
    const image = join(val, wnid, 'ILSVRC2012_val_00006922.JPEG');
    const file = exportWith('nhwc.onnx', '--layout', 'nhwc');
    const served = await serveFile(file, '--labels', val);
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    const node = await openSession(file);
    try {
      const state = await classify(page, '?ep=wasm', image, served.url);
      expect(state.outputs).toBe('logits');
      expect(await page.textContent('#model-info')).toMatch(/input 160×160 NHWC, 10 classes/);
      const cli = cliClassify(file, image);
      expect(state.top5[0]!.index).toBe(cli[0]!.index);
      expect(state.top5[0]!.label).toBe(`garbage truck (${wnid})`);
      // The page's own NCHW crop, laid out NHWC here, through onnxruntime-node: the page must have fed the file the same.
      const x = Float32Array.from(state.input!);
      const R = RESOLUTION;
      const hwc = new Float32Array(x.length);
      for (let c = 0; c < 3; c++) for (let i = 0; i < R * R; i++) hwc[i * 3 + c] = x[c * R * R + i]!;
      const logits = (await node.run({ [node.inputs[0]!.name]: tensor('float32', hwc, [1, R, R, 3]) }))[node.outputs[0]!.name]!.data as Float32Array;
      const max = Math.max(...logits);
      const e = Array.from(logits, (v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      const d = Math.max(...state.top5.map((t) => Math.abs(t.probability - e[t.index]! / sum)));
      console.log(
        `nhwc (wasm): ${state.top5[0]!.label} ${(100 * state.top5[0]!.probability).toFixed(3)}%; onnxruntime-node on the page's input: max |Δp| ${d.toExponential(2)}; classify (sharp resize) ${(100 * cli[0]!.probability).toFixed(3)}%`,
      );
      expect(d).toBeLessThanOrEqual(1e-4);
      // classify resizes with sharp, the page with effnet's PIL-exact resampler: a few grey levels apart.
      expect(await inputDiff(state, image)).toBeLessThanOrEqual(2 / 255 / 0.224);
      expect(Math.abs(state.top5[0]!.probability - cli[0]!.probability)).toBeLessThan(0.03);
    } finally {
      await node.release();
      await page.close();
      served.stop();
    }
  });

  it('a --features file (a backbone): the page says it shows no classes, runs it on a picture and still times it', async () => {
    const image = join(val, 'n01440764', 'ILSVRC2012_val_00009111.JPEG');
    const file = exportWith('features.onnx', '--features', '3,4');
    const served = await serveFile(file);
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${served.url}?ep=wasm`);
      await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 60_000 });
      expect(await page.isVisible('#outputs-notice')).toBe(true);
      expect(await page.textContent('#outputs-notice')).toMatch(/is a backbone file \(--features\): its outputs are features\.3, features\.4, with no class scores, so there are no classes to show/);
      expect(await page.textContent('#model-info')).toMatch(/outputs features\.3, features\.4 \(no classes\)/);
      await page.setInputFiles('#image-file', image);
      await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 120_000 });
      const state = await page.evaluate(() => {
        const d = (window as unknown as { effnetDemo: DemoState }).effnetDemo;
        return { ...d, input: null } as DemoState;
      });
      expect(state.error, errors.join('; ')).toBeNull();
      expect(state.outputs).toBe('none');
      expect(state.top5).toEqual([]);
      expect(await page.isHidden('#top5')).toBe(true);
      expect(await page.textContent('#status')).toMatch(/no classes .*features\.3 \[1,112,10,10\], features\.4 \[1,320,5,5\] — one inference in/);
      await page.fill('#runs', '3');
      await page.click('#measure');
      await page.waitForSelector('#latency[data-p50]', { timeout: 60_000 });
      const latency = await page.evaluate(() => (window as unknown as { effnetDemo: DemoState }).effnetDemo.latency);
      expect(latency!.runs).toHaveLength(3);
      expect(latency!.p50).toBeGreaterThan(0);
      await page.screenshot({ path: join(artifacts, 'web-demo-backbone.png'), fullPage: true });
    } finally {
      await page.close();
      served.stop();
    }
  });
});
