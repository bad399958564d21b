/**
 * Conformance with runtimes effnet did not write (Debian's python3-onnx and python3-opencv,
 * driven through conformance/check.py):
 *  - onnx.checker.check_model(full_check=True) on the exported file;
 *  - strict ONNX shape inference: with effnet's value_info stripped, the shapes ONNX infers for
 *    every intermediate value equal the shapes the builder inferred;
 *  - OpenCV DNN runs the file and its logits — and a dozen intermediate feature maps — match
 *    onnxruntime-node within 1e-4.
 * Where ../shared/fixtures has the model, it is built with the fixture's weights (formula +
 * calibrated BatchNorm statistics) and both runtimes are also held to the fixture's float64
 * PyTorch logits (1e-4); otherwise formula weights are used and only the runtimes are compared.
 * Needs /usr/bin/python3 with onnx/cv2/numpy and ../shared/fixtures (.ci/run checks both): skipped with the
 * reason locally, failing under CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import type { GraphIR, NodeIR } from '@effnet/graph-builder';
import { DEFAULT_OPSET, serializeModel } from '@effnet/onnx-export';
import { fixtureTensors, formulaInput, readFixture, type Fixture, type WeightSource } from '@effnet/efficientnet';
import { onnxruntimeStatistics, prepareModel, type PrepareOptions } from '@effnet/pipeline';
import { PYTHON, pythonModules, requires, SHARED, sharedData } from '../../../test-utils/requires.js';

/** Default weights calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

const FIXTURES = join(SHARED, 'fixtures');
const FAMILY_FIXTURES = join(SHARED, 'fixtures-families');
const CHECK = fileURLToPath(new URL('../conformance/check.py', import.meta.url));
/** Logits: absolute. Intermediate feature maps: relative to their largest magnitude. */
const TOL = 1e-4;

/** Without the fixtures the models would run on formula weights with no float64 reference: not a pass. */
const NEEDS = requires(pythonModules('onnx', 'cv2', 'numpy'), sharedData('fixtures/summary.json', 'fixtures-families/summary.json'));

interface Case {
  readonly name: string;
  readonly model: string;
  readonly options?: PrepareOptions;
  /** Run in OpenCV DNN and compare with onnxruntime-node. */
  readonly opencv: boolean;
  /** ../shared/fixtures folder whose weights and float64 logits to use. */
  readonly fixture?: string;
  /** A rewrite of the exported graph before it is written (OpenCV-only workarounds, named in the case). */
  readonly rewrite?: (ir: GraphIR) => GraphIR;
}

/**
 * ReLU6 as HardSigmoid(x; 1/6, 0) · 6. OpenCV 4.6 reads only the opset-6 Clip (min/max attributes)
 * and rejects the Clip every opset >= 11 writes (min/max inputs: "node_proto.input_size() == 1"), so
 * the Lite cases run in OpenCV through this rewrite; the canonical Clip export is checked by onnx.
 */
function relu6AsHardSigmoid(ir: GraphIR): GraphIR {
  const clips = ir.nodes.filter((n) => n.op === 'Clip');
  const bounds = new Set(clips.flatMap((n) => n.inputs.slice(1)));
  const six = 'opencv_relu6.six';
  const nodes = ir.nodes.flatMap((n): NodeIR[] =>
    n.op !== 'Clip'
      ? [n]
      : [
          {
            op: 'HardSigmoid',
            name: `${n.name}.hard_sigmoid`,
            inputs: [n.inputs[0]!],
            outputs: [`${n.outputs[0]}.hard_sigmoid`],
            attrs: { alpha: { kind: 'float', value: 1 / 6 }, beta: { kind: 'float', value: 0 } },
          },
          { op: 'Mul', name: `${n.name}.times_six`, inputs: [`${n.outputs[0]}.hard_sigmoid`, six], outputs: [n.outputs[0]!], attrs: {} },
        ],
  );
  const values = ir.values.flatMap((v) => (clips.some((n) => n.outputs[0] === v.name) ? [v, { ...v, name: `${v.name}.hard_sigmoid` }] : [v]));
  const initializers = [...ir.initializers.filter((i) => !bounds.has(i.name)), { name: six, dtype: 'float32' as const, shape: [], data: new Float32Array([6]) }];
  return { ...ir, nodes, values, initializers };
}

