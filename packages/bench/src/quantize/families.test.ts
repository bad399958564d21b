/**
 * The pipeline's int8 step on every family (B0 with timm weights, tf-B0 with TF "SAME" pads,
 * ResNet-50, EfficientNetV2-B0, EfficientNet-Lite0) at a small resolution, calibrated on a few
 * Imagenette images: the metadata, QDQ nodes and int8 weights, a run in onnxruntime-node (CPU) and
 * onnxruntime-web (wasm) that agree, and the onnx checker (full check, Debian python3-onnx).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { formulaInput } from '@effnet/efficientnet';
import { loadCalibrationImages } from '@effnet/images';
import { readModel } from '@effnet/onnx-export';
import { BUILTIN_CALIBRATION_SOURCE, onnxruntimeStatistics, prepareInt8Model, prepareModel } from '@effnet/pipeline';
import { createRunner } from '@effnet/runtime';
import { PYTHON, pythonModules, requires, SHARED, sharedData } from '../../../../test-utils/requires.js';

const VAL = join(SHARED, 'imagenette/val');
const WEIGHTS = join(SHARED, 'imagenette/efficientnet_b0-imagenette.safetensors');
const DATA = requires(sharedData('imagenette/val', 'imagenette/efficientnet_b0-imagenette.safetensors'));
const CHECK = fileURLToPath(new URL('../../conformance/check.py', import.meta.url));
const ONNX = requires(pythonModules('onnx', 'cv2', 'numpy'));

const dir = mkdtempSync(join(tmpdir(), 'effnet-int8-families-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const R = 64;
const CASES = [{ id: 'efficientnet-b0', weightsPath: WEIGHTS }, { id: 'tf-efficientnet-b0' }, { id: 'resnet50' }, { id: 'tf-efficientnetv2-b0' }, { id: 'efficientnet-lite0' }] as const;

const written: { name: string; path: string; checker: boolean; shapes: boolean }[] = [];

DATA.describe('int8 on every family (64 px, 6 Imagenette calibration images)', () => {
  for (const c of CASES)
    it(`${c.id}${'weightsPath' in c ? ' with trained timm weights' : ''}`, async () => {
      const o = { resolution: R, batch: 'dynamic' as const, statistics: onnxruntimeStatistics, ...('weightsPath' in c ? { weightsPath: c.weightsPath } : {}) };
      const q = await prepareInt8Model(c.id, { ...o, int8: { calibration: { kind: 'images', dir: VAL, count: 6 } } });
      expect(q.int8).toMatchObject({ method: 'entropy', policy: 'all', images: 6, latencyOnly: false, failed: [] });
      const path = join(dir, `${c.id}.onnx`);
      q.write(path);
      const file = readModel(path);
      expect(file.metadata).toMatchObject({
        'effnet.precision': 'int8',
        'effnet.fold_bn': 'true',
        'effnet.int8.calibration_method': 'entropy',
        'effnet.int8.calibration_images': '6',
        'effnet.int8.calibration_source': VAL,
        'effnet.int8.policy': 'all',
      });
      expect(file.opset).toBeGreaterThanOrEqual(13);
      const ops = new Set(file.ir.nodes.map((n) => n.op));
      expect(ops.has('QuantizeLinear') && ops.has('DequantizeLinear')).toBe(true);
      expect(file.ir.nodes.some((n) => n.op === 'BatchNormalization')).toBe(false);
      const int8Weights = file.ir.initializers.filter((i) => i.dtype === 'int8' && i.shape.length === 4);
      expect(int8Weights.length).toBeGreaterThan(10);
      written.push({ name: c.id, path, checker: true, shapes: true });

      const x = formulaInput([1, 3, R, R]); // any input: cpu and wasm must agree on it
      const cpu = await createRunner(path, { ep: 'cpu' });
      const wasm = await createRunner(path, { ep: 'wasm' });
      try {
        const a = (await cpu.run(x, [1, 3, R, R])).data as Float32Array;
        const b = (await wasm.run(x, [1, 3, R, R])).data as Float32Array;
        expect(a.length).toBe(q.numClasses);
        expect(a.every(Number.isFinite)).toBe(true);
        // Both run int8 kernels; requantization rounding may differ by a step here and there.
        const range = Math.max(...a) - Math.min(...a);
        const diff = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
        expect(diff).toBeLessThan(0.1 * range + 1e-6);
      } finally {
        await cpu.release();
        await wasm.release();
      }
      if ('weightsPath' in c) {
        // Trained weights, real images (not among the 6 calibration images): the int8 logits follow the float32 ones (cosine similarity).
        const images = await loadCalibrationImages(VAL, { count: 17, batch: 17, resolution: R, ...q.preprocess });
        const [batch] = images.batches;
        const f = await createRunner(prepareModel(c.id, { ...o, foldBn: true }).serialize(), { ep: 'cpu' });
        const i8 = await createRunner(path, { ep: 'cpu' });
        try {
          const a = (await f.run(batch!.data, batch!.dims)).data as Float32Array;
          const b = (await i8.run(batch!.data, batch!.dims)).data as Float32Array;
          let ab = 0,
            aa = 0,
            bb = 0;
          a.forEach((v, k) => ((ab += v * b[k]!), (aa += v * v), (bb += b[k]! * b[k]!)));
          expect(ab / Math.sqrt(aa * bb)).toBeGreaterThan(0.95);
          expect(b.length).toBe(17 * q.numClasses);
        } finally {
          await f.release();
          await i8.release();
        }
      }
    }, 240_000);

  it('latency-only calibration on the built-in input is recorded as such', async () => {
    const q = await prepareInt8Model('efficientnet-lite0', { resolution: 32, statistics: onnxruntimeStatistics, int8: { calibration: { kind: 'builtin' }, method: 'minmax' } });
    expect(q.int8.latencyOnly).toBe(true);
    expect(q.metadata).toMatchObject({ 'effnet.int8.calibration_source': BUILTIN_CALIBRATION_SOURCE, 'effnet.int8.calibration_method': 'minmax', 'effnet.int8.calibration_images': '8' });
  }, 120_000);

  ONNX.it(
    'every file passes the onnx checker (full check) and strict shape inference',
    () => {
      expect(written.length).toBe(CASES.length);
      const job = join(dir, 'job.json');
      writeFileSync(job, JSON.stringify({ outDir: dir, models: written }));
      const r = spawnSync(PYTHON, [CHECK, job], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { models: { name: string; error?: string; checker?: { ok?: boolean }; shapes?: unknown }[] };
      for (const m of result.models) {
        expect(m.error, m.name).toBeUndefined();
        expect(m.checker, m.name).toMatchObject({ ok: true });
        const sh = m.shapes as { missing: string[]; mismatches: unknown[] };
        expect(sh, `${m.name}: ${JSON.stringify(m.shapes)}`).toMatchObject({ missing: [], mismatches: [] });
      }
    },
    300_000,
  );
});
