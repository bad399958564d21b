import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { chromiumPath, cudaAvailable } from '@effnet/runtime';
import { flatten, globalAveragePool, Graph, mul, toFloat16 } from '@effnet/graph-builder';
import { writeModel } from '@effnet/onnx-export';
import { chromium, requires } from '../../../../test-utils/requires.js';
import { runCli as run } from '../test-utils/run.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-bench-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const TINY = ['--resolution', '64', '--iterations', '3', '--time', '0', '--warmup', '1'];

/** A tiny classifier file: logits = mean over each channel of x × scale ([N, 3, 16, 16] → [N, 3]). */
function channelMean(file: string, scale: number, o: { fp16Io?: boolean; externalData?: boolean } = {}): string {
  const g = new Graph('channel_mean');
  const x = g.input('input', 'float32', ['N', 3, 16, 16]);
  g.output(flatten(globalAveragePool(mul(x, g.initializer('scale', 'float32', [1], new Float32Array([scale]))))), 'logits');
  const ir = o.fp16Io ? toFloat16(g.build(), { keepIoFloat32: false }) : g.build();
  writeModel(ir, file, { opset: 17, ...(o.externalData ? { externalData: true } : {}) });
  return file;
}

describe('effnet bench', () => {
  it('measures a model and writes results.json, results.md and the SVG charts', async () => {
    const out = join(dir, 'r1');
    const evalJson = join(dir, 'eval.json');
    writeFileSync(evalJson, JSON.stringify({ model: 'efficientnet-b0', top1: 0.25, top5: 0.5, n: 8 }));
    const r = await run(['bench', 'b0', ...TINY, '--out', out, '--accuracy-from', evalJson]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    // Piped (80 columns) the 15-column table prints one record per row, every line within 80.
    expect(r.out).toMatch(/^efficientnet-b0 @64\n\s+res\s+64\n[^]*?\n\s+params\s+5\.29M\n/m);
    expect(Math.max(...r.out.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(80);
    // At 64 px (not B0's 224) the paper's figures describe another network: none beside it.
    expect(r.out).not.toMatch(/paper top-1/);
    expect(r.err).toMatch(/\[1\/1\] efficientnet-b0 \(cpu, batch 1\): p50 [\d.]+ ms/); // quiet progress lines off a TTY
    for (const f of ['results.json', 'results.md', 'latency-vs-params.svg', 'latency-vs-flops.svg', 'accuracy-vs-params.svg', 'latency-vs-params.png', 'accuracy-vs-params.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect([...readFileSync(join(out, 'accuracy-vs-params.png')).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.results[0]).toMatchObject({
      model: 'efficientnet-b0',
      label: 'efficientnet-b0 @64',
      precision: 'fp32',
      paperComparable: false,
      ep: 'cpu',
      batch: 1,
      resolution: 64,
      params: 5_288_548,
    });
    expect(json.results[0].latencyMs.samples).toBeGreaterThanOrEqual(3);
    expect(json.accuracy[0]).toMatchObject({ model: 'efficientnet-b0', top1: 25 });
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(/\| efficientnet-b0 @64 \| 64 \| 1 \| 5\.29M \|/);
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

  it('some jobs fail: the report keeps the good results, lists the failed jobs (results.json, results.md, terminal), exit 1', async () => {
    const out = join(dir, 'partial');
    const nan = channelMean(join(dir, 'nan.onnx'), NaN); // runs, but every logit is NaN
    const noData = channelMean(join(dir, 'no-data.onnx'), 1, { externalData: true });
    rmSync(`${noData}.data`); // the weights file it references is gone
    const r = await run(['bench', 'b0', nan, noData, ...TINY, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^effnet: error: 2 of 3 measurements failed: .*nan\.onnx on cpu: the output has 3 non-finite values/m);
    expect(r.out).toMatch(/^efficientnet-b0 @64$/m); // the good result is in the table
    expect(r.out).toMatch(/FAILED: 2 of 3 measurements \(not in the table above\)/);
    expect(r.out).toMatch(/incomplete:\s+2\s+failed\s+measurements/);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.results.map((x: { model: string }) => x.model)).toEqual(['efficientnet-b0']);
    expect(json.failures).toEqual([
      { model: nan, ref: nan, ep: 'cpu', batch: 1, error: expect.stringMatching(/^\S*nan\.onnx on cpu: the output has 3 non-finite values \(first: NaN\) of 3 on the first run/) },
      { model: noData, ref: noData, ep: 'cpu', batch: 1, error: expect.stringContaining('no-data.onnx') },
    ]);
    for (const f of json.failures) expect(f.error).not.toContain('\n');
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\*\*Incomplete: 2 of 3 measurements failed\*\*/);
    expect(md).toMatch(/## Failed\n[^]*\| \S*nan\.onnx \| cpu \| 1 \| [^|]*non-finite[^|]* \|\n\| \S*no-data\.onnx \| cpu \| 1 \|/);
    expect(md).toMatch(/\| efficientnet-b0 @64 \| 64 \| 1 \|/);
  });

  it('every job fails: no report, exit 1', async () => {
    const out = join(dir, 'all-failed');
    const r = await run(['bench', channelMean(join(dir, 'nan2.onnx'), NaN), ...TINY, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^effnet: error: every measurement failed, no report written: .*nan2\.onnx on cpu: the output has 3 non-finite values/m);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
  });

  requires(chromium(chromiumPath())).it('--ep web-wasm feeds float16 to a --fp16-io file and reads its float16 logits (headless Chromium)', async () => {
    const out = join(dir, 'half-web');
    const half = channelMean(join(dir, 'half.onnx'), 0.5, { fp16Io: true });
    const r = await run(['bench', half, '--ep', 'web-wasm', '--iterations', '2', '--time', '0', '--warmup', '1', '--json', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(doc.failures).toEqual([]);
    expect(doc.results[0]).toMatchObject({ ep: 'web-wasm', resolution: 16 });
    expect(doc.results[0].maxAbsDiffVsCpu).toBeLessThan(1e-2); // float16 in both, same graph
  });
});
