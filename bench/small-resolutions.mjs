#!/usr/bin/env node
/**
 * Small-resolution sweep: does every registered model, with its default (formula) weights
 * calibrated as `effnet export` calibrates them, give finite, sane logits at tiny input sizes?
 * For each model id and size it builds the model, calibrates its BatchNorm statistics
 * (onnxruntimeStatistics, with the pipeline's calibration batch), and runs the eval-mode file on three
 * inputs that are not the calibration batch alone: the formula batch of 2, a constant 0.5 image,
 * and the formula batch halved. A row passes when every logit is finite and below --bound in
 * magnitude (a calibrated network's logits are O(1–10); an ill-conditioned one gives 1e30 or NaN).
 *
 *   npm run build && node bench/small-resolutions.mjs [--sizes 1,2,7,31,32,33] [--models id,id] [--bound 1000]
 *       [--max-params 100000000] [--json]
 * Models over --max-params parameters are skipped (memory of this sweep; AmoebaNet-B's 557M keep
 * identity statistics anyway). Exit 1 when any row fails. Needs the built packages (dist/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formulaInput, MODELS } from '../packages/efficientnet/dist/index.js';
import { calibrationBatchFor, onnxruntimeStatistics, prepareModel } from '../packages/pipeline/dist/index.js';
import { openSession, tensor } from '../packages/runtime/dist/index.js';

const { values: a } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,2,7,31,32,33' },
    models: { type: 'string' },
    bound: { type: 'string', default: '1000' },
    'max-params': { type: 'string', default: '100000000' },
    json: { type: 'boolean', default: false },
  },
});
const sizes = a.sizes.split(',').map(Number);
const bound = Number(a.bound);
const ids = a.models ? a.models.split(',') : MODELS.map((m) => m.id);
const dir = mkdtempSync(join(tmpdir(), 'effnet-small-'));
const rows = [];
try {
  for (const id of ids)
    for (const r of sizes) {
      const row = { id, resolution: r };
      rows.push(row);
      let p;
      try {
        p = prepareModel(id, { resolution: r, statistics: onnxruntimeStatistics, numClasses: 1000 });
      } catch (e) {
        row.error = e.message.split('\n')[0];
        report(row);
        continue;
      }
      row.params = p.stats.params;
      if (p.stats.params > Number(a['max-params'])) {
        row.skipped = `over ${a['max-params']} params`;
        report(row);
        continue;
      }
      row.calibrationBatch = calibrationBatchFor(p.built.ir);
      const path = join(dir, 'm.onnx');
      p.write(path, { overwrite: true, externalData: true });
      const s = await openSession(path, { threads: 1 });
      const dims = [2, 3, r, r];
      const inputs = { formula: formulaInput(dims), constant: new Float32Array(6 * r * r).fill(0.5), half: formulaInput(dims).map((v) => v / 2) };
      row.maxAbs = {};
      for (const [name, data] of Object.entries(inputs)) {
        const out = await s.run({ [s.inputs[0].name]: tensor('float32', data, dims) });
        let max = 0;
        for (const v of out[s.outputs[0].name].data) max = Number.isFinite(v) ? Math.max(max, Math.abs(v)) : Infinity;
        row.maxAbs[name] = max;
      }
      await s.release();
      row.ok = Object.values(row.maxAbs).every((m) => m < bound);
      report(row);
    }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const failed = rows.filter((r) => r.ok === false);
if (a.json) console.log(JSON.stringify(rows, null, 2));
console.log(
  `${rows.filter((r) => r.ok).length} rows pass, ${failed.length} fail, ${rows.filter((r) => r.error).length} refused at build, ${rows.filter((r) => r.skipped).length} skipped (bound ${bound})`,
);
process.exitCode = failed.length ? 1 : 0;

function report(row) {
  if (a.json) return;
  const what = row.error
    ? `refused: ${row.error}`
    : row.skipped
      ? `skipped (${row.skipped})`
      : `batch ${row.calibrationBatch}  max|logit| ${Object.entries(row.maxAbs)
          .map(([k, v]) => `${k} ${v.toPrecision(3)}`)
          .join(', ')}  ${row.ok ? 'ok' : 'FAIL'}`;
  console.log(`${row.id.padEnd(26)} ${String(row.resolution).padStart(4)}  ${what}`);
}