const CASES: readonly Case[] = [
  { name: 'efficientnet-b0', model: 'efficientnet-b0', opencv: true, fixture: 'timm-efficientnet_b0' },
  { name: 'efficientnet-b0.fold-bn.opset13', model: 'efficientnet-b0', options: { foldBn: true, opset: 13, batch: 2 }, opencv: true, fixture: 'timm-efficientnet_b0' },
  { name: 'tf-efficientnet-b3', model: 'tf-efficientnet-b3', opencv: true, fixture: 'timm-tf_efficientnet_b3' },
  { name: 'resnet50', model: 'resnet50', opencv: true, fixture: 'torchvision-resnet50' },
  // TF "SAME" asymmetric pads moved into Pad nodes (OpenCV reads both forms; other converters need this one).
  { name: 'tf-efficientnet-b3.explicit-pads', model: 'tf-efficientnet-b3', options: { explicitPads: true }, opencv: true, fixture: 'timm-tf_efficientnet_b3' },
  // AmoebaNet's shifted path is a Pad with negative amounts, which OpenCV 4.6 rejects
  // ("paddings[i].first >= 0"): the plain export is checked by onnx, --explicit-pads runs in OpenCV.
  { name: 'amoebanet-b-6-32', model: 'amoebanet-b', options: { cells: 6, filters: 32 }, opencv: false },
  { name: 'amoebanet-b-6-32.explicit-pads', model: 'amoebanet-b', options: { cells: 6, filters: 32, explicitPads: true }, opencv: true },
  // EfficientNetV2 (Fused-MBConv, conv-BN-act with skip) and EfficientNet-Lite (ReLU6 as Clip, no SE).
  { name: 'tf-efficientnetv2-b0', model: 'tf-efficientnetv2-b0', opencv: true, fixture: 'timm-tf_efficientnetv2_b0' },
  { name: 'tf-efficientnetv2-b0.explicit-pads.opset13', model: 'tf-efficientnetv2-b0', options: { explicitPads: true, opset: 13 }, opencv: true, fixture: 'timm-tf_efficientnetv2_b0' },
  { name: 'efficientnet-lite0', model: 'efficientnet-lite0', opencv: false, fixture: 'timm-efficientnet_lite0' },
  { name: 'efficientnet-lite0.relu6-as-hard-sigmoid', model: 'efficientnet-lite0', opencv: true, fixture: 'timm-efficientnet_lite0', rewrite: relu6AsHardSigmoid },
  { name: 'tf-efficientnet-lite0.fold-bn', model: 'tf-efficientnet-lite0', options: { foldBn: true }, opencv: false, fixture: 'timm-tf_efficientnet_lite0' },
  {
    name: 'tf-efficientnet-lite0.fold-bn.relu6-as-hard-sigmoid',
    model: 'tf-efficientnet-lite0',
    options: { foldBn: true },
    opencv: true,
    fixture: 'timm-tf_efficientnet_lite0',
    rewrite: relu6AsHardSigmoid,
  },
  // OpenCV 4.6 cannot load float16 initializers (use the float32 export there): checker + shapes only.
  { name: 'efficientnet-b0.fp16', model: 'efficientnet-b0', options: { fp16: true }, opencv: false },
];

/** The fixture's full weight set (formula tensors + bn.safetensors) by graph parameter name. */
function fixtureWeights(f: Fixture): WeightSource {
  const tensors = new Map(fixtureTensors(f));
  return {
    get(name, shape) {
      const t = tensors.get(name);
      if (!t || t.shape.join() !== shape.join()) throw new Error(`${f.dir}: no tensor '${name}' of shape [${shape.join(',')}]`);
      return t.data as () => Float32Array;
    },
  };
}

