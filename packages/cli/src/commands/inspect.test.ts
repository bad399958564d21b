import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import proto from 'onnx-proto';
import { runCli as run } from '../test-utils/run.js';

const { onnx } = proto;
const dir = mkdtempSync(join(tmpdir(), 'effnet-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A small classifier written directly with onnx-proto, as another exporter would (`before`: an operator ahead of the conv). */
function foreignFile(before?: string): string {
  const T = onnx.TensorProto.DataType;
  const vi_ = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const bytes = onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'pytorch',
    producerVersion: '2.1.0',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'torch_jit',
      input: [vi_('pixel_values', ['batch_size', 3, 4, 4])],
      output: [vi_('scores', ['batch_size', 2])],
      initializer: [{ name: 'onnx::Conv_1', dims: [2, 3, 1, 1], dataType: T.FLOAT, rawData: new Uint8Array(new Float32Array([1, 0, 0, 0, 1, 0]).buffer) }],
      node: [
        ...(before ? [{ name: '/pre', opType: before, input: ['pixel_values'], output: ['/pre_output_0'] }] : []),
        { name: '/conv/Conv', opType: 'Conv', input: [before ? '/pre_output_0' : 'pixel_values', 'onnx::Conv_1'], output: ['/conv/Conv_output_0'] },
        { name: '/pool/GlobalAveragePool', opType: 'GlobalAveragePool', input: ['/conv/Conv_output_0'], output: ['/pool/out'] },
        { name: '/Flatten', opType: 'Flatten', input: ['/pool/out'], output: ['scores'] },
      ],
    },
  }).finish();
  const path = join(dir, `foreign-${before ?? 'plain'}.onnx`);
  writeFileSync(path, bytes);
  return path;
}

describe('effnet inspect', () => {
  it('summarizes a model written by another tool, as text and as JSON', async () => {
    const path = foreignFile();
    const text = await run(['inspect', path]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/ONNX IR version 7, opset 13/);
    expect(text.out).toMatch(/producer\s+pytorch 2.1.0/);
    expect(text.out).toMatch(/inputs\s+pixel_values  float32 \[batch_size,3,4,4\]/);
    expect(text.out).toMatch(/params\s+6 \(6\) in 1 initializers/);
    // The conv output has no recorded shape: inferred (1x1 conv, 3 → 2 channels, 4x4).
    expect(text.out).toMatch(/MACs\s+96 \(96\) per image\n/);
    const json = await run(['inspect', path, '--json']);
    const s = JSON.parse(json.out);
    expect(s.ops).toEqual([
      { op: 'Conv', count: 1 },
      { op: 'Flatten', count: 1 },
      { op: 'GlobalAveragePool', count: 1 },
    ]);
    expect(s.outputs).toEqual([{ name: 'scores', dtype: 'float32', shape: ['batch_size', 2] }]);
    expect(s.params).toBe(6);
    expect([s.macs, s.macsComplete]).toEqual([96, true]);
  });

  it('says the MAC count is a lower bound when an operator hides shapes it cannot infer', async () => {
    const path = foreignFile('SomeCustomOp');
    const text = await run(['inspect', path]);
    expect(text.out).toMatch(/MACs\s+0 \(0\) per image, a lower bound: some shapes are not recorded in the file/);
    expect(JSON.parse((await run(['inspect', path, '--json'])).out)).toMatchObject({ macs: 0, macsComplete: false });
  });

  it('counts a torch-style EfficientNet-B0 (no value_info, auto_pad SAME_UPPER, opset-18 ReduceMean axes input) as bench does: 385,814,752 MACs', async () => {
    const path = join(dir, 'b0-effnet.onnx');
    expect((await run(['export', 'efficientnet-b0', '--opset', '18', '-o', path])).code).toBe(0);
    const m = onnx.ModelProto.decode(readFileSync(path));
    const g = m.graph as proto.onnx.GraphProto;
    const A = onnx.AttributeProto.AttributeType;
    g.valueInfo = []; // as torch.onnx.export writes: intermediate shapes not listed
    g.initializer.push({ name: 'axes_hw', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [2, 3] });
    g.initializer.push({ name: 'flat_shape', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, -1] });
    let same = 0;
    for (const n of g.node as proto.onnx.NodeProto[]) {
      const strides = n.attribute.find((a) => a.name === 'strides')?.ints?.map(Number) ?? [1, 1];
      if (n.opType === 'Conv' && strides.every((x) => x === 1)) {
        // stride 1 with k//2 pads is SAME_UPPER: the attribute form TF-style exporters write.
        n.attribute = [...n.attribute.filter((a) => a.name !== 'pads'), { name: 'auto_pad', type: A.STRING, s: new TextEncoder().encode('SAME_UPPER') }];
        same++;
      } else if (n.opType === 'GlobalAveragePool') {
        // timm's x.mean((2, 3), keepdim=True) at opset 18: axes as an input.
        n.opType = 'ReduceMean';
        n.input.push('axes_hw');
      } else if (n.opType === 'Flatten') {
        n.opType = 'Reshape';
        n.attribute = [];
        n.input.push('flat_shape');
      }
    }
    expect(same).toBeGreaterThan(50);
    m.producerName = 'pytorch';
    const torchLike = join(dir, 'b0-torch.onnx');
    writeFileSync(torchLike, onnx.ModelProto.encode(m).finish());
    const s = JSON.parse((await run(['inspect', torchLike, '--json'])).out);
    expect(s.ops).toContainEqual({ op: 'ReduceMean', count: 17 });
    expect([s.macs, s.macsComplete]).toEqual([385_814_752, true]);
    expect((await run(['inspect', torchLike])).out).toMatch(/MACs\s+385,814,752 \(385.81M\) per image\n/);
  });

  it('reads what effnet export writes: opset, renamed io, fp16 weights, metadata', async () => {
    const path = join(dir, 'b0.onnx');
    const args = ['export', 'efficientnet-b0', '--resolution', '32', '--num-classes', '3', '--batch', '2', '--opset', '19'];
    expect((await run([...args, '--fp16', '--input-name', 'images', '--output-name', 'probs', '-o', path])).code).toBe(0);
    const s = JSON.parse((await run(['inspect', path, '--json'])).out);
    expect(s.opset).toBe(19);
    expect(s.irVersion).toBe(9);
    expect(s.inputs).toEqual([{ name: 'images', dtype: 'float32', shape: [2, 3, 32, 32] }]);
    expect(s.outputs).toEqual([{ name: 'probs', dtype: 'float32', shape: [2, 3] }]);
    expect(s.weights[0].dtype).toBe('float16');
    expect(s.metadata['effnet.model']).toBe('efficientnet-b0');
    expect(s.metadata['effnet.precision']).toBe('float16');
    expect(s.metadata['effnet.params']).toBe(String(s.params));
    expect(s.macsComplete).toBe(true);
  });

  it('fails with exit 1 and a one-line error naming the file', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, Buffer.from('definitely not protobuf'));
    const r = await run(['inspect', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^effnet: error: .*bad.onnx: not a valid ONNX model/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
