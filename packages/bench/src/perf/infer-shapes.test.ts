import { describe, expect, it } from 'vitest';
import { buildModel } from '@effnet/efficientnet';
import { graphStats, type GraphIR, type NodeIR } from '@effnet/graph-builder';
import { fileStats, withInferredShapes } from './infer-shapes.js';

/** A graph as another exporter writes it: no intermediate shapes. */
const bare = (ir: GraphIR): GraphIR => ({ ...ir, values: [] });

describe('withInferredShapes', () => {
  it.each(['efficientnet-b0', 'resnet50', 'tf-efficientnet-b3'])('%s without value_info: MACs as counted with every shape known', (id) => {
    const { ir } = buildModel(id, { resolution: 64 });
    const full = graphStats(ir);
    expect(full.macsComplete).toBe(true);
    const lost = graphStats(bare(ir));
    expect(lost.macsComplete).toBe(false);
    const inferred = fileStats(bare(ir));
    expect(inferred).toMatchObject({ macs: full.macs, params: full.params, macsComplete: true });
    // Inferred shapes agree with the builder's.
    const shapes = new Map(withInferredShapes(bare(ir)).values.map((v) => [v.name, v.shape]));
    for (const v of ir.values) expect([v.name, shapes.get(v.name)]).toEqual([v.name, v.shape]);
  });

  it('auto_pad SAME_UPPER, attribute-less defaults, and an unknown op (lower bound)', () => {
    const w = { name: 'w', dtype: 'float32' as const, shape: [8, 3, 3, 3], data: new Float32Array(216) };
    const w2 = { name: 'w2', dtype: 'float32' as const, shape: [4, 8, 1, 1], data: new Float32Array(32) };
    const node = (op: string, inputs: string[], outputs: string[], attrs: NodeIR['attrs'] = {}): NodeIR => ({ op, name: outputs[0]!, inputs, outputs, attrs });
    const ir: GraphIR = {
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 15, 15] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: ['N', 4, 8, 8] }],
      nodes: [
        node('Conv', ['x', 'w'], ['y'], { auto_pad: { kind: 'string', value: 'SAME_UPPER' }, strides: { kind: 'ints', value: [2, 2] } }),
        node('Mystery', ['y'], ['m']),
        node('Conv', ['m', 'w2'], ['c']),
        node('Relu', ['c'], ['z']),
      ],
      initializers: [w, w2],
      values: [],
      minOpset: 13,
    };
    const shapes = new Map(withInferredShapes(ir).values.map((v) => [v.name, v.shape]));
    expect(shapes.get('y')).toEqual(['N', 8, 8, 8]); // ceil(15 / 2)
    expect(shapes.has('m')).toBe(false);
    const s = fileStats(ir);
    expect(s.macsComplete).toBe(false); // the second Conv's shapes are unknown: a lower bound
    expect(s.macs).toBe(8 * 8 * 8 * 27);
  });
});
