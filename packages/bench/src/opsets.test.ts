/**
 * `--opset 13..21`: every opset effnet offers is written with the IR version ONNX pairs it with,
 * loads and runs in onnxruntime-node with the same results, and passes onnx.checker (full_check)
 * and strict shape inference wherever the installed python3-onnx knows the opset (Debian
 * bookworm's onnx 1.12 knows up to 17; newer opsets are reported as skipped by check.py).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import { formulaInput } from '@effnet/efficientnet';
import { Graph, conv, reduceMean, relu } from '@effnet/graph-builder';
import { decodeModel, MAX_OPSET, MIN_OPSET, serializeModel } from '@effnet/onnx-export';
import { onnxruntimeStatistics, prepareModel } from '@effnet/pipeline';
import { PYTHON, pythonModules, requires } from '../../../test-utils/requires.js';

/** Default weights calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

const CHECK = fileURLToPath(new URL('../conformance/check.py', import.meta.url));
const OPSETS = Array.from({ length: MAX_OPSET - MIN_OPSET + 1 }, (_, i) => MIN_OPSET + i);

/**
 * IR version of the first onnx release with each opset (onnx/helper.py VERSION_TABLE:
 * 1.8 → 7/13, 1.9 → 7/14, 1.10 → 8/15, 1.11 → 8/16, 1.12 → 8/17, 1.13 → 8/18, 1.14 → 9/19,
 * 1.15 → 9/20, 1.16 → 10/21). The installed onnx's own table is checked against this below.
 */
const IR_FOR_OPSET: Readonly<Record<number, number>> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

const withOnnx = requires(pythonModules('onnx', 'cv2', 'numpy'));

const dir = mkdtempSync(join(tmpdir(), 'effnet-opsets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A graph with ReduceMean, whose axes move from attribute to input at opset 18. */
function reduceGraph() {
  const g = new Graph('reduce');
  const x = g.input('input', 'float32', ['N', 3, 8, 8]);
  const w = g.initializer(
    'w',
    'float32',
    [4, 3, 3, 3],
    Float32Array.from({ length: 108 }, (_, i) => Math.cos(i)),
  );
  g.output(reduceMean(relu(conv(x, w, { pads: [1, 1, 1, 1] })), [2, 3], { keepDims: false }), 'logits');
  return g.build();
}

const MODELS = [
  { name: 'efficientnet-b0', bytes: (opset: number) => prepareModel('efficientnet-b0', { ...WITH_ORT, opset, resolution: 64, numClasses: 10 }).serialize(), r: 64 },
  { name: 'tf-efficientnetv2-b0', bytes: (opset: number) => prepareModel('tf-efficientnetv2-b0', { ...WITH_ORT, opset, resolution: 64, numClasses: 10 }).serialize(), r: 64 },
  { name: 'tf-efficientnet-lite0', bytes: (opset: number) => prepareModel('tf-efficientnet-lite0', { ...WITH_ORT, opset, resolution: 64, numClasses: 10 }).serialize(), r: 64 },
  { name: 'amoebanet-b', bytes: (opset: number) => prepareModel('amoebanet-b', { ...WITH_ORT, opset, cells: 6, filters: 32, resolution: 65, numClasses: 10 }).serialize(), r: 65 },
  { name: 'reduce-mean', bytes: (opset: number) => serializeModel(reduceGraph(), { opset }), r: 8 },
];

async function run(bytes: Uint8Array, r: number): Promise<Float32Array> {
  const s = await openSession(bytes);
  try {
    const dims = [2, 3, r, r];
    const y = await s.run({ input: tensor('float32', formulaInput(dims), dims) });
    return y.logits!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('every opset 13..21', () => {
  const files: { name: string; path: string; opset: number }[] = [];

  for (const m of MODELS) {
    it(`${m.name}: written with the right IR version, same outputs in onnxruntime-node at every opset`, async () => {
      let ref: Float32Array | undefined;
      for (const opset of OPSETS) {
        const bytes = m.bytes(opset);
        const loaded = decodeModel(bytes);
        expect(loaded.opset).toBe(opset);
        expect(loaded.irVersion, `opset ${opset}`).toBe(IR_FOR_OPSET[opset]);
        const path = join(dir, `${m.name}.opset${opset}.onnx`);
        writeFileSync(path, bytes);
        files.push({ name: `${m.name}.opset${opset}`, path, opset });
        const y = await run(bytes, m.r);
        expect(y.every(Number.isFinite)).toBe(true);
        if (!ref) ref = y;
        let diff = 0,
          scale = 0;
        for (let i = 0; i < y.length; i++) {
          diff = Math.max(diff, Math.abs(y[i]! - ref[i]!));
          scale = Math.max(scale, Math.abs(ref[i]!));
        }
        // Kernels may change with the op version (AveragePool-19): float32 rounding only, amplified
        // through the calibrated random network (AmoebaNet-B(6,32): 1.5e-5 at opset 19).
        expect(diff, `opset ${opset} vs ${OPSETS[0]}`).toBeLessThanOrEqual(5e-5 * Math.max(1, scale));
      }
    });
  }

  withOnnx.it('onnx.checker (full_check) and strict shape inference pass wherever python3-onnx knows the opset', () => {
    expect(files.length).toBe(MODELS.length * OPSETS.length);
    const job = join(dir, 'job.json');
    writeFileSync(job, JSON.stringify({ outDir: dir, models: files.map((f) => ({ name: f.name, path: f.path, checker: true, shapes: true })) }));
    const r = spawnSync(PYTHON, [CHECK, job], { encoding: 'utf8', maxBuffer: 16 << 20, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as {
      versions: { maxOpset: number; maxIrVersion: number; versionTable: [string, number, number][] };
      models: { name: string; opset: number; checker: { ok?: boolean; skipped?: string; error?: string }; shapes: { mismatches?: unknown[]; skipped?: string; error?: string } }[];
    };
    // Our IR table agrees with the installed onnx's wherever that one reaches.
    for (const opset of OPSETS.filter((o) => o <= res.versions.maxOpset)) {
      const first = res.versions.versionTable.filter((row) => row[2] === opset).map((row) => row[1]);
      expect(Math.min(...first), `IR version for opset ${opset}`).toBe(IR_FOR_OPSET[opset]);
    }
    let checked = 0;
    for (const m of res.models) {
      if (m.opset <= res.versions.maxOpset) {
        expect(m.checker, m.name).toEqual({ ok: true });
        expect(m.shapes.error, m.name).toBeUndefined();
        expect(m.shapes.mismatches, m.name).toEqual([]);
        checked++;
      } else {
        expect(m.checker.skipped, m.name).toMatch(/knows IR version/);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(MODELS.length * 5); // 13..17 at least
    console.log(`opsets: onnx checker passed ${checked} files (opset <= ${res.versions.maxOpset}); all ${files.length} ran in onnxruntime-node`);
  });
});
