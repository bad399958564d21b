/**
 * The QDQ pass end to end: onnxruntime-node (CPU) and onnxruntime-web (wasm) run the int8 graph
 * and agree with int8 arithmetic done by hand; every opset 13–21 loads; the onnx checker (full
 * check) and strict shape inference accept the files; the calibrator's statistics.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { conv, flatten, foldBatchNorm, gemm, Graph, quantizationTargets, quantizeQdq, relu, type GraphIR } from '@effnet/graph-builder';
import { formulaInput } from '@effnet/efficientnet';
import { serializeModel } from '@effnet/onnx-export';
import { createRunner } from '@effnet/runtime';
import { calibrateActivations, entropyRange, histogramInto, percentileRange, prepareModel } from '@effnet/pipeline';
import { loadCalibrationImages } from '@effnet/images';
import { pythonModules, requires, SHARED, sharedData } from '../../../../test-utils/requires.js';

const SLOW = !!process.env.EFFNET_SLOW;
const dir = mkdtempSync(join(tmpdir(), 'effnet-int8-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------- a tiny model, by hand

const X = Float32Array.of(0.5, -0.25, 1.0, 0.75, 0.1, 0.2); // [1,2,1,3]
const W = Float32Array.of(0.8, -0.4, 0.3, 0.6); // conv 1×1 [2,2,1,1]
const B = Float32Array.of(0.05, -0.1);
const FC = Float32Array.of(1, -0.5, 0.25, 2, 0, 1.5, -1, 0.5, 0.75, -0.25, 1, 0); // [2,6], transB
const FC_B = Float32Array.of(0.3, -0.2);

function tiny(): GraphIR {
  const g = new Graph('tiny');
  const x = g.input('input', 'float32', [1, 2, 1, 3]);
  const c = conv(x, g.initializer('c.weight', 'float32', [2, 2, 1, 1], W), { bias: g.initializer('c.bias', 'float32', [2], B), label: 'c' });
  const f = flatten(relu(c, { label: 'c.relu' }), { label: 'flat' });
  g.output(gemm(f, g.initializer('fc.weight', 'float32', [2, 6], FC), { c: g.initializer('fc.bias', 'float32', [2], FC_B), transB: true, label: 'fc' }), 'logits');
  return g.build();
}

/** What int8 inference computes, written out: uint8 activations, per-channel int8 weights, int32 bias. */
function handReference(inRange: [number, number], reluRange: [number, number]): number[] {
  const round = (v: number) => {
    const r = Math.round(v);
    return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const uint8 = ([lo, hi]: [number, number]) => {
    const scale = Math.fround((Math.max(hi, 0) - Math.min(lo, 0)) / 255);
    const zp = Math.min(255, Math.max(0, round(-Math.min(lo, 0) / scale)));
    return { scale, dq: (v: number) => (Math.min(255, Math.max(0, round(v / scale) + zp)) - zp) * scale };
  };
  const perChannel = (w: Float32Array, rows: number) => {
    const per = w.length / rows;
    const scales = Array.from({ length: rows }, (_, r) => Math.fround(Math.max(...Array.from(w.subarray(r * per, (r + 1) * per), Math.abs)) / 127));
    return { scales, dq: Array.from(w, (v, i) => Math.max(-127, Math.min(127, round(v / scales[Math.floor(i / per)]!))) * scales[Math.floor(i / per)]!) };
  };
  const xin = uint8(inRange);
  const xq = Array.from(X, xin.dq);
  const wq = perChannel(W, 2);
  const fcq = perChannel(FC, 2);
  const yq = uint8(reluRange);
  const flat: number[] = [];
  for (let o = 0; o < 2; o++)
    for (let p = 0; p < 3; p++) {
      const bs = Math.fround(xin.scale * wq.scales[o]!);
      let acc = round(B[o]! / bs) * bs;
      for (let i = 0; i < 2; i++) acc += xq[i * 3 + p]! * wq.dq[o * 2 + i]!;
      flat.push(yq.dq(Math.max(0, acc)));
    }
  return [0, 1].map((j) => {
    const bs = Math.fround(yq.scale * fcq.scales[j]!);
    let acc = round(FC_B[j]! / bs) * bs;
    for (let k = 0; k < 6; k++) acc += flat[k]! * fcq.dq[j * 6 + k]!;
    return acc;
  });
}

describe('int8 QDQ model in onnxruntime', () => {
  const ir = tiny();
  const ranges = new Map([
    ['input', { min: -0.25, max: 1.0 }],
    ['c.relu', { min: 0, max: 0.9 }],
  ]);
  const q = quantizeQdq(ir, { ranges });
  const expected = handReference([-0.25, 1.0], [0, 0.9]);

  it('calibration targets are the input and the Relu output', () => {
    expect(quantizationTargets(ir).sort()).toEqual(['c.relu', 'input']);
  });

  it('onnxruntime-node (CPU) matches the int8 arithmetic done by hand', async () => {
    const r = await createRunner(serializeModel(q, { opset: 17 }), { ep: 'cpu' });
    const out = await r.run(X, [1, 2, 1, 3]);
    await r.release();
    expect(out.dims).toEqual([1, 2]);
    Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    // And the float32 model is close but not equal (quantization did happen).
    const f = await createRunner(serializeModel(ir, { opset: 17 }), { ep: 'cpu' });
    const fo = (await f.run(X, [1, 2, 1, 3])).data;
    await f.release();
    expect(Array.from(fo).some((v, i) => Math.abs(v - expected[i]!) > 1e-4)).toBe(true);
    Array.from(fo).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(0.05));
  });

  it('onnxruntime-web (wasm) gives the same int8 result', async () => {
    const r = await createRunner(serializeModel(q, { opset: 17 }), { ep: 'wasm' });
    const out = await r.run(X, [1, 2, 1, 3]);
    await r.release();
    Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('every opset 13..21 loads and gives the same output', async () => {
    for (let opset = 13; opset <= 21; opset++) {
      const r = await createRunner(serializeModel(q, { opset }), { ep: 'cpu' });
      const out = await r.run(X, [1, 2, 1, 3]);
      await r.release();
      Array.from(out.data).forEach((v, i) => expect(v, `opset ${opset}`).toBeCloseTo(expected[i]!, 5));
    }
  });

  it('an opset below 13 is refused (per-channel QuantizeLinear needs 13)', () => {
    expect(() => serializeModel(q, { opset: 12 })).toThrow(/opset/);
  });
});

// ---------------------------------------------------------------- onnx checker (Debian python3-onnx)

const PYTHON = '/usr/bin/python3';
const CHECK = fileURLToPath(new URL('../../conformance/check.py', import.meta.url));

requires(pythonModules('onnx', 'cv2', 'numpy')).describe('onnx checker (full check) and strict shape inference on int8 files', () => {
  it('EfficientNet-B0 (policy all; every policy with EFFNET_SLOW) and the tiny model, opsets 13 and 17', async () => {
    const b0 = prepareModel('efficientnet-b0', { resolution: 64 });
    const fp = foldBatchNorm(b0.ir);
    const batches = [{ data: formulaInput([2, 3, 64, 64]), dims: [2, 3, 64, 64] }];
    const models: { name: string; path: string; checker: boolean; shapes: boolean }[] = [];
    for (const policy of SLOW ? (['all', 'compute', 'pointwise'] as const) : (['all'] as const)) {
      const ranges = await calibrateActivations(fp, quantizationTargets(fp, { policy }), batches);
      const q = quantizeQdq(fp, { policy, ranges });
      for (const opset of [13, 17]) {
        const path = join(dir, `b0.${policy}.${opset}.onnx`);
        writeFileSync(path, serializeModel(q, { opset }));
        models.push({ name: `b0.${policy}.${opset}`, path, checker: true, shapes: true });
      }
    }
    const tinyPath = join(dir, 'tiny.onnx');
    writeFileSync(
      tinyPath,
      serializeModel(
        quantizeQdq(tiny(), {
          ranges: new Map([
            ['input', { min: -1, max: 1 }],
            ['c.relu', { min: 0, max: 1 }],
          ]),
        }),
        { opset: 13 },
      ),
    );
    models.push({ name: 'tiny', path: tinyPath, checker: true, shapes: true });
    const job = join(dir, 'job.json');
    writeFileSync(job, JSON.stringify({ outDir: dir, models }));
    const r = spawnSync(PYTHON, [CHECK, job], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { models: { name: string; error?: string; checker?: { ok?: boolean; error?: string }; shapes?: unknown }[] };
    for (const m of result.models) {
      expect(m.error, m.name).toBeUndefined();
      expect(m.checker, m.name).toMatchObject({ ok: true });
      const sh = m.shapes as { compared: number; values: number; missing: string[]; mismatches: unknown[] };
      expect(sh, `${m.name}: ${JSON.stringify(m.shapes)}`).toMatchObject({ missing: [], mismatches: [] });
      expect(sh.compared, m.name).toBe(sh.values);
    }
  }, 300_000);
});

// ---------------------------------------------------------------- calibration statistics

describe('calibrateActivations', () => {
  const ir = tiny();
  const batch = { data: X, dims: [1, 2, 1, 3] };

  it('minmax: the exact extremes of each tensor over all batches', async () => {
    const other = { data: Float32Array.of(-2, 0, 0, 0, 0, 3), dims: [1, 2, 1, 3] };
    const r = await calibrateActivations(ir, ['input', 'c.relu'], [batch, other]);
    expect(r.get('input')).toEqual({ min: -2, max: 3 });
    // c.relu of X by hand: channel 0 = 0.8·x0 − 0.4·x1 + 0.05, channel 1 = 0.3·x0 + 0.6·x1 − 0.1.
    const relu0 = [0.5, -0.25, 1.0].map((v, p) => Math.max(0, 0.8 * v - 0.4 * [0.75, 0.1, 0.2][p]! + 0.05));
    expect(r.get('c.relu')!.min).toBe(0);
    expect(r.get('c.relu')!.max).toBeGreaterThanOrEqual(Math.max(...relu0) - 1e-6);
  });

  it('percentile and entropy clip outliers that minmax keeps', async () => {
    const data = new Float32Array(20000);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 0.5; // |x| ≤ 0.5
    data[7] = 40; // one outlier
    const h = new Float64Array(2048);
    histogramInto(h, data, -0.5, 40);
    expect(h.reduce((s, v) => s + v, 0)).toBe(data.length);
    const p = percentileRange(h, -0.5, 40, 99.99);
    expect(p.max).toBeLessThan(1);
    expect(p.min).toBeCloseTo(-0.5, 1);
    const e = entropyRange(h, -0.5, 40);
    expect(e.max).toBeLessThan(5);
    expect(e.max).toBeGreaterThan(0.4);
    expect(percentileRange(h, -0.5, 40, 100)).toEqual({ min: -0.5, max: 40 });
  });

  it('a streamed source (one batch at a time, read once per pass) gives the ranges of the same batches as a list', async () => {
    const other = { data: Float32Array.of(-2, 0, 0, 0, 0, 3), dims: [1, 2, 1, 3] };
    let reads = 0;
    let held = 0;
    let mostHeld = 0;
    const source = {
      batches: 2,
      async *read() {
        reads++;
        for (const b of [batch, other]) {
          mostHeld = Math.max(mostHeld, ++held);
          yield { data: b.data.slice(), dims: b.dims };
          held--;
        }
      },
    };
    const progress: string[] = [];
    for (const method of ['minmax', 'entropy'] as const) {
      reads = 0;
      const streamed = await calibrateActivations(ir, ['input', 'c.relu'], source, { method, onProgress: (d, t) => progress.push(`${d}/${t}`) });
      expect(streamed).toEqual(await calibrateActivations(ir, ['input', 'c.relu'], [batch, other], { method }));
      expect(reads).toBe(method === 'minmax' ? 1 : 2);
    }
    expect(mostHeld).toBe(1); // the next batch is made only after the last one was used
    expect(progress).toEqual(['1/2', '2/2', '1/4', '2/4', '3/4', '4/4']);
  });

  it('refuses bad input clearly', async () => {
    await expect(calibrateActivations(ir, ['input'], [])).rejects.toThrow(/no calibration batches/);
    await expect(calibrateActivations(ir, ['input'], { batches: 0, read: () => [] })).rejects.toThrow(/no calibration batches/);
    await expect(calibrateActivations(ir, ['nope'], [batch])).rejects.toThrow(/has no value 'nope'/);
    await expect(calibrateActivations(ir, ['input'], [batch], { method: 'mse' as never })).rejects.toThrow(/calibration method 'mse'/);
  });
});

describe('loadCalibrationImages', () => {
  const pre = { resolution: 32, cropPct: 0.875, interpolation: 'bicubic' as const, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

  it('an empty folder, a missing folder, and images that all fail to decode are clear errors', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(loadCalibrationImages(empty, pre)).rejects.toThrow(`${empty}: no images`);
    await expect(loadCalibrationImages(join(dir, 'missing'), pre)).rejects.toThrow(/no such directory/);
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'cls'), { recursive: true });
    writeFileSync(join(bad, 'cls', 'a.jpg'), 'not a jpeg');
    writeFileSync(join(bad, 'cls', 'b.png'), 'not a png');
    await expect(loadCalibrationImages(bad, pre)).rejects.toThrow(/none of the 2 calibration images could be decoded/);
  });

  (SLOW ? requires(sharedData('imagenette/val')).it : it.skip)('spreads N images across the classes of an ImageFolder', async () => {
    const val = join(SHARED, 'imagenette/val');
    const r = await loadCalibrationImages(val, { ...pre, count: 20, batch: 8 });
    expect(r.files).toHaveLength(20);
    expect(new Set(r.files.map((f) => f.split('/')[0])).size).toBe(10);
    expect(r.batches.map((b) => b.dims[0])).toEqual([8, 8, 4]);
  });
});
