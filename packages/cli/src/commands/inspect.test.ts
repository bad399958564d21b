import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import proto from 'onnx-proto';
import { runCli as run } from '../test-utils/run.js';

const { onnx } = proto;
const dir = mkdtempSync(join(tmpdir(), 'effnet-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A small classifier written directly with onnx-proto, as another exporter would. */
function foreignFile(): string {
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
      initializer: [
        { name: 'onnx::Conv_1', dims: [2, 3, 1, 1], dataType: T.FLOAT, rawData: new Uint8Array(new Float32Array([1, 0, 0, 0, 1, 0]).buffer) },
      ],
      node: [
        { name: '/conv/Conv', opType: 'Conv', input: ['pixel_values', 'onnx::Conv_1'], output: ['/conv/Conv_output_0'] },
        { name: '/pool/GlobalAveragePool', opType: 'GlobalAveragePool', input: ['/conv/Conv_output_0'], output: ['/pool/out'] },
        { name: '/Flatten', opType: 'Flatten', input: ['/pool/out'], output: ['scores'] },
      ],
    },
  }).finish();
  const path = join(dir, 'foreign.onnx');
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
    expect(text.out).toMatch(/lower bound/); // the conv output has no recorded shape
    const json = await run(['inspect', path, '--json']);
    const s = JSON.parse(json.out);
    expect(s.ops).toEqual([
      { op: 'Conv', count: 1 },
      { op: 'Flatten', count: 1 },
      { op: 'GlobalAveragePool', count: 1 },
    ]);
    expect(s.outputs).toEqual([{ name: 'scores', dtype: 'float32', shape: ['batch_size', 2] }]);
    expect(s.params).toBe(6);
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
