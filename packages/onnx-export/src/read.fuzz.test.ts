/**
 * Fuzzing the ONNX reader and the inspect summary: every input, however malformed, is either
 * read (and then summarized without error) or rejected with a ModelReadError that names the
 * file. Nothing else may escape: no TypeError/RangeError, no hang, no huge allocation.
 * 10,500 cases per run in all, on small models held in memory (a few seconds).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import proto from 'onnx-proto';
import { batchNorm, conv, flatten, gemm, Graph, globalAveragePool, materialize, reduceMean, relu, sigmoid, mul } from '@effnet/graph-builder';
import { decodeModel, ModelReadError } from './read.js';
import { serializeModel, writeModel } from './export.js';
import { summarizeModel } from './summary.js';

const { onnx } = proto;
const dir = mkdtempSync(join(tmpdir(), 'effnet-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** Decoding anchors external data here; the directory holds only the seed's own data file. */
const MODEL_PATH = join(dir, 'fuzz.onnx');

/** Slowest a single case may be (typical: well under 1 ms); a quadratic blow-up shows up here long before a hang. */
const MAX_CASE_MS = 2000; // generous: a GC pause on a shared 2-core machine must not fail the run
/** Per test (reset before each, checked after each): every test stands alone, in any order. */
let slowest = 0;
const outcomes = { read: 0, rejected: 0 };
beforeEach(() => {
  slowest = 0;
  outcomes.read = outcomes.rejected = 0;
});
afterEach((ctx) => {
  console.log(`${ctx.task.name}: ${outcomes.read} read, ${outcomes.rejected} rejected, slowest case ${slowest.toFixed(1)} ms`);
  expect(slowest, 'slowest case (ms)').toBeLessThan(MAX_CASE_MS);
});

