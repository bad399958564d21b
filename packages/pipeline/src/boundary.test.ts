/**
 * The libraries' public boundary: wrong argument types and values are typed errors (OptionError
 * naming the option, RangeError for image normalization) with one clear line, never a TypeError
 * from deep inside or a NaN result.
 */
import { describe, expect, it } from 'vitest';
import { cast, foldBatchNorm, Graph, OptionError, quantizeQdq, toFloat16 } from '@effnet/graph-builder';
import { preprocessImage } from '@effnet/images';
import { preprocessPixels } from '@effnet/preprocess';
import { serializeModel } from '@effnet/onnx-export';
import { prepareInt8Model, prepareModel, quantizeModel } from './index.js';

const SMALL = { resolution: 32, numClasses: 10 } as const;
const call = (f: () => unknown) => f;

/** Runs `f` (sync or async) and returns what it threw. */
async function thrown(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('wrong arguments at the public boundary are typed one-line errors', () => {
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp, string?][] = [
    ['prepareModel(undefined)', () => prepareModel(undefined as never), OptionError, /^prepareModel: expected a model id \(e\.g\. 'efficientnet-b0'\), got undefined$/, 'ref'],
    [
      'prepareModel(b0, { weights: path })',
      () => prepareModel('efficientnet-b0', { weights: 'x.safetensors' as never }),
      OptionError,
      /weights: expected a WeightSource .*; for a file give weightsPath: 'x\.safetensors'$/,
      'weights',
    ],
    ['prepareModel(b0, 5)', () => prepareModel('efficientnet-b0', 5 as never), OptionError, /options: expected an object, got number 5/, 'options'],
    ['prepareModel(b0, { weightsPath: 3 })', () => prepareModel('efficientnet-b0', { weightsPath: 3 as never }), OptionError, /weightsPath: expected a file path, got number 3/, 'weightsPath'],
    [
      'extraMetadata with a number',
      () => prepareModel('efficientnet-b0', { ...SMALL, extraMetadata: { 'effnet.labels': 5 as never } }),
      OptionError,
      /extraMetadata 'effnet\.labels': expected a string, got number 5/,
      'extraMetadata',
    ],
    ['opset "17"', () => prepareModel('efficientnet-b0', { ...SMALL, opset: '17' as never }), OptionError, /opset: expected a number, got '17'/, 'opset'],
    ['serializeModel opset "17"', () => serializeModel(prepareModel('efficientnet-lite0', SMALL).ir, { opset: '17' as never }), OptionError, /^opset '17': expected a number, 13\.\.21$/, 'opset'],
    ['prepareInt8Model(b0, {})', () => prepareInt8Model('efficientnet-b0', {} as never), OptionError, /^prepareInt8Model: int8: expected \{ calibration: .*, got undefined$/, 'int8'],
    [
      'prepareInt8Model calibration without kind',
      () => prepareInt8Model('efficientnet-b0', { int8: { calibration: { dir: 'x' } as never } }),
      OptionError,
      /int8\.calibration: expected \{ kind: 'images', dir \} or \{ kind: 'builtin' \}/,
      'calibration',
    ],
    [
      'quantizeModel(p, {})',
      () => quantizeModel(prepareModel('efficientnet-lite0', { ...SMALL, foldBn: true }), {} as never),
      OptionError,
      /^quantizeModel: int8\.calibration: expected/,
      'calibration',
    ],
    ['cast(x, float99)', () => cast(new Graph('g').input('x', 'float32', [1]), 'float99' as never), OptionError, /^cast: type 'float99': expected one of float32, /, 'to'],
    ['foldBatchNorm(null)', () => foldBatchNorm(null as never), OptionError, /^foldBatchNorm: expected a graph \(GraphIR, from Graph\.build\(\) or a pass\), got null$/, 'ir'],
    ['toFloat16({})', () => toFloat16({} as never), OptionError, /^toFloat16: expected a graph .*, got an object with keys \(none\)$/, 'ir'],
    [
      'quantizeQdq(ir, {})',
      () => quantizeQdq(prepareModel('efficientnet-lite0', { ...SMALL, foldBn: true }).ir, {} as never),
      OptionError,
      /^quantizeQdq: ranges: expected a Map of tensor name → \{ min, max \}.*, got undefined$/,
      'ranges',
    ],
    [
      'preprocessPixels with std [0,0,0]',
      () => preprocessPixels({ data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3 }, { resolution: 4, cropPct: 1, interpolation: 'bilinear', mean: [0, 0, 0], std: [0, 0, 0] }),
      RangeError,
      /^std \[0,0,0\]: expected 3 positive numbers \(R, G, B\)$/,
    ],
    [
      'preprocessImage with std [0,0,0]',
      () => preprocessImage(new Uint8Array(8), { resolution: 4, cropPct: 1, interpolation: 'bilinear', mean: [0, 0, 0], std: [0, 0, 0] }),
      RangeError,
      /^std \[0,0,0\]: expected 3 positive numbers/,
    ],
    [
      'preprocessImage with mean of 2',
      () => preprocessImage(new Uint8Array(8), { resolution: 4, cropPct: 1, interpolation: 'bilinear', mean: [0, 0], std: [1, 1, 1] }),
      RangeError,
      /^mean \[0,0\]: expected 3 finite numbers/,
    ],
  ];
  for (const [name, f, type, message, option] of cases)
    it(name, async () => {
      const e = await thrown(call(f));
      expect(e, String(e?.stack)).toBeInstanceOf(type);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('\n');
      if (option) expect((e as OptionError).option).toBe(option);
    });
});
