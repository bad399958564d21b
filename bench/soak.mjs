#!/usr/bin/env node
/**
 * Soak test: does memory stay flat under sustained use?
 *   1. N inferences (default 1000) of one model on one runner, batch 1;
 *   2. a full `evaluate` over an image folder (default ../shared/imagenette/val, 3,925 images).
 * RSS (and V8 heap / ArrayBuffers) is sampled throughout; the report gives the level after warm-up,
 * the peak, the end and the growth, plus the least-squares slope over the second half of each phase.
 *
 *   npm run build && node bench/soak.mjs [--model efficientnet-b0] [--resolution 224]
 *       [--inferences 1000] [--data DIR] [--weights W.safetensors] [--eval-resolution 160]
 *       [--batch 16] [--passes 1] [--threads N] [--json]
 * `--passes K` runs the eval over the image list K times in one stream (to see whether RSS plateaus).
 * Needs the built packages (dist/).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluate, listImageFolder } from '../packages/bench/dist/index.js';
import { createRunner } from '../packages/runtime/dist/index.js';
import { onnxruntimeStatistics, prepareModel } from '../packages/pipeline/dist/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(repo, '../shared');
const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'efficientnet-b0' },
    resolution: { type: 'string', default: '224' },
    inferences: { type: 'string', default: '1000' },
    data: { type: 'string', default: resolve(shared, 'imagenette/val') },
    weights: { type: 'string', default: resolve(shared, 'imagenette/efficientnet_b0-imagenette.safetensors') },
    'eval-resolution': { type: 'string', default: '160' },
    batch: { type: 'string', default: '16' },
    passes: { type: 'string', default: '1' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const MB = 2 ** 20;
const mem = () => {
  const m = process.memoryUsage();
  return { rss: m.rss / MB, heap: m.heapUsed / MB, arrayBuffers: m.arrayBuffers / MB };
};

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

function summarize(name, unit, samples) {
  // samples: [{at, rss, heap, arrayBuffers}], the first one taken after warm-up
  const first = samples[0];
  const last = samples[samples.length - 1];
  const half = samples.slice(Math.floor(samples.length / 2));
  const per = 1000;
  return {
    phase: name,
    count: last.at,
    unit,
    rssStartMB: first.rss,
    rssPeakMB: Math.max(...samples.map((s) => s.rss)),
    rssEndMB: last.rss,
    rssGrowthMB: last.rss - first.rss,
    rssSlopeMBPer1000:
      slope(
        half.map((s) => s.at),
        half.map((s) => s.rss),
      ) * per,
    heapStartMB: first.heap,
    heapEndMB: last.heap,
    arrayBuffersEndMB: last.arrayBuffers,
    samples: samples.length,
  };
}

const threads = a.threads ? { threads: Number(a.threads) } : {};
const results = [];

// 1. Sustained inference.
{
  const R = Number(a.resolution);
  const model = prepareModel(a.model, { resolution: R, statistics: onnxruntimeStatistics });
  const runner = await createRunner(model.source(), threads);
  const x = new Float32Array(3 * R * R).map((_, i) => Math.sin(i));
  const N = Number(a.inferences);
  for (let i = 0; i < 20; i++) await runner.run(x, [1, 3, R, R]); // warm-up: allocator pools, kernels
  const samples = [{ at: 0, ...mem() }];
  const t0 = performance.now();
  for (let i = 1; i <= N; i++) {
    await runner.run(x, [1, 3, R, R]);
    if (i % 25 === 0) samples.push({ at: i, ...mem() });
  }
  const seconds = (performance.now() - t0) / 1000;
  await runner.release();
  results.push({ ...summarize(`${N} inferences of ${a.model} at ${R} px, batch 1`, 'inferences', samples), seconds });
}

// 2. A full evaluation, streaming.
if (existsSync(a.data)) {
  const R = Number(a['eval-resolution']);
  const weights = existsSync(a.weights) ? { weightsPath: a.weights } : {};
  const model = prepareModel('efficientnet-b0', { resolution: R, statistics: onnxruntimeStatistics, ...weights });
  const runner = await createRunner(model.source(), threads);
  const listed = listImageFolder(a.data);
  const passes = Number(a.passes);
  const ds = { ...listed, samples: Array.from({ length: passes }, () => listed.samples).flat() };
  const samples = [];
  let warm = false;
  const r = await evaluate(runner, ds, model.numClasses, {
    ...model.preprocess,
    resolution: R,
    batch: Number(a.batch),
    onProgress: (p) => {
      // The first batches fill the decode queue and ORT's arena: start measuring after 5%.
      if (!warm && p.done < ds.samples.length * 0.05) return;
      warm = true;
      samples.push({ at: p.done, ...mem() });
    },
  });
  await runner.release();
  results.push({
    ...summarize(
      `eval of ${ds.samples.length} images (${a.data}${passes > 1 ? `, ${passes} passes` : ''}) at ${R} px, batch ${a.batch}${weights.weightsPath ? ', trained weights' : ''}`,
      'images',
      samples,
    ),
    seconds: r.seconds.total,
    imagesPerSecond: r.imagesPerSecond,
    top1: r.top1,
    failed: r.failed.length,
  });
} else {
  process.stderr.write(`soak: ${a.data}: not found, skipping the eval phase\n`);
}

if (a.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else
  for (const r of results) {
    const f = (x) => x.toFixed(1);
    process.stdout.write(
      `${r.phase}: ${f(r.seconds)} s\n` +
        `  RSS ${f(r.rssStartMB)} MB after warm-up → peak ${f(r.rssPeakMB)} → end ${f(r.rssEndMB)} MB ` +
        `(growth ${r.rssGrowthMB >= 0 ? '+' : ''}${f(r.rssGrowthMB)} MB; slope over the 2nd half ${r.rssSlopeMBPer1000.toFixed(2)} MB / 1000 ${r.unit})\n` +
        `  V8 heap ${f(r.heapStartMB)} → ${f(r.heapEndMB)} MB, ArrayBuffers at end ${f(r.arrayBuffersEndMB)} MB` +
        (r.top1 !== undefined ? `; top-1 ${r.top1.toFixed(4)}, ${r.imagesPerSecond.toFixed(1)} img/s, ${r.failed} unreadable` : '') +
        '\n',
    );
  }
