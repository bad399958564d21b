#!/usr/bin/env node
/**
 * Same-run A/B latency benchmark: our EfficientNet-B0 graph against another ONNX graph of the same
 * network (e.g. timm's efficientnet_b0 exported with torch.onnx.export, opset 17: see below),
 * both in onnxruntime-node on CPU, in ONE process, alternating short rounds
 * (A B, B A, A B, ...) so that drift in machine load hits both alike.
 *
 *   node bench/ab-timm.mjs TIMM.onnx [--ours efficientnet-b0|OURS.onnx] [--fold-bn|--no-fold-bn]
 *        [--rounds 12] [--iterations 15] [--warmup 5] [--threads N] [--batch 1] [--static-batch]
 *
 * --static-batch builds ours with a fixed batch dimension (compare with a graph exported the same way,
 * without dynamic_axes); by default ours has a dynamic batch 'N' like the export below.
 *
 * The other graph, made where PyTorch and timm are installed (random init: latency does not depend
 * on the weights):
 *
 *   python3 -c "import timm, torch; m = timm.create_model('efficientnet_b0', pretrained=False).eval();
 *     torch.onnx.export(m, torch.randn(1, 3, 224, 224), 'timm-efficientnet_b0.onnx', opset_version=17,
 *     input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})"
 *
 * Prints per-graph node counts and latency (p50, mean over all rounds), the per-round ratio
 * other ÷ ours (> 1: ours is faster) of the rounds' p50s and of their fastest runs (the figure
 * least disturbed by other load on a shared machine), its median, and how many rounds ours won.
 * Exit status 0 unless ours is slower than the other graph at the median (then 1).
 * Needs the packages built (`npm run build`). Not a unit test: timings depend on the machine.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { measureLatency, summarize } from '../packages/bench/dist/index.js';
import { createRunner } from '../packages/runtime/dist/index.js';
import { onnxruntimeStatistics, openModel } from '../packages/pipeline/dist/index.js';
import { formulaInput } from '../packages/efficientnet/dist/index.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ours: { type: 'string', default: 'efficientnet-b0' },
    'fold-bn': { type: 'boolean', default: true },
    'no-fold-bn': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '12' },
    iterations: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string' },
    batch: { type: 'string', default: '1' },
    'static-batch': { type: 'boolean', default: false },
  },
});
const other = positionals[0];
if (!other || !existsSync(other)) {
  console.error('usage: node bench/ab-timm.mjs TIMM.onnx [--ours efficientnet-b0|OURS.onnx] [--no-fold-bn] [--rounds N] [--iterations N] [--threads N] [--batch N]');
  console.error(other ? `${other}: no such file` : "the other graph (.onnx) is required; bench/export-timm.py writes timm's");
  process.exit(2);
}
const int = (name) => {
  const n = Number(o[name]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} expects a positive integer, got '${o[name]}'`);
    process.exit(2);
  }
  return n;
};
const rounds = int('rounds');
const iterations = int('iterations');
const warmup = int('warmup');
const batch = int('batch');
const threads = o.threads === undefined ? undefined : int('threads');
const foldBn = o['fold-bn'] && !o['no-fold-bn'];

const ours = openModel(o.ours, { statistics: onnxruntimeStatistics, foldBn, batch: o['static-batch'] ? batch : 'dynamic' });
const theirs = openModel(other);
if (ours.resolution !== theirs.resolution) {
  console.error(`resolutions differ: ours ${ours.resolution}, ${other} ${theirs.resolution}`);
  process.exit(2);
}
const graphOf = (h) => (h.kind === 'file' ? h.loaded.ir : h.ir);
const dims = [batch, 3, ours.resolution, ours.resolution];
const input = formulaInput(dims);
const runnerOptions = threads ? { ep: 'cpu', threads } : { ep: 'cpu' };
const A = { name: `ours (${ours.label}${ours.kind === 'built' ? `${foldBn ? ', fold-bn' : ', BN kept'}${o['static-batch'] ? ', static batch' : ', dynamic batch'}` : ''})`, handle: ours };
const B = { name: `other (${other})`, handle: theirs };
for (const g of [A, B]) {
  g.runner = await createRunner(g.handle.source(), runnerOptions);
  g.roundMedians = [];
  g.roundMins = [];
  const ops = {};
  for (const n of graphOf(g.handle).nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
  g.nodes = graphOf(g.handle).nodes.length;
  g.ops = ops;
  for (let i = 0; i < warmup; i++) await g.runner.run(input, dims);
}

for (let r = 0; r < rounds; r++) {
  for (const g of r % 2 === 0 ? [A, B] : [B, A]) {
    const { latency } = await measureLatency(() => g.runner.run(input, dims), { warmup: 0, iterations, minTimeMs: 0 });
    g.roundMedians.push(latency.p50);
    g.roundMins.push(latency.min);
  }
  process.stderr.write(`round ${r + 1}/${rounds}: ours ${A.roundMedians[r].toFixed(2)} ms, other ${B.roundMedians[r].toFixed(2)} ms\n`);
}
for (const g of [A, B]) await g.runner.release();

const ratios = A.roundMedians.map((a, i) => B.roundMedians[i] / a);
const ratio = summarize(ratios);
const wins = ratios.filter((x) => x > 1).length;
const line = (g) => {
  const s = summarize(g.roundMedians);
  return `${g.name}\n  nodes ${g.nodes}: ${Object.entries(g.ops)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}\n  per-round p50 latency: median ${s.p50.toFixed(2)} ms, mean ${s.mean.toFixed(2)} ms, min ${s.min.toFixed(2)} ms, max ${s.max.toFixed(2)} ms`;
};
console.log(`A/B on onnxruntime-node cpu, batch ${batch}, ${threads ?? 'default'} thread(s), ${rounds} alternating rounds x ${iterations} runs (after ${warmup} warm-up runs each)`);
console.log(line(A));
console.log(line(B));
console.log(`other ÷ ours, per round: median ${ratio.p50.toFixed(3)} (min ${ratio.min.toFixed(3)}, max ${ratio.max.toFixed(3)}); ours faster in ${wins}/${rounds} rounds`);
// On a shared machine the fastest run of a round is the figure least disturbed by other load.
const minRatio = summarize(A.roundMins.map((a, i) => B.roundMins[i] / a));
const best = (g) => Math.min(...g.roundMins);
console.log(
  `other ÷ ours, fastest run per round: median ${minRatio.p50.toFixed(3)} (min ${minRatio.min.toFixed(3)}, max ${minRatio.max.toFixed(3)}); fastest overall: ours ${best(A).toFixed(2)} ms, other ${best(B).toFixed(2)} ms`,
);
console.log(
  ratio.p50 >= 1 ? `ours is ${((ratio.p50 - 1) * 100).toFixed(1)}% faster (median of per-round ratios)` : `ours is ${((1 - ratio.p50) * 100).toFixed(1)}% SLOWER (median of per-round ratios)`,
);
process.exit(ratio.p50 >= 1 ? 0 : 1);
