import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { cudaAvailable } from '@effnet/bench';
import { runCli as run } from '../test-utils/run.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-bench-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const TINY = ['--resolution', '64', '--iterations', '3', '--time', '0', '--warmup', '1'];

describe('effnet bench', () => {
  it('measures a model and writes results.json, results.md and the SVG charts', async () => {
    const out = join(dir, 'r1');
    const evalJson = join(dir, 'eval.json');
    writeFileSync(evalJson, JSON.stringify({ model: 'efficientnet-b0', top1: 0.25, top5: 0.5, n: 8 }));
    const r = await run(['bench', 'b0', ...TINY, '--out', out, '--accuracy-from', evalJson]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/efficientnet-b0.*64.*5\.29M/);
    expect(r.err).toMatch(/\[1\/1\] efficientnet-b0 \(cpu, batch 1\): p50 [\d.]+ ms/); // quiet progress lines off a TTY
    for (const f of ['results.json', 'results.md', 'latency-vs-params.svg', 'latency-vs-flops.svg', 'accuracy-vs-params.svg']) expect(existsSync(join(out, f))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.results[0]).toMatchObject({ model: 'efficientnet-b0', ep: 'cpu', batch: 1, resolution: 64, params: 5_288_548 });
    expect(json.results[0].latencyMs.samples).toBeGreaterThanOrEqual(3);
    expect(json.accuracy[0]).toMatchObject({ model: 'efficientnet-b0', top1: 25 });
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(/\| efficientnet-b0 \| 64 \| 1 \| 5\.29M \|/);
    expect(readFileSync(join(out, 'accuracy-vs-params.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('--json prints the results document on stdout', async () => {
    const r = await run(['bench', 'efficientnet-b0', ...TINY, '--batch', '1,2', '--out', join(dir, 'r2'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.schema).toBe('effnet-bench/1');
    expect(doc.results.map((x: { batch: number }) => x.batch)).toEqual([1, 2]);
    // MACs are per image at every batch size (batch 2 once reported twice batch 1's).
    expect(doc.results[1].macs).toBe(doc.results[0].macs);
    expect(doc.results[1].flops).toBe(2 * doc.results[0].macs);
  });

  it('--ep cuda: a report measured on cuda matching cpu where the CUDA EP is installed; else says how to enable it', async () => {
    if (cudaAvailable()) {
      const r = await run(['bench', 'b0', '--ep', 'cuda', ...TINY, '--out', join(dir, 'r3'), '--json']);
      expect([r.code, r.err]).toEqual([0, '']);
      const doc = JSON.parse(r.out);
      expect(doc.results[0].ep).toBe('cuda');
      expect(doc.results[0].maxAbsDiffVsCpu).toBeLessThanOrEqual(1e-3);
      return;
    }
    const r = await run(['bench', 'b0', '--ep', 'cuda', '--out', join(dir, 'r3')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^effnet: error: --ep cuda: .*CUDA 12 and cuDNN 9/);
  });

  it('usage errors: unknown model, unknown EP, bad --batch, bad --accuracy-from', async () => {
    expect((await run(['bench', 'efficientnet-b42', '--out', join(dir, 'r4')])).code).toBe(2);
    expect((await run(['bench', 'b0', '--ep', 'metal'])).err).toMatch(/--ep expects one of cpu, cuda, webgpu, wasm/);
    expect((await run(['bench', 'b0', '--batch', '1,x'])).code).toBe(2);
    const r = await run(['bench', 'b0', '--accuracy-from', join(dir, 'missing.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--accuracy-from .*missing\.json: no such file/);
  });
});
