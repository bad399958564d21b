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
 * Needs /usr/bin/python3 with onnx/cv2/numpy and ../shared/fixtures (.ci/run checks both), and the
 * README's conformance table also Chromium (onnxruntime-web in the browser; .ci/run installs
 * Debian's chromium): skipped with the reason locally, failing under CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumPath, launchChromium, openSession, tensor } from '@effnet/runtime';
import type { GraphIR } from '@effnet/graph-builder';
import { fixtureTensors, formulaInput, readFixture, type Fixture, type WeightSource } from '@effnet/efficientnet';
import { onnxruntimeStatistics, prepareInt8Model, prepareModel, type PrepareOptions } from '@effnet/pipeline';
import { preprocessPixels } from '@effnet/preprocess';
import * as prettier from 'prettier';
import { chromium, PYTHON, pythonModules, requires, SHARED, sharedData } from '../../../test-utils/requires.js';

/** Default weights calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

const FIXTURES = join(SHARED, 'fixtures');
const FAMILY_FIXTURES = join(SHARED, 'fixtures-families');
const CHECK = fileURLToPath(new URL('../conformance/check.py', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
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
  // EfficientNet-Lite's ReLU6 is a Clip with min/max inputs, which OpenCV 4.6 rejects: the default
  // export is checked by onnx, the real `--opencv` export path (Relu(x) − Relu(x − 6), the bound read
  // from the Clip) runs in OpenCV and is held to the fixture's PyTorch logits, so a wrong bound fails.
  { name: 'efficientnet-lite0', model: 'efficientnet-lite0', opencv: false, fixture: 'timm-efficientnet_lite0' },
  { name: 'efficientnet-lite0.opencv', model: 'efficientnet-lite0', options: { opencv: true }, opencv: true, fixture: 'timm-efficientnet_lite0' },
  { name: 'tf-efficientnet-lite0.fold-bn', model: 'tf-efficientnet-lite0', options: { foldBn: true }, opencv: false, fixture: 'timm-tf_efficientnet_lite0' },
  { name: 'tf-efficientnet-lite0.fold-bn.opencv', model: 'tf-efficientnet-lite0', options: { foldBn: true, opencv: true }, opencv: true, fixture: 'timm-tf_efficientnet_lite0' },
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
      p.write(path);
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
      const ir = p.ir;
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

// ------------------------------------------------------------------------------------------------
// The conformance table (README "Using effnet models in other runtimes"): each deployable variant
// × each runtime — loads, and max |Δ| against effnet's own result, or "not supported" with the
// reason the runtime gave. Computed here; the README's table must be exactly this
// (EFFNET_UPDATE_README=1 rewrites it).

const README = join(REPO_ROOT, 'README.md');
const TABLE_START = '<!-- conformance-table:start -->';
const TABLE_END = '<!-- conformance-table:end -->';
/** Python onnxruntime is not installed in CI: its column is what bench/conformance-python.py recorded. */
const PY_RECORD = fileURLToPath(new URL('../conformance/python-onnxruntime.json', import.meta.url));

interface Variant {
  readonly name: string;
  readonly model: string;
  readonly options: PrepareOptions;
  /** uint8 pictures [1,H,W,3] (embedded preprocessing) instead of the formula tensor. */
  readonly pixels?: boolean;
  readonly nhwc?: boolean;
  /** Input H×W when not R×R (dynamic size). */
  readonly size?: readonly [number, number];
  /** effnet's own result: the plain float32 model (on the tensor effnet's PIL-exact path makes), else this file in onnxruntime-node. */
  readonly reference: 'plain' | 'self';
}

