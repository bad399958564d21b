import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { add, cast, fromFloat16Array, Graph, mul, toFloat16Array, type GraphIR } from '@effnet/graph-builder';
import { serializeModel, writeModel } from '@effnet/onnx-export';
import { chromium, requires } from '../../../test-utils/requires.js';
import { chromiumPath, launchChromium } from './browser/chromium.js';
import { runInChildProcess } from './child.js';
import { createRunner } from './runner.js';
import { openSession } from './session.js';
import { tensor, type TensorData, type Tensors } from './tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Three inputs of three element types, three outputs of three others, none of them the first
 * input's type: `sum` = float32(image) + offset, `classes` = int64(sum) (truncated toward zero),
 * `squared` = half · half in float16.
 */
function mixedModel(): GraphIR {
  const g = new Graph('mixed');
  const image = g.input('image', 'uint8', ['N', 4]);
  const offset = g.input('offset', 'float32', ['N', 4]);
  const half = g.input('half', 'float16', ['N', 4]);
  const sum = add(cast(image, 'float32'), offset);
  g.output(sum, 'sum');
  g.output(cast(sum, 'int64'), 'classes');
  g.output(mul(half, half), 'squared');
  return g.build();
}

const model = serializeModel(mixedModel());
const path = join(dir, 'mixed.onnx');
writeModel(mixedModel(), path);

const feeds: Tensors = {
  image: tensor('uint8', Uint8Array.from([0, 1, 200, 255, 7, 8, 9, 10]), [2, 4]),
  offset: tensor('float32', Float32Array.from([0.5, -1.75, 0.25, 1, -0.5, 0, 2.5, -20]), [2, 4]),
  half: tensor('float16', toFloat16Array(Float32Array.from([1.5, -2, 0.25, 3, 10, -0.5, 4, 0])), [2, 4]),
};
const expected = {
  sum: [0.5, -0.75, 200.25, 256, 6.5, 8, 11.5, -10],
  classes: [0n, 0n, 200n, 256n, 6n, 8n, 11n, -10n],
  squared: [2.25, 4, 0.0625, 9, 100, 0.25, 16, 0],
};

function check(out: Record<string, TensorData>): void {
  expect(Object.keys(out).sort()).toEqual(['classes', 'squared', 'sum']);
  expect(out['sum']!.type).toBe('float32');
  expect([...(out['sum']!.data as Float32Array)]).toEqual(expected.sum);
  expect(out['classes']!.type).toBe('int64');
  expect(out['classes']!.data).toBeInstanceOf(BigInt64Array);
  expect([...(out['classes']!.data as BigInt64Array)]).toEqual(expected.classes);
  expect(out['squared']!.type).toBe('float16');
  expect([...fromFloat16Array(out['squared']!.data as Uint16Array)]).toEqual(expected.squared);
  for (const t of Object.values(out)) expect(t.dims).toEqual([2, 4]);
}

