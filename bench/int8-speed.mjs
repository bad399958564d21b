#!/usr/bin/env node
/**
 * int8 vs float32 latency of the same model, same run: onnxruntime-node CPU, batch 1, alternating
 * the two sessions round by round (other processes load the CPU too), reporting the median of the
 * per-round ratios fp32/int8 (> 1: int8 faster) and what onnxruntime fused the QDQ graph into.
 *
 *   npm run build && node bench/int8-speed.mjs [--models resnet50,efficientnet-b0,efficientnet-lite0-local]
 *        [--policies all,compute,pointwise] [--threads 2] [--rounds 30] [--runs 10]
 *        [--calibration-images 16] [--data ../shared/imagenette/val] [--json]
 *
 * Calibration here only sets ranges for latency (minmax over --calibration-images real images);
 * bench/int8-imagenette.mjs measures accuracy.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { quantizationTargets, quantizeQdq } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { loadCalibrationImages } from '@effnet/images';
import { calibrateActivations } from '@effnet/pipeline';
import { floatModel, median, optimizedOps } from './int8-common.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet50,efficientnet-lite0-local,efficientnet-b0' },
    policies: { type: 'string', default: 'all,compute,pointwise' },
    resolution: { type: 'string' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '30' },
    runs: { type: 'string', default: '10' },
    'calibration-images': { type: 'string', default: '16' },
    method: { type: 'string', default: 'minmax' },
    data: { type: 'string', default: resolve(repo, '../shared/imagenette/val') },
    json: { type: 'boolean', default: false },
  },
});
const threads = Number(a.threads),
  rounds = Number(a.rounds),
  runs = Number(a.runs);
const log = (s) => (a.json ? process.stderr.write(s + '\n') : console.log(s));
const results = [];

const session = (bytes) =>
  ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  });

for (const id of a.models.split(',')) {
  const m = floatModel(id, a.resolution ? { resolution: Number(a.resolution) } : {});
  const R = m.resolution;
  const fp32 = serializeModel(m.ir, { opset: 17 });
  const calib = await loadCalibrationImages(a.data, { count: Number(a['calibration-images']), batch: 8, resolution: R, ...m.preprocess });
  const x = new ort.Tensor('float32', calib.batches[0].data.slice(0, 3 * R * R), [1, 3, R, R]);
  const s32 = await session(fp32);
  for (const policy of a.policies.split(',')) {
    const tensors = quantizationTargets(m.ir, { policy });
    const ranges = await calibrateActivations(m.ir, tensors, calib.batches, { method: a.method, threads });
    const q = quantizeQdq(m.ir, { policy, ranges });
    const int8 = serializeModel(q, { opset: 17 });
    const ops = await optimizedOps(int8);
    const s8 = await session(int8);
    const feeds = { [m.ir.inputs[0].name]: x };
    const time = async (s) => {
      const t = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await s.run(feeds);
        t.push(performance.now() - t0);
      }
      return median(t);
    };
    for (let i = 0; i < 5; i++) (await s32.run(feeds), await s8.run(feeds));
    const t32 = [],
      t8 = [],
      ratio = [];
    for (let r = 0; r < rounds; r++) {
      let f, i;
      if (r % 2) ((f = await time(s32)), (i = await time(s8)));
      else ((i = await time(s8)), (f = await time(s32)));
      (t32.push(f), t8.push(i), ratio.push(f / i));
    }
    await s8.release();
    const row = {
      model: id,
      resolution: R,
      policy,
      threads,
      fp32Ms: median(t32),
      int8Ms: median(t8),
      speedup: median(ratio),
      bytes: { fp32: fp32.length, int8: int8.length },
      quantizedTensors: tensors.length,
      ops,
    };
    results.push(row);
    log(
      `${id} @${R} policy ${policy}: fp32 ${row.fp32Ms.toFixed(2)} ms, int8 ${row.int8Ms.toFixed(2)} ms, speed-up ×${row.speedup.toFixed(2)} (median of ${rounds} same-run ratios); ${(int8.length / 1e6).toFixed(1)} MB vs ${(fp32.length / 1e6).toFixed(1)} MB`,
    );
    log(
      `    onnxruntime runs: ${Object.entries(ops)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  await s32.release();
}
if (a.json) console.log(JSON.stringify(results, null, 2));