const TR = 224;
type Browser = Awaited<ReturnType<typeof launchChromium>>;
const VARIANTS: readonly Variant[] = [
  { name: 'plain', model: 'efficientnet-b0', options: {}, reference: 'self' },
  { name: 'embedded preprocessing', model: 'efficientnet-b0', options: { embedPreprocessing: true }, pixels: true, reference: 'plain' },
  { name: 'features', model: 'efficientnet-b0', options: { features: true }, reference: 'self' },
  { name: 'embedding', model: 'efficientnet-b0', options: { head: 'none' }, reference: 'self' },
  { name: 'dynamic size (tf-b0 at 192×256)', model: 'tf-efficientnet-b0', options: { dynamicSize: true }, size: [192, 256], reference: 'self' },
  { name: 'NHWC', model: 'efficientnet-b0', options: { layout: 'nhwc' }, nhwc: true, reference: 'plain' },
  { name: 'fp16', model: 'efficientnet-b0', options: { fp16: true }, reference: 'plain' },
  { name: 'int8 (builtin calibration)', model: 'efficientnet-b0', options: {}, reference: 'plain' },
  // The network quantized on its float NCHW input, the embedded preprocessing put in front of it afterwards.
  { name: 'int8 + embedded preprocessing', model: 'efficientnet-b0', options: { embedPreprocessing: true }, pixels: true, reference: 'plain' },
  { name: 'Lite0 (ReLU6 = Clip)', model: 'efficientnet-lite0', options: {}, reference: 'self' },
  { name: 'Lite0 --opencv', model: 'efficientnet-lite0', options: { opencv: true }, reference: 'self' },
];
const RUNTIMES = ['onnxruntime-node', 'onnxruntime-web (wasm, in Node)', 'onnxruntime-web (wasm, in Chromium)', 'OpenCV 4.6 (cv2.dnn)', 'onnx checker', 'Python onnxruntime (recorded)'] as const;

/** max |Δ| as the power of ten above it (≤ 1e-5): stable across machines where the last digits of float32 sums are not. */
const fmt = (d: number) => (d === 0 ? '0' : `≤ 1e${Math.ceil(Math.log10(d))}`);
const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, '-').toLowerCase();

function allOutputsDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let m = 0;
  for (const k of Object.keys(a)) {
    const x = a[k]!,
      y = b[k];
    if (!y || y.length !== x.length) return Infinity;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

/** Pictures for the embedded file: a 500×375 photo-like pattern (the size the issue names). */
function photo(w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = Math.round(127.5 + 100 * Math.sin((x * (c + 1)) / 23 + y / 31) * Math.cos(y / 17 - c));
  return px;
}

async function runAll(
  path: string,
  ep: 'cpu' | 'wasm' | 'web-wasm',
  feed: { name: string; data: Float32Array | Uint8Array; dims: number[] },
  browser?: Browser,
): Promise<Record<string, Float32Array>> {
  const s = await openSession(path, { ep, ...(browser ? { browser } : {}) });
  try {
    const t = feed.data instanceof Uint8Array ? tensor('uint8', feed.data, feed.dims) : tensor('float32', feed.data, feed.dims);
    const out = await s.run({ [s.inputs[0]!.name]: t });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>)]));
  } finally {
    await s.release();
  }
}

