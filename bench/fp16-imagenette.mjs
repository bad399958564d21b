#!/usr/bin/env node
/**
 * How much does `effnet export --fp16` change a trained model's predictions?
 *
 * Builds the Imagenette EfficientNet-B0 checkpoint (../shared/imagenette) twice — float32 and
 * float16 (weights and compute; float32 input/output) — runs both in onnxruntime-node on the
 * 3,925 validation images with the same preprocessing, and reports file sizes, the largest and
 * mean absolute logit difference, top-1 agreement and each model's top-1 accuracy.
 *
 *   npm run build && node bench/fp16-imagenette.mjs [--resolution 224] [--fold-bn] [--limit N]
 *        [--data ../shared/imagenette] [--ep cpu|wasm|webgpu] [--json]
 *
 * onnxruntime's CPU EP has few float16 kernels: it inserts Casts and computes most ops in float32,
 * so on CPU this measures the float16 rounding of weights (and of the values between ops that do
 * have float16 kernels). A GPU EP computes in float16 throughout.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listImageFolder, preprocessImage } from '@effnet/bench';
import { createRunner } from '@effnet/runtime';
import { prepareModel } from '@effnet/pipeline';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(repo, '../shared/imagenette') },
    resolution: { type: 'string', default: '224' },
    'fold-bn': { type: 'boolean', default: false },
    limit: { type: 'string' },
    batch: { type: 'string', default: '16' },
    ep: { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const R = Number(a.resolution);
const B = Number(a.batch);
const weightsPath = join(a.data, 'efficientnet_b0-imagenette.safetensors');
statSync(weightsPath); // fails with the path if the data is not there

const common = { weightsPath, resolution: R, foldBn: a['fold-bn'] };
const fp32 = prepareModel('efficientnet-b0', common);
const fp16 = prepareModel('efficientnet-b0', { ...common, fp16: true });
const bytes32 = fp32.serialize();
const bytes16 = fp16.serialize();
const K = fp32.numClasses;

const dataset = listImageFolder(join(a.data, 'val'));
const samples = a.limit ? dataset.samples.slice(0, Number(a.limit)) : dataset.samples;
const pre = { resolution: R, ...fp32.preprocess };
const [r32, r16] = [await createRunner(bytes32, { ep: a.ep }), await createRunner(bytes16, { ep: a.ep })];

let maxAbs = 0,
  sumAbs = 0,
  values = 0,
  agree = 0,
  correct32 = 0,
  correct16 = 0;
const disagreements = [];
const argmax = (y, i) => {
  let best = 0;
  for (let k = 1; k < K; k++) if (y[i * K + k] > y[i * K + best]) best = k;
  return best;
};
const t0 = performance.now();
for (let s = 0; s < samples.length; s += B) {
  const batch = samples.slice(s, s + B);
  const x = new Float32Array(batch.length * 3 * R * R);
  const images = await Promise.all(batch.map((b) => preprocessImage(b.path, pre)));
  images.forEach((img, i) => x.set(img, i * 3 * R * R));
  const dims = [batch.length, 3, R, R];
  const [y32, y16] = [(await r32.run(x, dims)).data, (await r16.run(x, dims)).data];
  for (let i = 0; i < y32.length; i++) {
    const d = Math.abs(y32[i] - y16[i]);
    maxAbs = Math.max(maxAbs, d);
    sumAbs += d;
  }
  values += y32.length;
  batch.forEach((b, i) => {
    const p32 = argmax(y32, i),
      p16 = argmax(y16, i);
    if (p32 === p16) agree++;
    else disagreements.push({ image: b.key, fp32: dataset.classes[p32], fp16: dataset.classes[p16] });
    if (p32 === b.label) correct32++;
    if (p16 === b.label) correct16++;
  });
  if (!a.json) process.stderr.write(`\r${s + batch.length}/${samples.length} images`);
}
const seconds = (performance.now() - t0) / 1000;
await r32.release();
await r16.release();

const n = samples.length;
const report = {
  model: 'efficientnet-b0 (Imagenette checkpoint, 10 classes)',
  resolution: R,
  foldBn: a['fold-bn'],
  ep: a.ep,
  images: n,
  bytes: { fp32: bytes32.length, fp16: bytes16.length, ratio: bytes16.length / bytes32.length },
  logits: { maxAbsDiff: maxAbs, meanAbsDiff: sumAbs / values },
  top1Agreement: agree / n,
  top1: { fp32: correct32 / n, fp16: correct16 / n },
  disagreements,
  seconds,
};
if (a.json) console.log(JSON.stringify(report, null, 2));
else {
  process.stderr.write('\n');
  console.log(`EfficientNet-B0 Imagenette @${R}${report.foldBn ? ' (fold-bn)' : ''}, ${n} images, onnxruntime-node ${a.ep}, ${seconds.toFixed(0)} s`);
  console.log(`  file size     fp32 ${bytes32.length.toLocaleString('en-US')} B, fp16 ${bytes16.length.toLocaleString('en-US')} B (${(100 * report.bytes.ratio).toFixed(1)}%)`);
  console.log(`  logits        max |fp32 - fp16| ${maxAbs.toExponential(2)}, mean ${(sumAbs / values).toExponential(2)}`);
  console.log(`  top-1 agree   ${(100 * report.top1Agreement).toFixed(2)}% (${n - agree} of ${n} differ)`);
  console.log(`  top-1 acc     fp32 ${(100 * report.top1.fp32).toFixed(2)}%, fp16 ${(100 * report.top1.fp16).toFixed(2)}%`);
  for (const d of disagreements.slice(0, 10)) console.log(`    ${d.image}: fp32 ${d.fp32}, fp16 ${d.fp16}`);
}
