/**
 * The pipeline's int8 step: options checked before any work, the ranges asked for are exactly
 * graph-builder's quantizationTargets of the folded graph, the file's metadata and opset, and a real
 * calibration (onnxruntime-node) of a small model on the built-in input.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { materialize, OptionError, quantizationTargets, type TensorRange } from '@effnet/graph-builder';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '@effnet/onnx-export';
import { prepareInt8Model, prepareModel, quantizeModel, BUILTIN_CALIBRATION_SOURCE, type CalibrationSource } from './index.js';

const SMALL = { resolution: 32, numClasses: 10 } as const;
const dir = mkdtempSync(join(tmpdir(), 'effnet-int8-step-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prepareInt8Model / quantizeModel', () => {
  it('refuses fp16 and an unknown method before any work', async () => {
    // The pass table's exclusion (int8 × fp16): an OptionError naming the flags.
    const excluded = prepareInt8Model('efficientnet-lite0', { ...SMALL, fp16: true, int8: { calibration: { kind: 'builtin' } } });
    await expect(excluded).rejects.toThrow(OptionError);
    await expect(excluded).rejects.toThrow('--int8 with --fp16: choose one precision');
    // @ts-expect-error: a method name from the command line
    await expect(prepareInt8Model('efficientnet-lite0', { ...SMALL, int8: { calibration: { kind: 'builtin' }, method: 'kl' } })).rejects.toThrow(
      /calibration method 'kl': expected minmax, percentile, entropy/,
    );
    const fp16 = prepareModel('efficientnet-lite0', { ...SMALL, fp16: true, foldBn: true });
    await expect(quantizeModel(fp16, { calibration: { kind: 'builtin' } })).rejects.toThrow(/quantizes a float32 model; this one is float16/);
  });

  it('asks the range provider for exactly quantizationTargets of the folded graph, on the built-in batch, and records it', async () => {
    const asked: { tensors: readonly string[]; dims: readonly number[][] }[] = [];
    // Ranges of [-1, 1] for every tensor: the provider is the calibrator's injection point.
    const ranges = async (_ir: unknown, tensors: readonly string[], batches: CalibrationSource) => {
      const dims: number[][] = [];
      for await (const b of 'read' in batches ? batches.read() : batches) dims.push([...b.dims]);
      asked.push({ tensors, dims });
      return new Map<string, TensorRange>(tensors.map((t) => [t, { min: -1, max: 1 }]));
    };
    const q = await prepareInt8Model('efficientnet-lite0', { ...SMALL, opset: 11, int8: { calibration: { kind: 'builtin' }, method: 'percentile', ranges } });
    const folded = prepareModel('efficientnet-lite0', { ...SMALL, foldBn: true }).ir;
    expect(asked).toEqual([{ tensors: quantizationTargets(folded, { policy: 'all' }), dims: [[8, 3, 32, 32]] }]);
    expect(q.opset).toBe(13); // raised from 11: per-channel QuantizeLinear
    expect(q.int8).toMatchObject({ method: 'percentile', policy: 'all', latencyOnly: true, images: 8, source: BUILTIN_CALIBRATION_SOURCE });
    const path = join(dir, 'q.onnx');
    q.write(path);
    const file = readModel(path);
    expect(file.opset).toBe(13);
    expect(file.metadata).toMatchObject({
      'effnet.precision': 'int8',
      'effnet.fold_bn': 'true',
      'effnet.int8.calibration_method': 'percentile',
      'effnet.int8.calibration_images': '8',
      'effnet.int8.calibration_source': BUILTIN_CALIBRATION_SOURCE,
      'effnet.int8.policy': 'all',
    });
    // Every activation scale is 2/255 (range [-1, 1] on uint8).
    const scales = file.ir.initializers.filter((i) => i.name.endsWith('.scale') && i.shape.length === 0);
    expect(scales.length).toBeGreaterThan(0);
    for (const s of scales) expect(Number(materialize(s.data)[0])).toBe(Math.fround(2 / 255));
  });

  it('calibrates with onnxruntime-node by default (minmax on the built-in input)', async () => {
    const q = await prepareInt8Model('efficientnet-lite0', { ...SMALL, int8: { calibration: { kind: 'builtin' }, method: 'minmax', policy: 'pointwise' } });
    expect(q.int8.policy).toBe('pointwise');
    expect(q.metadata['effnet.int8.policy']).toBe('pointwise');
    expect(q.ir.nodes.filter((n) => n.op === 'QuantizeLinear').length).toBeGreaterThan(0);
    expect(q.ir.initializers.some((i) => i.dtype === 'int8')).toBe(true);
  }, 60_000);
});
