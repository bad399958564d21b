import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.js';
import { materialize, type GraphIR, type NodeIR } from '../ir.js';
import { averagePool, concat, conv, maxPool, pad } from '../ops.js';
import { graphStats } from '../stats.js';
import { toFloat16 } from './float16.js';
import { explicitPads } from './explicit-pads.js';

function graph(): GraphIR {
  const g = new Graph('pads');
  const x = g.input('input', 'float32', ['N', 4, 9, 8]);
  const w = g.initializer('w', 'float32', [4, 4, 3, 3], new Float32Array(144).fill(0.1));
  const c = conv(x, w, { strides: [2, 2], pads: [1, 0, 1, 1], label: 'conv' }); // [N,4,5,4]
  const shifted = pad(x, [0, 0, -1, -1, 0, 0, 1, 1], { label: 'shift' }); // [N,4,9,8]
  const m = maxPool(shifted, { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 0], label: 'max' }); // [N,4,5,3]
  const a = averagePool(x, { kernel: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], label: 'avg' }); // asymmetric, count_include_pad 0
  g.output(concat([c, a], 1, { label: 'cat' }), 'y');
  g.output(m, 'z');
  return g.build();
}

const ints = (n: NodeIR, k: string) => (n.attrs[k]?.kind === 'ints' ? n.attrs[k].value : undefined);
const initValues = (ir: GraphIR, name: string) => Array.from(materialize(ir.initializers.find((i) => i.name === name)!.data) as BigInt64Array, Number);

describe('explicitPads', () => {
  const ir = graph();
  const out = explicitPads(ir);
  const byName = new Map(out.nodes.map((n) => [n.name, n]));

  it('turns a negative Pad into Slice (crop) + Pad by the positive remainder', () => {
    const shift = byName.get('shift')!;
    expect(shift.op).toBe('Pad');
    const crop = out.nodes.find((n) => n.op === 'Slice')!;
    expect(crop.inputs[0]).toBe('input');
    expect(shift.inputs[0]).toBe(crop.outputs[0]);
    expect(initValues(out, crop.inputs[1]!)).toEqual([1, 1]); // starts
    expect(initValues(out, crop.inputs[2]!)).toEqual([9, 8]); // ends
    expect(initValues(out, crop.inputs[3]!)).toEqual([2, 3]); // axes
    expect(initValues(out, shift.inputs[1]!)).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);
    expect(out.values.find((v) => v.name === crop.outputs[0])!.shape).toEqual(['N', 4, 8, 7]);
    // The old pads initializer is gone: nothing else used it.
    expect(out.initializers.some((i) => i.name === 'shift.pads')).toBe(false);
  });

  it('moves the asymmetric excess of Conv and MaxPool pads into a Pad node', () => {
    const c = byName.get('conv')!;
    expect(ints(c, 'pads')).toEqual([1, 0, 1, 0]);
    const p = byName.get(c.inputs[0]!)!;
    expect(p.op).toBe('Pad');
    expect(initValues(out, p.inputs[1]!)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(out.values.find((v) => v.name === p.outputs[0])!.shape).toEqual(['N', 4, 9, 9]);
    expect(p.inputs).toHaveLength(2); // zeros

    const m = byName.get('max')!;
    expect(ints(m, 'pads')).toEqual([0, 0, 0, 0]);
    const mp = byName.get(m.inputs[0]!)!;
    expect(initValues(out, mp.inputs[1]!)).toEqual([0, 0, 0, 0, 0, 0, 1, 0]);
    const fill = materialize(out.initializers.find((i) => i.name === mp.inputs[2])!.data) as Float32Array;
    expect(fill[0]).toBe(-3.4028234663852886e38);
  });

  it('leaves AveragePool without count_include_pad alone (padding cannot be made explicit there)', () => {
    expect(byName.get('avg')).toEqual(ir.nodes.find((n) => n.name === 'avg'));
  });

  it('keeps every value name and shape of the original graph; output count and opset floor', () => {
    const shapes = new Map([...out.values, ...out.outputs].map((v) => [v.name, v.shape]));
    for (const v of [...ir.values, ...ir.outputs]) expect(shapes.get(v.name)).toEqual(v.shape);
    expect(out.outputs).toEqual(ir.outputs);
    expect(out.minOpset).toBeGreaterThanOrEqual(11);
    // Pad fill values are not parameters; MACs are unchanged.
    expect(graphStats(out).params).toBe(graphStats(ir).params);
    expect(graphStats(out).macs).toBe(graphStats(ir).macs);
    // Topological order: every input is produced before it is used.
    const known = new Set([...out.inputs.map((v) => v.name), ...out.initializers.map((i) => i.name)]);
    for (const n of out.nodes) {
      for (const i of n.inputs) if (i) expect(known.has(i), `${n.name} uses ${i}`).toBe(true);
      n.outputs.forEach((o) => known.add(o));
    }
  });

  it('is a no-op on graphs with symmetric, non-negative padding; works after toFloat16', () => {
    const g = new Graph('sym');
    const x = g.input('x', 'float32', [1, 2, 5, 5]);
    g.output(maxPool(x, { kernel: [3, 3], pads: [1, 1, 1, 1] }), 'y');
    const sym = g.build();
    expect(explicitPads(sym)).toBe(sym);
    const half = explicitPads(toFloat16(graph()));
    const m = half.nodes.find((n) => n.name === 'max')!;
    const fill = half.initializers.find((i) => i.name === half.nodes.find((n) => n.name === m.inputs[0])!.inputs[2])!;
    expect(fill.dtype).toBe('float16');
  });
});
