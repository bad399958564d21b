/**
 * Conformance with runtimes effnet did not write (Debian's python3-onnx and python3-opencv,
 * driven through conformance/check.py):
 *  - onnx.checker.check_model(full_check=True) on the exported file;
 *  - strict ONNX shape inference: with effnet's value_info stripped, the shapes ONNX infers for
 *    every intermediate value equal the shapes the builder inferred;
 *  - OpenCV DNN runs the file and its logits — and a dozen intermediate feature maps, so that
 *    the comparison is not dominated by the classifier bias — match onnxruntime-node within 1e-4.
 * Skipped, with the reason, only where /usr/bin/python3 lacks onnx/cv2 (.ci/run installs them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import type { GraphIR } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { prepareModel, type PrepareOptions } from './prepare.js';

const PYTHON = '/usr/bin/python3';
const CHECK = fileURLToPath(new URL('../conformance/check.py', import.meta.url));
/** Logits: absolute. Intermediate feature maps: relative to their largest magnitude. */
const TOL = 1e-4;

function pythonMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import onnx, cv2, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found (apt-get install python3-onnx python3-opencv python3-numpy)`;
  if (r.status !== 0) return `${PYTHON} cannot import onnx/cv2/numpy (apt-get install python3-onnx python3-opencv python3-numpy): ${r.stderr.trim().split('\n').pop()}`;
  return undefined;
}
const MISSING = pythonMissing();
if (MISSING) console.warn(`conformance tests skipped: ${MISSING}`);

interface Case {
  readonly name: string;
  readonly model: string;
  readonly options?: PrepareOptions;
  /** Run in OpenCV DNN and compare with onnxruntime-node. */
  readonly opencv: boolean;
}

export const CASES: readonly Case[] = [
  { name: 'efficientnet-b0', model: 'efficientnet-b0', opencv: true },
  { name: 'efficientnet-b0.fold-bn.opset13', model: 'efficientnet-b0', options: { foldBn: true, opset: 13, batch: 1 }, opencv: true },
  { name: 'tf-efficientnet-b3', model: 'tf-efficientnet-b3', opencv: true },
  { name: 'resnet50', model: 'resnet50', opencv: true },
  // TF "SAME" asymmetric pads moved into Pad nodes (OpenCV reads both forms; other converters need this one).
  { name: 'tf-efficientnet-b3.explicit-pads', model: 'tf-efficientnet-b3', options: { explicitPads: true }, opencv: true },
  // AmoebaNet's shifted path is a Pad with negative amounts, which OpenCV 4.6 rejects
  // ("paddings[i].first >= 0"): the plain export is checked by onnx, --explicit-pads runs in OpenCV.
  { name: 'amoebanet-b-6-32', model: 'amoebanet-b', options: { cells: 6, filters: 32 }, opencv: false },
  { name: 'amoebanet-b-6-32.explicit-pads', model: 'amoebanet-b', options: { cells: 6, filters: 32, explicitPads: true }, opencv: true },
  // OpenCV 4.6 cannot load float16 initializers (use the float32 export there): checker + shapes only.
  { name: 'efficientnet-b0.fp16', model: 'efficientnet-b0', options: { fp16: true }, opencv: false },
];

/** Outputs of residual Adds / Concats and the first conv, evenly thinned to `max`: where errors would show. */
export function probeValues(ir: GraphIR, max = 12): string[] {
  const outputs = new Set(ir.outputs.map((o) => o.name));
  const cands = ir.nodes
    .filter((n, i) => n.op === 'Add' || n.op === 'Concat' || (n.op === 'Conv' && i < 3))
    .map((n) => n.outputs[0]!)
    .filter((v) => !outputs.has(v));
  if (cands.length <= max) return cands;
  return Array.from({ length: max }, (_, i) => cands[Math.round((i * (cands.length - 1)) / (max - 1))]!);
}

interface PyModel {
  name: string;
  error?: string;
  opset: number;
  irVersion: number;
  checker?: { ok?: boolean; error?: string; skipped?: string };
  shapes?: { compared?: number; values?: number; missing?: string[]; mismatches?: unknown[]; ok?: boolean; error?: string; skipped?: string };
  opencv?: { error?: string; probeModel: string; outputs: { name: string; path: string; shape: number[] }[] };
}
interface PyResult {
  versions: { onnx: string; opencv: string; maxOpset: number; maxIrVersion: number };
  models: PyModel[];
}

const dir = mkdtempSync(join(tmpdir(), 'effnet-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inputs = new Map<string, { data: Float32Array; dims: number[] }>();
let result: PyResult;

describe.skipIf(!!MISSING)('conformance with onnx (checker, shape inference) and OpenCV DNN', () => {
  beforeAll(() => {
    const models = CASES.map((c) => {
      const p = prepareModel(c.model, c.options);
      const path = join(dir, `${c.name}.onnx`);
      p.write(path);
      const dims = [1, 3, p.resolution, p.resolution];
      const data = formulaInput(dims);
      inputs.set(c.name, { data, dims });
      const input = join(dir, `${c.name}.input.bin`);
      writeFileSync(input, data);
      return { name: c.name, path, checker: true, shapes: true, ...(c.opencv ? { opencv: { input, shape: dims, probes: probeValues(p.ir) } } : {}) };
    });
    const job = join(dir, 'job.json');
    writeFileSync(job, JSON.stringify({ outDir: dir, models }));
    const r = spawnSync(PYTHON, [CHECK, job], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`check.py failed (${r.status ?? r.signal}): ${r.stderr}`);
    result = JSON.parse(r.stdout) as PyResult;
    console.log(`conformance: onnx ${result.versions.onnx} (opset <= ${result.versions.maxOpset}), OpenCV ${result.versions.opencv}`);
  });

  for (const c of CASES) {
    it(`${c.name}: onnx.checker (full_check) and strict shape inference agree with the builder`, () => {
      const m = result.models.find((x) => x.name === c.name)!;
      expect(m.error).toBeUndefined();
      // Every case here uses an opset the installed onnx knows; a newer one would be skipped, not passed.
      expect(m.checker).toEqual({ ok: true });
      expect(m.shapes?.error).toBeUndefined();
      expect(m.shapes?.mismatches).toEqual([]);
      expect(m.shapes?.missing).toEqual([]);
      expect(m.shapes?.compared).toBeGreaterThan(50);
    });

    if (c.opencv)
      it(`${c.name}: OpenCV DNN matches onnxruntime-node within ${TOL} (logits and probes)`, async () => {
        const m = result.models.find((x) => x.name === c.name)!;
        expect(m.opencv?.error).toBeUndefined();
        const cv = m.opencv!;
        const { data, dims } = inputs.get(c.name)!;
        const session = await ort.InferenceSession.create(cv.probeModel);
        try {
          const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) });
          const report: string[] = [];
          for (const [i, o] of cv.outputs.entries()) {
            const ref = out[o.name]!;
            const bytes = readFileSync(o.path);
            const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
            expect(o.shape, o.name).toEqual([...ref.dims]);
            const r = ref.data as Float32Array;
            expect(got.length, o.name).toBe(r.length);
            let diff = 0;
            let scale = 0;
            for (let k = 0; k < r.length; k++) {
              diff = Math.max(diff, Math.abs(r[k]! - got[k]!));
              scale = Math.max(scale, Math.abs(r[k]!));
            }
            report.push(`${o.name}: max|diff| ${diff.toExponential(2)} (max|x| ${scale.toPrecision(3)})`);
            // float32 rounding scales with magnitude: intermediates (deep ones are small) are held to 1e-4 relative.
            const tol = i === 0 ? TOL : TOL * scale;
            expect(diff, `${c.name} ${o.name}: OpenCV vs onnxruntime max |diff| (max |x| ${scale})`).toBeLessThanOrEqual(tol);
            expect(Number.isFinite(diff)).toBe(true);
            expect(scale, `${o.name} is all zeros`).toBeGreaterThan(0);
          }
          console.log(`${c.name} OpenCV vs ORT:\n  ${report.join('\n  ')}`);
        } finally {
          await session.release();
        }
      });
  }
});