describe('sessions with several inputs and outputs of any element type', () => {
  for (const ep of ['cpu', 'wasm'] as const) {
    it(`${ep}: uint8 + float32 + float16 in, float32 + int64 + float16 out; inputs and outputs reported with their types`, async () => {
      const s = await openSession(model, { ep });
      try {
        expect(s.ep).toBe(ep);
        expect(s.inputs.map((i) => [i.name, i.type])).toEqual([
          ['image', 'uint8'],
          ['offset', 'float32'],
          ['half', 'float16'],
        ]);
        expect(s.outputs.map((o) => [o.name, o.type])).toEqual([
          ['sum', 'float32'],
          ['classes', 'int64'],
          ['squared', 'float16'],
        ]);
        check(await s.run(feeds));
        // Only what is asked.
        const some = await s.run(feeds, ['classes']);
        expect(Object.keys(some)).toEqual(['classes']);
        // One-line errors naming the tensor.
        await expect(s.run({ image: feeds['image']!, offset: feeds['offset']! })).rejects.toThrow("model input 'half' was not fed (feeds: image, offset)");
        await expect(s.run({ ...feeds, image: tensor('float32', new Float32Array(8), [2, 4]) })).rejects.toThrow("model input 'image' takes uint8, was fed float32");
        await expect(s.run({ ...feeds, extra: feeds['offset']! })).rejects.toThrow("the model has no input 'extra' (inputs: image, offset, half)");
      } finally {
        await s.release();
      }
    });
  }

  it('child process (synchronous): the same tensors through stdin/stdout', () => {
    check(runInChildProcess(path, feeds, ['sum', 'classes', 'squared'], { threads: 1, lowMemory: true }));
    expect(() => runInChildProcess(path, feeds, ['nope'], { label: 'probe' })).toThrow(/^probe: onnxruntime run failed: .*nope/);
  });

  requires(chromium(chromiumPath())).it('web-wasm in Chromium: the same tensors, and the cached input replaced when it changes', async () => {
    const s = await openSession(model, { ep: 'web-wasm' });
    try {
      expect(s.inputs.map((i) => i.name)).toEqual(['image', 'offset', 'half']);
      check(await s.run(feeds));
      check(await s.run(feeds)); // inputs held by the page
      const other = await s.run({ ...feeds, offset: tensor('float32', new Float32Array(8), [2, 4]) }, ['sum']);
      expect([...(other['sum']!.data as Float32Array)]).toEqual([0, 1, 200, 255, 7, 8, 9, 10]);
    } finally {
      await s.release();
    }
  });

  requires(chromium(chromiumPath())).it('web-wasm in a shared Chromium: sessions share one page; release() frees its session only, the browser stays open', async () => {
    const browser = await launchChromium({ webgpu: false });
    try {
      const a = await openSession(model, { ep: 'web-wasm', browser });
      const b = await openSession(path, { ep: 'web-wasm', browser });
      expect(browser.contexts().flatMap((c) => c.pages())).toHaveLength(1);
      check(await a.run(feeds));
      // Each session holds its own inputs in the page: b's differ from a's cached ones.
      const zero = await b.run({ ...feeds, offset: tensor('float32', new Float32Array(8), [2, 4]) }, ['sum']);
      expect([...(zero['sum']!.data as Float32Array)]).toEqual([0, 1, 200, 255, 7, 8, 9, 10]);
      check(await a.run(feeds));
      await a.release();
      await expect(a.run(feeds)).rejects.toThrow('web-wasm: session already released');
      expect(browser.isConnected()).toBe(true);
      check(await b.run(feeds));
      await b.release();
      const c = await openSession(model, { ep: 'web-wasm', browser });
      check(await c.run(feeds));
      await c.release();
      expect(browser.isConnected()).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('the single-input runner refuses a model whose first input is not a float image batch', async () => {
    await expect(createRunner(model)).rejects.toThrow("model input 'image' takes uint8; this runner feeds float32 image batches");
  });

  it('tensor() checks the data against the type and dims', () => {
    expect(() => tensor('int64', new Float32Array(2) as unknown as BigInt64Array, [2])).toThrow('a int64 tensor holds a BigInt64Array, got Float32Array');
    expect(() => tensor('float32', new Float32Array(3), [2, 2])).toThrow('a float32 tensor [2,2] holds 4 elements, got 3');
    expect(() => tensor('float99' as 'float32', new Float32Array(1), [1])).toThrow(/tensor type 'float99': expected one of float32/);
  });
});

describe('createRunner: the input kind the metadata declares wins over the shape', () => {
  // A 3×3 NHWC image input is [N,3,3,3]: by its shape alone it reads as NCHW. The model returns its
  // input as given (Identity), so the output shows which layout the runner fed.
  const g = new Graph('nhwc-3x3');
  g.output(mul(g.input('input', 'float32', ['N', 3, 3, 3]), g.constant('one', 'float32', [1], Float32Array.of(1))), 'logits');
  const bytes = serializeModel(g.build());
  // NCHW [1,3,3,3]: channel c holds 100·c + pixel index.
  const nchw = Float32Array.from({ length: 27 }, (_, i) => 100 * Math.floor(i / 9) + (i % 9));

  it("declared 'nhwc': the runner transposes the NCHW batch (pixel 0's three channels first)", async () => {
    const r = await createRunner(bytes, { inputKind: 'nhwc' });
    try {
      expect(r.inputKind).toBe('nhwc');
      expect([...(await r.run(nchw, [1, 3, 3, 3])).data.slice(0, 6)]).toEqual([0, 100, 200, 1, 101, 201]);
    } finally {
      await r.release();
    }
  });

  it('without it the shape decides ([N,3,3,3] → nchw, fed as given)', async () => {
    const r = await createRunner(bytes);
    try {
      expect(r.inputKind).toBe('nchw');
      expect([...(await r.run(nchw, [1, 3, 3, 3])).data.slice(0, 6)]).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await r.release();
    }
  });

  it("declared 'pixels' on a float input: one line saying what the metadata claims", async () => {
    await expect(createRunner(bytes, { inputKind: 'pixels' })).rejects.toThrow(/model input 'input' takes float32; its metadata says decoded uint8 pictures/);
  });
});
