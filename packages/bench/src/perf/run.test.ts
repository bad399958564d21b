import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conv, Graph } from '@effnet/graph-builder';
import { decodeModel, serializeModel } from '@effnet/onnx-export';
import { cudaAvailable, EpUnavailableError } from '@effnet/runtime';
import { measureJob, type BenchJob } from './measure.js';
import { runBench, type RunEvent } from './run.js';
import { need, requires } from '../../../../test-utils/requires.js';

const FAST = { warmup: 1, iterations: 2, minTimeMs: 0, maxTimeMs: 60_000 };
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

function job(o: Partial<BenchJob> = {}): BenchJob {
  return { ref: 'efficientnet-b0', model: { resolution: 32 }, ep: 'cpu', batch: 1, timing: FAST, ...o };
}

describe('measureJob (in this process)', () => {
  it('measures a built model: stats from the graph, latency, throughput, memory', async () => {
    const phases: string[] = [];
    const r = await measureJob(job({ batch: 2 }), (e) => e.kind === 'phase' && phases.push(e.phase));
    expect(r).toMatchObject({ model: 'efficientnet-b0', source: 'built', ep: 'cpu', batch: 2, resolution: 32, params: 5_288_548, isolated: false });
    expect(r.flops).toBe(2 * r.macs);
    expect(r.latencyMs.samples).toBeGreaterThanOrEqual(2);
    expect(r.throughput).toBeCloseTo(2000 / r.latencyMs.mean, 6);
    expect(r.modelBytes).toBeGreaterThan(20e6);
    expect(r.peakRssBytes).toBeGreaterThan(r.modelBytes);
    expect(r.maxAbsDiffVsCpu).toBeUndefined();
    expect(phases).toEqual(['build', 'session', 'warmup', 'measure', 'release']);
  });

  it('runs on wasm (onnxruntime-web in Node) and compares with cpu', async () => {
    const r = await measureJob(job({ ep: 'wasm', model: { resolution: 64 } }));
    expect(r.ep).toBe('wasm');
    expect(r.maxAbsDiffVsCpu).toBeLessThanOrEqual(1e-3);
  });
});

describe('runBench', () => {
  it('--ep cuda: with the CUDA EP installed, runs and matches cpu within 1e-3; without it, fails fast with how to enable it', async () => {
    if (cudaAvailable()) {
      const run = await runBench({ models: ['efficientnet-b0'], ep: 'cuda', batches: [1], timing: FAST, model: { resolution: 64 } });
      expect(run.failures).toEqual([]);
      expect(run.results[0]!.ep).toBe('cuda');
      expect(run.results[0]!.maxAbsDiffVsCpu).toBeLessThanOrEqual(1e-3);
      return;
    }
    const err = await runBench({ models: ['efficientnet-b0'], ep: 'cuda', batches: [1], timing: FAST }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpUnavailableError);
    expect((err as Error).message).toMatch(/--ep cuda: .*CUDA 12 and cuDNN 9.*ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/);
  });

  it('rejects unknown models and missing files before measuring anything', async () => {
    await expect(runBench({ models: ['efficientnet-b0', 'efficientnet-b9'], ep: 'cpu', batches: [1], timing: FAST })).rejects.toThrow(/efficientnet-b9/);
    await expect(runBench({ models: ['/nonexistent/model.onnx'], ep: 'cpu', batches: [1], timing: FAST })).rejects.toThrow(/no such file/);
  });

  it('measures each model in its own process and reports progress', async () => {
    const events: RunEvent[] = [];
    const run = await runBench({ models: ['efficientnet-b0'], ep: 'cpu', batches: [1, 2], timing: FAST, model: { resolution: 32 } }, (e) => events.push(e));
    expect(run.results.map((r) => [r.model, r.batch, r.isolated])).toEqual([
      ['efficientnet-b0', 1, true],
      ['efficientnet-b0', 2, true],
    ]);
    expect(run.failures).toEqual([]);
    expect(run.options).toMatchObject({ ep: 'cpu', batches: [1, 2], isolate: true, iterations: 2 });
    expect(events.filter((e) => e.kind === 'done')).toHaveLength(2);
    expect(events.some((e) => e.kind === 'progress' && e.event.kind === 'iteration')).toBe(true);
  });

  it('records a model that fails in its process and goes on with the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'effnet-run-'));
    try {
      const broken = join(dir, 'broken.onnx');
      writeFileSync(broken, 'not a model');
      const run = await runBench({ models: [broken, 'efficientnet-b0'], ep: 'cpu', batches: [1], timing: FAST, model: { resolution: 32 } });
      expect(run.results.map((r) => r.model)).toEqual(['efficientnet-b0']);
      expect(run.failures).toHaveLength(1);
      expect(run.failures[0]!.ref).toBe(broken);
      expect(run.failures[0]!.error).toContain('broken.onnx');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('webgpu', () => {
  it('omitted optional inputs are left out of the node (WebGPU EP 1.30 crashes on Conv(x, w, ""))', () => {
    const g = new Graph('t');
    const x = g.input('input', 'float32', [1, 2, 4, 4]);
    g.output(conv(x, g.initializer('w', 'float32', [2, 2, 1, 1], new Float32Array(4).fill(1))), 'out');
    const ir = decodeModel(serializeModel(g.build())).ir;
    expect(ir.nodes.find((n) => n.op === 'Conv')!.inputs).toEqual(['input', 'w']);
  });

  it('without a Vulkan driver, says how to get an adapter (SwiftShader from chromium)', async () => {
    const saved = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json'; // the Vulkan loader then finds no driver at all
    try {
      const err = await runBench({ models: ['efficientnet-b0'], ep: 'webgpu', batches: [1], timing: FAST, model: { resolution: 32 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EpUnavailableError);
      expect((err as Error).message).toMatch(/^--ep webgpu: no WebGPU adapter was found.*VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json/);
    } finally {
      if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = saved;
    }
  });

  // CI installs Debian's chromium, whose SwiftShader Vulkan driver gives Dawn an adapter without a GPU.
  const icd = process.env.VK_ICD_FILENAMES ?? (existsSync(SWIFTSHADER) ? SWIFTSHADER : undefined);
  requires(need(!!icd, `a Vulkan driver (VK_ICD_FILENAMES, or ${SWIFTSHADER})`, "apt-get install chromium libvulkan1 (Debian's chromium has SwiftShader)")).it(
    'runs efficientnet-b0 on WebGPU and matches cpu within 1e-3',
    async () => {
      process.env.VK_ICD_FILENAMES = icd!;
      process.env.XDG_RUNTIME_DIR ??= '/tmp';
      const run = await runBench({ models: ['efficientnet-b0'], ep: 'webgpu', batches: [1], timing: { warmup: 0, iterations: 1, minTimeMs: 0, maxTimeMs: 60_000 }, model: { resolution: 64 } });
      expect(run.failures).toEqual([]);
      expect(run.results[0]!.ep).toBe('webgpu');
      expect(run.results[0]!.maxAbsDiffVsCpu).toBeLessThanOrEqual(1e-3);
    },
  );
});