/** The property: read-and-summarize succeeds, or fails with ModelReadError naming the file. */
function check(bytes: Uint8Array): void {
  const t0 = performance.now();
  try {
    const m = decodeModel(bytes, MODEL_PATH);
    const s = summarizeModel(m);
    JSON.stringify(s);
    // Inline tensors are bounded by the input: materializing them must also succeed or be rejected.
    for (const init of m.ir.initializers) if (m.externalData.length === 0) materialize(init.data);
    outcomes.read++;
  } catch (e) {
    if (!(e instanceof ModelReadError)) throw new Error(`escaped ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    expect((e as Error).message.length).toBeGreaterThan(0);
    outcomes.rejected++;
  } finally {
    slowest = Math.max(slowest, performance.now() - t0);
  }
}

function seedGraph(): ReturnType<Graph['build']> {
  const g = new Graph('seed');
  const x = g.input('input', 'float32', ['N', 3, 6, 6]);
  const w = g.initializer(
    'conv.weight',
    'float32',
    [4, 3, 3, 3],
    Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)),
  );
  const p = (n: string, v: number) => g.initializer(n, 'float32', [4], new Float32Array(4).fill(v));
  let y = batchNorm(conv(x, w, { pads: [0, 0, 1, 1], strides: [2, 2], label: 'conv' }), p('bn.weight', 1), p('bn.bias', 0), p('bn.mean', 0), p('bn.var', 1), { label: 'bn' });
  y = mul(y, sigmoid(y), { label: 'silu' });
  const se = reduceMean(relu(y), [2, 3], { keepDims: true, label: 'se' });
  y = mul(y, se, { label: 'scale' });
  const fc1 = g.initializer(
    'fc.weight',
    'float32',
    [5, 4],
    Float32Array.from({ length: 20 }, (_, i) => i / 20),
  );
  g.output(gemm(flatten(globalAveragePool(y)), fc1, { transB: true, label: 'fc' }), 'logits');
  return g.build();
}

const SEED_IR = seedGraph();
const SEEDS: Uint8Array[] = [serializeModel(SEED_IR, { opset: 17, metadata: { 'effnet.model': 'seed', note: 'fuzz' }, docString: 'seed model' }), serializeModel(SEED_IR, { opset: 21 })];

const arbMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  // Varints set to their maximum: lengths, counts, dims and offsets pushed to the 64-bit edge.
  fc.record({ kind: fc.constant('bigvarint' as const), pos: fc.nat() }),
);
type Mutation = typeof arbMutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(src: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(src);
  for (const m of muts) {
    const at = b.length ? m.pos % b.length : 0;
    switch (m.kind) {
      case 'flip':
        if (b.length) b[at] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
        break;
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.len)]);
        break;
      case 'bigvarint':
        b = Uint8Array.from([...b.subarray(0, at), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...b.subarray(at + 1)]);
        break;
    }
  }
  return b;
}

// ------------------------------------------------------------------- structured random models

const NAMES = ['input', 'x', 'w', 'b', 'y', 'logits', '', '__proto__', 'constructor', 'a/b:c'];
const arbName = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 6 }));
const arbDim = fc.oneof(
  fc.record({ dimValue: fc.integer({ min: -3, max: 9 }) }),
  fc.record({ dimValue: fc.constantFrom(2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER) }),
  fc.record({ dimParam: arbName }),
  fc.constant({}),
);
const arbElem = fc.oneof({ arbitrary: fc.constantFrom(1, 7, 10, 16), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 25 }), weight: 1 });
const arbValueInfo = fc.oneof(
  {
    arbitrary: fc.record({
      name: arbName,
      type: fc.record({ tensorType: fc.record({ elemType: arbElem, shape: fc.record({ dim: fc.array(arbDim, { maxLength: 5 }) }) }, { requiredKeys: ['elemType'] }) }),
    }),
    weight: 8,
  },
  { arbitrary: fc.record({ name: arbName, type: fc.record({ sequenceType: fc.record({ elemType: fc.constant({ tensorType: { elemType: 1 } }) }) }) }), weight: 1 },
  { arbitrary: fc.record({ name: arbName }), weight: 1 },
);
const arbAttr = fc.record(
  {
    name: arbName,
    type: fc.integer({ min: 0, max: 15 }),
    i: fc.oneof(fc.integer(), fc.constant(Number.MAX_SAFE_INTEGER)),
    f: fc.double(),
    ints: fc.array(fc.integer(), { maxLength: 5 }),
    floats: fc.array(fc.float(), { maxLength: 5 }),
    s: fc.uint8Array({ maxLength: 8 }),
  },
  { requiredKeys: ['name', 'type'] },
);
const arbNode = fc.record(
  {
    name: arbName,
    opType: fc.constantFrom('Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'Identity', '', '__proto__', 'toString', 'Loop'),
    domain: fc.constantFrom('', 'ai.onnx', 'com.microsoft'),
    input: fc.array(arbName, { maxLength: 5 }),
    output: fc.array(arbName, { maxLength: 3 }),
    attribute: fc.array(arbAttr, { maxLength: 4 }),
  },
  { requiredKeys: ['opType'] },
);
const arbExternal = fc.array(
  fc.record({
    key: fc.constantFrom('location', 'offset', 'length', 'checksum', ''),
    value: fc.oneof(fc.constantFrom('fuzz.onnx.data', 'fuzz.onnx', '../etc/passwd', '/etc/passwd', 'missing.bin', '-1', '1e309', 'NaN', '0', '16'), fc.string({ maxLength: 6 })),
  }),
  { maxLength: 4 },
);
/** Tensors whose stored data matches their shape, in each storage form readers meet. */
const BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 16: 2 };
const arbConsistentTensor = fc
  .record({ name: arbName, dims: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), dataType: fc.constantFrom(1, 2, 3, 6, 7, 9, 10, 11, 16), typed: fc.boolean() })
  .chain(({ name, dims, dataType, typed }): fc.Arbitrary<proto.onnx.ITensorProto> => {
    const n = dims.reduce((p, d) => p * d, 1);
    if (!typed) return fc.uint8Array({ minLength: n * BYTES[dataType]!, maxLength: n * BYTES[dataType]! }).map((rawData) => ({ name, dims, dataType, rawData }));
    const field = dataType === 1 ? 'floatData' : dataType === 11 ? 'doubleData' : dataType === 7 ? 'int64Data' : 'int32Data';
    const values = field === 'floatData' || field === 'doubleData' ? fc.double() : fc.integer({ min: -128, max: 255 });
    return fc.array(values, { minLength: n, maxLength: n }).map((v) => ({ name, dims, dataType, [field]: v }));
  });
const arbRandomTensor = fc.record(
  {
    name: arbName,
    dims: fc.array(fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constantFrom(2 ** 32, 2 ** 52)), { maxLength: 4 }),
    dataType: arbElem,
    rawData: fc.uint8Array({ maxLength: 48 }),
    floatData: fc.array(fc.float(), { maxLength: 8 }),
    int32Data: fc.array(fc.integer(), { maxLength: 8 }),
    int64Data: fc.array(fc.integer(), { maxLength: 8 }),
    doubleData: fc.array(fc.double(), { maxLength: 8 }),
    dataLocation: fc.constantFrom(0, 1, 7),
    externalData: arbExternal,
  },
  { requiredKeys: ['name', 'dataType'] },
);
const arbTensor = fc.oneof({ arbitrary: arbConsistentTensor, weight: 3 }, { arbitrary: arbRandomTensor, weight: 1 });
const arbModel = fc.record(
  {
    irVersion: fc.oneof(fc.integer({ min: -1, max: 12 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    producerName: fc.string({ maxLength: 8 }),
    opsetImport: fc.array(fc.record({ domain: fc.constantFrom('', 'ai.onnx', 'com.microsoft'), version: fc.integer({ min: -2, max: 30 }) }), { maxLength: 3 }),
    metadataProps: fc.array(fc.record({ key: arbName, value: fc.string({ maxLength: 8 }) }), { maxLength: 3 }),
    graph: fc.record(
      {
        name: arbName,
        node: fc.array(arbNode, { maxLength: 6 }),
        initializer: fc.array(arbTensor, { maxLength: 4 }),
        input: fc.array(arbValueInfo, { maxLength: 3 }),
        output: fc.array(arbValueInfo, { maxLength: 3 }),
        valueInfo: fc.array(arbValueInfo, { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

describe('ONNX reader + inspect summary under fuzzing', () => {
  it('the seeds themselves read and summarize', () => {
    for (const s of SEEDS) expect(summarizeModel(decodeModel(s, MODEL_PATH)).ops.length).toBeGreaterThan(5);
  });

  it('6,000 mutated and truncated effnet models: read or rejected with ModelReadError', () => {
    fc.assert(
      fc.property(fc.nat({ max: SEEDS.length - 1 }), fc.array(arbMutation, { minLength: 1, maxLength: 4 }), (seed, muts) => {
        check(mutate(SEEDS[seed]!, muts));
      }),
      { numRuns: 6000 },
    );
    // Both outcomes (~400 read, ~5,600 rejected).
    expect(outcomes.read).toBeGreaterThan(100);
    expect(outcomes.rejected).toBeGreaterThan(1000);
  });

  it('1,000 mutated models with external data beside them', () => {
    const path = join(dir, 'ext.onnx');
    writeModel(SEED_IR, path, { externalData: true, externalThreshold: 16, opset: 18 });
    // writeModel put the weights in <path>.data; the .onnx itself is what gets mutated.
    const bytes = new Uint8Array(readFileSync(path));
    fc.assert(
      fc.property(fc.array(arbMutation, { minLength: 1, maxLength: 3 }), (muts) => {
        const b = mutate(bytes, muts);
        const t0 = performance.now();
        try {
          const m = decodeModel(b, path);
          summarizeModel(m);
          for (const init of m.ir.initializers) materialize(init.data);
          outcomes.read++;
        } catch (e) {
          if (!(e instanceof ModelReadError)) throw new Error(`escaped ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
          outcomes.rejected++;
        } finally {
          slowest = Math.max(slowest, performance.now() - t0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('3,000 structurally random models (odd types, dims, attributes, external references)', () => {
    fc.assert(
      fc.property(arbModel, (m) => {
        check(onnx.ModelProto.encode(m as proto.onnx.IModelProto).finish());
      }),
      { numRuns: 3000 },
    );
    // Both outcomes (~700 read, ~2,300 rejected).
    expect(outcomes.read).toBeGreaterThan(200);
    expect(outcomes.rejected).toBeGreaterThan(1000);
  });

  it('500 random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => check(b)),
      { numRuns: 500 },
    );
  });
});
