import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRunner, openSession, tensor, type TensorData } from '@effnet/runtime';
import { Graph } from '@effnet/graph-builder';
import { defaultWeights, factorizedReduction, formulaInput, Layers, type WeightSource } from '@effnet/efficientnet';
import { serializeModel } from '@effnet/onnx-export';
import { onnxruntimeStatistics, prepareModel } from '@effnet/pipeline';

/** Default weights calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

const SLOW = !!process.env.EFFNET_SLOW;
const dir = mkdtempSync(join(tmpdir(), 'effnet-amoeba-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(model: Uint8Array | string, x: TensorData, output = 'logits'): Promise<TensorData> {
  const s = await openSession(model as never);
  try {
    return (await s.run({ input: x }))[output]!;
  } finally {
    await s.release();
  }
}

describe('factorized reduction in onnxruntime', () => {
  // 1x1 convs = identity, BN = identity: path 1 is x[:, :, ::2, ::2]; path 2 is x shifted by one
  // pixel (x[:, :, 1:, 1:] with a zero row and column after it), then subsampled the same way.
  const identityConvs: WeightSource = {
    get: (name, shape, kind) =>
      name.endsWith('_conv.weight')
        ? () => Float32Array.from({ length: shape[0]! * shape[1]! }, (_, i) => (Math.floor(i / shape[1]!) === i % shape[1]! ? 1 : 0))
        : defaultWeights.get(name, shape, kind),
  };
  for (const size of [5, 4]) {
    it(`${size}x${size} -> ${Math.ceil(size / 2)}x${Math.ceil(size / 2)}: path 2 reads the odd pixels, zero past the edge`, async () => {
      const g = new Graph('fr');
      const L = new Layers(g, identityConvs, { padding: 'same', bnEps: 1e-3 });
      const x = g.input('input', 'float32', [1, 2, size, size]);
      g.output(factorizedReduction(L, x, 'fr', 4, 2), 'y');
      const data = Float32Array.from({ length: 2 * size * size }, (_, i) => i + 1);
      const y = await run(serializeModel(g.build()), tensor('float32', data, [1, 2, size, size]), 'y');
      const o = Math.ceil(size / 2);
      const at = (c: number, r: number, k: number) => (r < size && k < size ? data[c * size * size + r * size + k]! : 0);
      const expected: number[] = [];
      for (let c = 0; c < 4; c++) for (let i = 0; i < o; i++) for (let j = 0; j < o; j++) expected.push(c < 2 ? at(c, 2 * i, 2 * j) : at(c - 2, 2 * i + 1, 2 * j + 1));
      expect(y.dims).toEqual([1, 4, o, o]);
      const bn = 1 / Math.sqrt(1 + 1e-3);
      Array.from(y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i]! * bn, 4));
    });
  }
});

describe('AmoebaNet-B exported to ONNX', () => {
  const p = prepareModel('amoebanet-b', { ...WITH_ORT, cells: 3, filters: 32, resolution: 96, numClasses: 10 });
  const x = tensor('float32', formulaInput([2, 3, 96, 96]), [2, 3, 96, 96]);

  it('AmoebaNet-B(3, 32) at 96x96 runs in onnxruntime-node: finite [2,10] logits, inline and with external data alike', async () => {
    const inline = await run(p.serialize(), x);
    expect(inline.dims).toEqual([2, 10]);
    const logits = inline.data as Float32Array;
    expect(logits.every(Number.isFinite)).toBe(true);
    expect(new Set(logits).size).toBeGreaterThan(1);

    const path = join(dir, 'amoeba-small.onnx');
    const r = p.write(path, { externalData: true });
    expect(r.dataPath).toBe(`${path}.data`);
    expect(statSync(r.dataPath!).size).toBeGreaterThan(statSync(path).size);
    const external = await run(path, x);
    expect(Array.from(external.data as Float32Array)).toEqual(Array.from(logits));
  });

  it('AmoebaNet-B(3, 32) gives the same logits on the wasm EP (negative Pad, SAME pools) as on cpu', async () => {
    const cpu = await run(p.serialize(), x);
    const wasm = await createRunner(p.serialize(), { ep: 'wasm' });
    try {
      const y = await wasm.run(x.data as Float32Array, x.dims);
      expect(y.dims).toEqual([2, 10]);
      const ref = cpu.data as Float32Array;
      const scale = Math.max(...ref.map(Math.abs));
      y.data.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4 * scale));
    } finally {
      await wasm.release();
    }
  });

  it.runIf(SLOW)(
    'AmoebaNet-B(18, 512) at 480x480: over 2 GB, so written with external data, and runs at batch 1',
    async () => {
      const big = prepareModel('amoebanet-b', { ...WITH_ORT, batch: 1 });
      const path = join(dir, 'amoebanet-b.onnx');
      const r = big.write(path, { externalData: 'auto' });
      expect(r.dataPath).toBe(`${path}.data`);
      expect(r.dataBytes!).toBeGreaterThan(2 ** 31);
      const y = await run(path, tensor('float32', formulaInput([1, 3, 480, 480]), [1, 3, 480, 480]));
      expect(y.dims).toEqual([1, 1000]);
      expect((y.data as Float32Array).every(Number.isFinite)).toBe(true);
    },
    1_200_000,
  );
});