function fixtureFor(c: Case): Fixture | undefined {
  const dir = c.fixture ? [FIXTURES, FAMILY_FIXTURES].map((root) => join(root, c.fixture!)).find((d) => existsSync(d)) : undefined;
  return dir && existsSync(dir) ? readFixture(dir) : undefined;
}

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

const inputs = new Map<string, { data: Float32Array; dims: number[]; reference?: readonly (readonly number[])[] }>();
let result: PyResult;

NEEDS.describe('conformance with onnx (checker, shape inference) and OpenCV DNN', () => {
  beforeAll(() => {
    const models = CASES.map((c) => {
      const fixture = fixtureFor(c);
      const p = prepareModel(c.model, { ...WITH_ORT, ...c.options, ...(fixture ? { weights: fixtureWeights(fixture) } : {}) });
      const path = join(dir, `${c.name}.onnx`);
      if (c.rewrite) writeFileSync(path, serializeModel(c.rewrite(p.ir), { opset: c.options?.opset ?? DEFAULT_OPSET }));
      else p.write(path);
      // Dynamic-batch files run with one image: OpenCV 4.6 cannot run dynamic-batch EfficientNet
      // files with N > 1 (shape assertion in its importer; a fixed --batch N works, see fold-bn case).
      const n = typeof c.options?.batch === 'number' ? c.options.batch : 1;
      const dims = [n, 3, p.resolution, p.resolution];
      // The formula input is defined by flat index: its first n images are the fixture's first n.
      const data = formulaInput(dims);
      if (fixture && (fixture.inputShape.slice(1).join() !== dims.slice(1).join() || fixture.logits.length < n))
        throw new Error(`${c.name}: fixture ${c.fixture} input ${JSON.stringify(fixture.inputShape)} does not fit ${JSON.stringify(dims)}`);
      inputs.set(c.name, { data, dims, ...(fixture ? { reference: fixture.logits.slice(0, n) } : {}) });
      const input = join(dir, `${c.name}.input.bin`);
      writeFileSync(input, data);
      const ir = c.rewrite ? c.rewrite(p.ir) : p.ir;
      return { name: c.name, path, checker: true, shapes: true, ...(c.opencv ? { opencv: { input, shape: dims, probes: probeValues(ir) } } : {}) };
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
        const { data, dims, reference } = inputs.get(c.name)!;
        const session = await openSession(cv.probeModel);
        try {
          const out = await session.run({ [session.inputs[0]!.name]: tensor('float32', data, dims) });
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
          if (reference) {
            // Third opinion: the fixture's float64 logits from timm / torchvision (PyTorch).
            const ref64 = reference.flat();
            const ortLogits = out[cv.outputs[0]!.name]!.data as Float32Array;
            const cvBytes = readFileSync(cv.outputs[0]!.path);
            const cvLogits = new Float32Array(cvBytes.buffer.slice(cvBytes.byteOffset, cvBytes.byteOffset + cvBytes.byteLength));
            for (const [who, y] of [
              ['onnxruntime', ortLogits],
              ['OpenCV', cvLogits],
            ] as const) {
              expect(y.length).toBe(ref64.length);
              let d = 0;
              for (let k = 0; k < y.length; k++) d = Math.max(d, Math.abs(y[k]! - ref64[k]!));
              report.unshift(`${who} vs PyTorch float64 reference logits: max|diff| ${d.toExponential(2)}`);
              expect(d, `${c.name}: ${who} vs ${c.fixture} reference logits`).toBeLessThanOrEqual(TOL);
            }
          }
          console.log(`${c.name} OpenCV vs ORT:\n  ${report.join('\n  ')}`);
        } finally {
          await session.release();
        }
      });
  }
});
