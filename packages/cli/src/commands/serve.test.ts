import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { chromiumPath } from '@effnet/runtime';
import { runCli as run } from '../test-utils/run.js';
import { chromium, requires } from '../../../../test-utils/requires.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-serve-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('effnet serve errors (before anything listens)', () => {
  it('labels that do not fit the model: usage error naming both counts', async () => {
    const labels = join(dir, 'three.txt');
    writeFileSync(labels, 'a\nb\nc\n');
    const r = await run(['serve', 'b0', '--resolution', '32', '--labels', labels, '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--labels .*three\.txt: 3 labels but efficientnet-b0 has 1000 classes/);
  });

  it('labels for a backbone file: usage error saying it has no classes (not "0 classes")', async () => {
    const labels = join(dir, 'three.txt');
    writeFileSync(labels, 'a\nb\nc\n');
    const backbone = join(dir, 'backbone.onnx');
    expect((await run(['export', 'b0', '--resolution', '32', '--features', '3,4', '-o', backbone])).code).toBe(0);
    const r = await run(['serve', backbone, '--labels', labels, '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--labels .*three\.txt: efficientnet-b0 is a backbone file \(--features\): its outputs are features\.3, features\.4, with no class scores.*leave --labels out/);
  });

  it('a port in use: one error line naming the port, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await run(['serve', 'b0', '--resolution', '32', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`effnet: error: port ${port}: already in use (choose another with --port)\n`);
    } finally {
      blocker.close();
    }
  });
});

requires(chromium(chromiumPath())).describe('effnet bench --ep web-wasm (onnxruntime-web in headless Chromium)', () => {
  it('reports like the other EPs, with the difference against cpu', async () => {
    const out = join(dir, 'bench');
    const r = await run(['bench', 'b0', '--ep', 'web-wasm', '--resolution', '64', '--iterations', '3', '--time', '0', '--warmup', '1', '--json', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(res.failures).toEqual([]);
    expect(res.options.ep).toBe('web-wasm');
    const m = res.results[0];
    expect(m.ep).toBe('web-wasm');
    expect(m.latencyMs.samples).toBeGreaterThanOrEqual(3);
    expect(m.sessionCreateMs).toBeGreaterThan(0);
    expect(m.maxAbsDiffVsCpu).toBeLessThan(1e-3);
  });

  // ~35 s on 2 shared cores: the slow suite (npm test) only.
  it.runIf(!!process.env['EFFNET_SLOW'])('EfficientNetV2 and EfficientNet-Lite ids run in onnxruntime-web too (Fused-MBConv; ReLU6 as Clip), matching cpu', async () => {
    const out = join(dir, 'bench-families');
    const ids = ['tf-efficientnetv2-b0', 'efficientnet-lite0'];
    const r = await run(['bench', ...ids, '--ep', 'web-wasm', '--resolution', '64', '--iterations', '2', '--time', '0', '--warmup', '1', '--json', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(res.failures).toEqual([]);
    expect(res.results.map((m: { model: string }) => m.model)).toEqual(ids);
    for (const m of res.results) {
      expect(m.ep, m.model).toBe('web-wasm');
      expect(m.maxAbsDiffVsCpu, m.model).toBeLessThan(1e-3);
    }
  });
});
