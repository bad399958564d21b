import { describe, expect, it } from 'vitest';
import proto from 'onnx-proto';
import { batchNorm, conv, Graph, gemm, flatten, globalAveragePool, relu } from '@effnet/graph-builder';
import { decodeModel } from './read.js';
import { serializeModel } from './export.js';
import { summarizeModel } from './summary.js';

const { onnx } = proto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

const vi = (name: string, elemType: number, dims: (number | string)[]): proto.onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/**
 * A model written by hand the way other exporters write them (not by effnet's serializer):
 * old IR version, initializers repeated among the graph inputs, float_data instead of raw_data,
 * unnamed nodes, a custom-domain operator, no value_info for intermediates.
 */
function foreignModel(): Uint8Array {
  const model: proto.onnx.IModelProto = {
    irVersion: 6,
    producerName: 'hand-written',
    producerVersion: '9.9',
    opsetImport: [
      { domain: '', version: 11 },
      { domain: 'com.example', version: 1 },
    ],
    metadataProps: [{ key: 'author', value: 'test' }],
    graph: {
      name: 'foreign',
      input: [vi('x', T.FLOAT, ['batch', 4]), vi('W', T.FLOAT, [3, 4]), vi('B', T.FLOAT, [3])],
      output: [vi('y', T.FLOAT, ['batch', 3]), vi('z', T.INT64, ['batch'])],
      initializer: [
        { name: 'W', dims: [3, 4], dataType: T.FLOAT, floatData: Array.from({ length: 12 }, (_, i) => i / 10) },
        { name: 'B', dims: [3], dataType: T.FLOAT, floatData: [0.1, 0.2, 0.3] },
        { name: 'axes', dims: [1], dataType: T.INT64, int64Data: [1] },
      ],
      node: [
        { opType: 'Gemm', input: ['x', 'W', 'B'], output: ['g'], attribute: [{ name: 'transB', type: A.INT, i: 1 }] },
        { opType: 'Relu', input: ['g'], output: ['r'] },
        { opType: 'Scale', domain: 'com.example', input: ['r'], output: ['y'], attribute: [{ name: 'scale', type: A.FLOAT, f: 2 }] },
        { opType: 'ArgMax', input: ['y'], output: ['z'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] },
        { opType: 'Relu', input: ['r'], output: ['unused'] },
      ],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

describe('summarizeModel', () => {
  it('summarizes a model written by another tool', () => {
    const s = summarizeModel(decodeModel(foreignModel(), 'foreign.onnx'));
    expect(s.irVersion).toBe(6);
    expect(s.opset).toBe(11);
    expect(s.opsets).toEqual([
      { domain: '', version: 11 },
      { domain: 'com.example', version: 1 },
    ]);
    expect(s.producer).toEqual({ name: 'hand-written', version: '9.9' });
    expect(s.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    expect(s.outputs).toEqual([
      { name: 'y', dtype: 'float32', shape: ['batch', 3] },
      { name: 'z', dtype: 'int64', shape: ['batch'] },
    ]);
    expect(s.ops).toEqual([
      { op: 'Relu', count: 2 },
      { op: 'ArgMax', count: 1 },
      { op: 'Gemm', count: 1 },
      { op: 'com.example.Scale', count: 1 },
    ]);
    expect(s.nodes).toBe(5);
    expect(s.params).toBe(15);
    expect(s.initializers).toBe(3);
    expect(s.weights).toEqual([
      { dtype: 'float32', elements: 15, bytes: 60 },
      { dtype: 'int64', elements: 1, bytes: 8 },
    ]);
    // The Gemm output 'g' has no recorded shape: inferShapes gives [batch,3], so the count is complete (4·3).
    expect([s.macs, s.macsComplete]).toEqual([12, true]);
    expect(s.metadata).toEqual({ author: 'test' });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('counts an effnet graph like graphStats: params without BN statistics, MACs, metadata', () => {
    const g = new Graph('small');
    const x = g.input('input', 'float32', ['N', 3, 8, 8]);
    const w = g.initializer('conv.weight', 'float32', [4, 3, 3, 3], new Float32Array(108).fill(0.5));
    const p = (n: string, v: number) => g.initializer(n, 'float32', [4], new Float32Array(4).fill(v));
    const y = relu(batchNorm(conv(x, w, { pads: [1, 1, 1, 1], label: 'conv' }), p('bn.weight', 1), p('bn.bias', 0), p('bn.mean', 0), p('bn.var', 1), { label: 'bn' }));
    const fc = g.initializer('fc.weight', 'float32', [10, 4], new Float32Array(40).fill(0.1));
    g.output(gemm(flatten(globalAveragePool(y)), fc, { transB: true }), 'logits');
    const s = summarizeModel(decodeModel(serializeModel(g.build(), { opset: 18, metadata: { 'effnet.model': 'small' } })));
    expect(s.opset).toBe(18);
    expect(s.irVersion).toBe(8);
    expect(s.producer.name).toBe('effnet');
    expect(s.params).toBe(108 + 4 + 4 + 40);
    expect(s.macs).toBe(8 * 8 * 4 * 27 + 4 * 10);
    expect(s.macsComplete).toBe(true);
    expect(s.ops[0]).toEqual({ op: 'BatchNormalization', count: 1 });
    expect(s.ops.map((o) => o.op).sort()).toEqual(['BatchNormalization', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Identity', 'Relu']);
    expect(s.metadata).toEqual({ 'effnet.model': 'small' });
    expect(s.weightBytes).toBe((108 + 16 + 40) * 4);
  });
});