function tableMarkdown(rows: readonly (readonly string[])[], pyVersion: string | undefined): string {
  const names = RUNTIMES.map((r) => (r.startsWith('Python') && pyVersion ? `Python onnxruntime ${pyVersion} (recorded)` : r));
  const head = `| variant | ${names.join(' | ')} |`;
  const sep = `|---|${RUNTIMES.map(() => '---').join('|')}|`;
  return [head, sep, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The table has a column for onnxruntime-web in Chromium (Debian's; .ci/run installs it). */
const TABLE_NEEDS = requires(pythonModules('onnx', 'cv2', 'numpy'), sharedData('fixtures/summary.json', 'fixtures-families/summary.json'), chromium(chromiumPath()));

TABLE_NEEDS.describe('the conformance table: variants × runtimes (README)', () => {
  it("each variant loads and matches effnet's own result (or says why not) in each runtime; the README table is this table", async () => {
    const R = TR;
    const pic = { w: 500, h: 375 };
    const px = photo(pic.w, pic.h);
    const plain = prepareModel('efficientnet-b0', { ...WITH_ORT });
    const plainPath = join(dir, 'table-reference.onnx');
    plain.write(plainPath);
    const x = formulaInput([1, 3, R, R]);
    const pre = preprocessPixels({ data: px, width: pic.w, height: pic.h, channels: 3 }, { resolution: R, ...plain.preprocess }).data;
    const models: { name: string; path: string; checker: boolean; shapes: boolean; opencv: { input: string; dtype: string; shape: number[]; probes: string[] } }[] = [];
    const feeds = new Map<string, { name: string; data: Float32Array | Uint8Array; dims: number[] }>();
    const refs = new Map<string, Record<string, Float32Array>>();
    for (const v of VARIANTS) {
      const path = join(dir, `table-${slug(v.name)}.onnx`);
      if (v.name.startsWith('int8')) (await prepareInt8Model(v.model, { ...WITH_ORT, ...v.options, int8: { calibration: { kind: 'builtin' } } })).write(path);
      else prepareModel(v.model, { ...WITH_ORT, ...v.options }).write(path);
      const [h, w] = v.size ?? [R, R];
      let feed: { name: string; data: Float32Array | Uint8Array; dims: number[] };
      if (v.pixels) feed = { name: 'image', data: px, dims: [1, pic.h, pic.w, 3] };
      else if (v.nhwc) {
        const hwc = new Float32Array(x.length);
        for (let c = 0; c < 3; c++) for (let i = 0; i < R * R; i++) hwc[i * 3 + c] = x[c * R * R + i]!;
        feed = { name: 'input', data: hwc, dims: [1, R, R, 3] };
      } else feed = { name: 'input', data: formulaInput([1, 3, h, w]), dims: [1, 3, h, w] };
      feeds.set(v.name, feed);
      refs.set(v.name, v.reference === 'self' ? await runAll(path, 'cpu', feed) : await runAll(plainPath, 'cpu', { name: 'input', data: v.pixels ? pre : x, dims: [1, 3, R, R] }));
      const input = join(dir, `table-${slug(v.name)}.input.bin`);
      writeFileSync(input, feed.data);
      models.push({ name: `table-${slug(v.name)}`, path, checker: true, shapes: false, opencv: { input, dtype: feed.data instanceof Uint8Array ? 'uint8' : 'float32', shape: feed.dims, probes: [] } });
    }
    const job = join(dir, 'table-job.json');
    writeFileSync(job, JSON.stringify({ outDir: dir, models }));
    const r = spawnSync(PYTHON, [CHECK, job], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`check.py failed (${r.status ?? r.signal}): ${r.stderr}`);
    const py = JSON.parse(r.stdout) as PyResult;
    const recorded = existsSync(PY_RECORD) ? (JSON.parse(readFileSync(PY_RECORD, 'utf8')) as { onnxruntime: string; cells: Record<string, string> }) : undefined;
    if (process.env['EFFNET_KEEP_CONFORMANCE']) {
      // For bench/conformance-python.py: the files, inputs and effnet's results of this run.
      const keep = process.env['EFFNET_KEEP_CONFORMANCE'];
      const manifest = VARIANTS.map((v) => {
        const refPath = join(keep, `${slug(v.name)}.ref.json`);
        writeFileSync(refPath, JSON.stringify(Object.fromEntries(Object.entries(refs.get(v.name)!).map(([k, a]) => [k, Array.from(a)]))));
        const m = models.find((q) => q.name === `table-${slug(v.name)}`)!;
        const model = join(keep, `${slug(v.name)}.onnx`);
        writeFileSync(model, readFileSync(m.path));
        const input = join(keep, `${slug(v.name)}.input.bin`);
        writeFileSync(input, readFileSync(m.opencv.input));
        return { name: v.name, model, input, dtype: m.opencv.dtype, shape: m.opencv.shape, reference: refPath };
      });
      writeFileSync(join(keep, 'manifest.json'), JSON.stringify(manifest, null, 1));
    }

    const rows: string[][] = [];
    // One Chromium for the whole column (each session opens and closes its own page in it): it is slow to start.
    const browser = await launchChromium({ webgpu: false });
    let chromiumMs = 0;
    try {
      for (const v of VARIANTS) {
        const m = py.models.find((q) => q.name === `table-${slug(v.name)}`)!;
        const ref = refs.get(v.name)!;
        const cell = async (ep: 'cpu' | 'wasm' | 'web-wasm') => {
          try {
            const y = await runAll(models.find((q) => q.name === `table-${slug(v.name)}`)!.path, ep, feeds.get(v.name)!, ep === 'web-wasm' ? browser : undefined);
            const d = allOutputsDiff(ref, y);
            return v.reference === 'self' && ep === 'cpu' ? '✓ (reference)' : `✓ ${fmt(d)}`;
          } catch (e) {
            // The runtime's own words: a variant it cannot run is "not supported" with the reason it gave.
            const why = (e as Error).message.split('\n')[0]!.replace(/\|/g, '/');
            return ep === 'web-wasm' ? `not supported: ${why.slice(0, 110)}` : `✗ ${why.slice(0, 80)}`;
          }
        };
        const cv = (() => {
          if (m.opencv?.error) return `not supported: ${m.opencv.error.replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 110)}`;
          const outs: Record<string, Float32Array> = {};
          for (const o of m.opencv!.outputs) {
            const b = readFileSync(o.path);
            outs[o.name] = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
          }
          return `✓ ${fmt(allOutputsDiff(ref, outs))}`;
        })();
        const checker = m.checker?.ok ? '✓ valid' : m.checker?.skipped ? `not supported: ${m.checker.skipped}` : `✗ ${(m.checker?.error ?? '?').slice(0, 80)}`;
        const pyCell = recorded?.cells[v.name] ?? 'not recorded';
        const t0 = performance.now();
        const web = await cell('web-wasm');
        chromiumMs += performance.now() - t0;
        rows.push([v.name, await cell('cpu'), await cell('wasm'), web, cv, checker, pyCell]);
      }
    } finally {
      await browser.close();
    }
    console.log(`onnxruntime-web in Chromium: ${(chromiumMs / 1000).toFixed(1)} s for ${VARIANTS.length} variants (one browser)`);
    // Formatted as the repository's prettier formats README.md, so that lint and this test agree.
    const table = (await prettier.format(tableMarkdown(rows, recorded?.onnxruntime), { ...(await prettier.resolveConfig(README)), parser: 'markdown' })).trim();
    console.log(table);
    // What must hold whatever the README says: every variant loads and matches in onnxruntime (node, wasm).
    for (const row of rows) {
      for (const c of row.slice(1, 4)) expect(c, `${row[0]}: ${c}`).toMatch(/^✓/);
      // Debian's onnx 1.12 knows opsets up to 17: the opset-18 embedded file is outside it (said in the cell).
      expect(row[5], `${row[0]} onnx checker`).toMatch(row[0]!.includes('embedded') ? /^(✓ valid|not supported: onnx 1\.\d+\.\d+ knows IR version)/ : /^✓ valid$/);
    }
    const tol = (name: string) => (name === 'fp16' ? 0.1 : name.startsWith('int8') ? 1 : name.startsWith('embedded') ? 1e-3 : 1e-4);
    for (const [i, v] of VARIANTS.entries())
      for (const [col, who] of [
        [1, 'onnxruntime-node'],
        [2, 'onnxruntime-web (Node)'],
        [3, 'onnxruntime-web (Chromium)'],
      ] as const) {
        const d = rows[i]![col]!.match(/^✓ (?:≤ )?([0-9.e+-]+)$/);
        if (d) expect(Number(d[1]), `${v.name} ${who} vs effnet's own result`).toBeLessThanOrEqual(tol(v.name));
      }
    // Lite0 with ReLU6 as Clip does not load in OpenCV 4.6; with --opencv it does and matches.
    expect(rows.find((r) => r[0] === 'Lite0 (ReLU6 = Clip)')![4]).toMatch(/^not supported/);
    expect(rows.find((r) => r[0] === 'Lite0 --opencv')![4]).toMatch(/^✓ /);
    const readme = readFileSync(README, 'utf8');
    const a = readme.indexOf(TABLE_START),
      b = readme.indexOf(TABLE_END);
    expect(a >= 0 && b > a, `README.md needs ${TABLE_START} … ${TABLE_END}`).toBe(true);
    const current = readme.slice(a + TABLE_START.length, b).trim();
    if (process.env['EFFNET_UPDATE_README'] === '1' && current !== table) writeFileSync(README, `${readme.slice(0, a + TABLE_START.length)}\n\n${table}\n\n${readme.slice(b)}`);
    else expect(current, 'README conformance table differs from what this test computes (EFFNET_UPDATE_README=1 rewrites it)').toBe(table);
  }, 600_000);
});
