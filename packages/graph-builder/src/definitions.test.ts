import { describe, expect, it } from 'vitest';
import { GraphEditor } from './editor.js';
import { ShapeError } from './errors.js';
import { applyOp, Graph, Tensor } from './graph.js';
import { materialize, type GraphIR } from './ir.js';
import { NameScope } from './names.js';
import { defineOp, opDefinition, opDefinitions } from './op-def.js';
import { clip, conv, dequantizeLinear, div, hardSigmoid, hardSwish, quantizeLinear, relu, reshape, slice, squeeze, sub, transpose, unsqueeze } from './ops.js';
import * as ops from './ops.js';

const zeros = (n: number) => new Float32Array(n);

describe('nodes exist only through definitions', () => {
  /** A graph file whose Relu claims int8 [1] for a float32 [N,3,8,8] input. */
  function lyingRelu(): GraphIR {
    const g = new Graph('lie');
    g.output(relu(g.input('x', 'float32', ['N', 3, 8, 8]), { label: 'r' }), 'y');
    const ir = g.build();
    return { ...ir, values: ir.values.map((v) => (v.name === 'r' ? { ...v, dtype: 'int8' as const, shape: [1] } : v)) };
  }

  it('Graph has no public way to add an unchecked node', () => {
    const g = new Graph();
    expect((g as unknown as Record<string, unknown>).addNode).toBeUndefined();
    expect(Object.getOwnPropertyNames(Graph.prototype).filter((k) => /node|apply|keep/i.test(k))).toEqual([]);
    // A hand-made Tensor claiming a type is not a value of the graph.
    const fake = new Tensor(g, 'fake', 'int8', [1]);
    expect(() => relu(fake)).toThrow("Relu: tensor 'fake' was not created by graph 'main'");
  });

  it('a Relu declared to output int8 [1] from a float32 [N,3,8,8] input is impossible', () => {
    // Redefining Relu with a looser rule is refused …
    expect(() => defineOp({ op: 'Relu', sinceOpset: 6, inputs: [{ name: 'X', type: 'T' }], types: { T: 'any' }, infer: () => [{ dtype: 'int8', shape: [1] }] })).toThrow('op Relu is already defined');
    // … applying the real definition computes the type instead of taking one …
    const g = new Graph();
    const x = g.input('x', 'float32', ['N', 3, 8, 8]);
    const [y] = applyOp(opDefinition('Relu')!, [x]);
    expect(`${y}`).toBe('Relu_1: float32[N,3,8,8]');
    // … and an IR that declares it is rejected when a pass edits it.
    const ir = lyingRelu();
    expect(() => new GraphEditor(ir).keep(ir.nodes[0]!)).toThrow("node 'r' (Relu) declares output 'r' as int8[1], its inputs give float32[N,3,8,8]");
    // A node that is not in the edited graph cannot be smuggled in.
    expect(() => new GraphEditor(ir).keep({ ...ir.nodes[0]! })).toThrow(/is not a node of graph 'lie'/);
  });

  it('every public op function has a registered definition and ops validate input types', () => {
    expect(opDefinitions().map((d) => d.op)).toEqual(
      expect.arrayContaining(['Conv', 'Sub', 'Div', 'Slice', 'Transpose', 'Unsqueeze', 'Squeeze', 'Clip', 'HardSwish', 'HardSigmoid', 'QuantizeLinear', 'DequantizeLinear']),
    );
    const g = new Graph();
    const q = g.input('q', 'int8', [2, 2]);
    expect(() => relu(q, { label: 'r' })).toThrow("Relu 'r': input must be a float tensor, got int8");
    expect(typeof ops.cast).toBe('function');
  });

  it('custom ops go through defineOp and applyOp, with their own shape rule', () => {
    const def = defineOp({
      op: 'TestDoubleLast',
      sinceOpset: 1,
      inputs: [{ name: 'input' }],
      infer: ([x]) => [{ dtype: x!.dtype, shape: [...x!.shape.slice(0, -1), (x!.shape.at(-1) as number) * 2] }],
    });
    const g = new Graph();
    const [y] = applyOp(def, [g.input('x', 'float32', [2, 3])], {}, { label: 'dbl' });
    expect(y!.shape).toEqual([2, 6]);
    expect(() => defineOp({ op: 'lower', sinceOpset: 1, inputs: [], infer: () => [] })).toThrow(/must be an ONNX op name/);
  });
});

describe('new ops', () => {
  const g = new Graph('new');
  const x = g.input('x', 'float32', ['N', 8, 4, 4]);

  it('elementwise: sub, div, clip, hardSwish, hardSigmoid keep the type and broadcast', () => {
    const c = g.initializer('c', 'float32', [8, 1, 1], zeros(8));
    expect(sub(x, c, { label: 's' }).shape).toEqual(['N', 8, 4, 4]);
    expect(div(c, x).shape).toEqual(['N', 8, 4, 4]);
    const r6 = clip(x, { min: 0, max: 6, label: 'relu6' });
    expect(r6.dtype).toBe('float32');
    expect(hardSwish(x).shape).toEqual(x.shape);
    expect(hardSigmoid(x, { alpha: 1 / 6, beta: 0.5, label: 'hs' }).shape).toEqual(x.shape);
    expect(() => sub(x, g.initializer('bad', 'float32', [3], zeros(3)), { label: 'bad' })).toThrow("Sub 'bad': cannot broadcast dimension 3: 4 vs 3 (A [N,8,4,4], B [3])");
    expect(() => clip(x, { min: 2, max: 1, label: 'c2' })).toThrow(/min 2 is greater than max 1/);
    g.output(r6, 'out');
    const ir = g.build();
    const clipNode = ir.nodes.find((n) => n.name === 'relu6')!;
    expect(clipNode.inputs).toEqual(['x', 'relu6.min', 'relu6.max']);
    expect(Array.from(materialize(ir.initializers.find((i) => i.name === 'relu6.max')!.data) as Float32Array)).toEqual([6]);
    expect(ir.initializers.find((i) => i.name === 'relu6.min')!.shape).toEqual([]);
    expect(ir.minOpset).toBe(14); // HardSwish
    expect(ir.nodes.find((n) => n.name === 'hs')!.attrs).toEqual({ alpha: { kind: 'float', value: 1 / 6 }, beta: { kind: 'float', value: 0.5 } });
  });

  it('shape ops: transpose, slice, unsqueeze, squeeze, reshape by a constant tensor', () => {
    const h = new Graph();
    const y = h.input('y', 'float32', ['N', 8, 4, 4]);
    expect(transpose(y, { perm: [0, 2, 3, 1] }).shape).toEqual(['N', 4, 4, 8]);
    expect(slice(y, [1], [3], { axes: [-1], label: 'crop' }).shape).toEqual(['N', 8, 4, 2]);
    const v = h.initializer('v', 'float32', [8], zeros(8));
    expect(unsqueeze(v, [0, 2, 3], { label: 'v4' }).shape).toEqual([1, 8, 1, 1]);
    expect(squeeze(unsqueeze(v, [0]), { axes: [0] }).shape).toEqual([8]);
    const target = h.initializer('t', 'int64', [2], BigInt64Array.of(0n, -1n));
    expect(reshape(y, target).shape).toEqual(['N', 128]);
    const lazy = h.initializer('lazy', 'int64', [2], () => BigInt64Array.of(0n, -1n));
    expect(reshape(y, lazy).shape).toEqual(['N', 128]); // small thunks are read for shape inference
    expect(() => transpose(y, { perm: [0, 1], label: 'tp' })).toThrow("Transpose 'tp': perm [0,1] is not a permutation of the 4 axes (input [N,8,4,4])");
    expect(() => squeeze(y, { axes: [1], label: 'sq' })).toThrow(/axis 1 has size 8, not 1/);
    h.output(slice(y, [0], [1], { axes: [1], label: 'first' }));
    const ir = h.build();
    expect(ir.initializers.filter((i) => i.name.startsWith('crop.')).map((i) => i.name)).toEqual(['crop.starts', 'crop.ends', 'crop.axes']);
    expect(ir.minOpset).toBe(13); // Unsqueeze/Squeeze with axes inputs
  });

  it('QuantizeLinear / DequantizeLinear: per tensor (opset 10) and per channel (opset 13)', () => {
    const h = new Graph('qdq');
    const a = h.input('a', 'float32', ['N', 8, 4, 4]);
    const s = h.initializer('s', 'float32', [], Float32Array.of(0.1));
    const z = h.initializer('z', 'int8', [], Int8Array.of(0));
    const q = quantizeLinear(a, s, z, { label: 'a.q' });
    expect(`${q}`).toBe('a.q: int8[N,8,4,4]');
    const u = quantizeLinear(a, s, undefined);
    expect(u.dtype).toBe('uint8');
    const d = dequantizeLinear(q, s, z, { label: 'a.dq' });
    expect(`${d}`).toBe('a.dq: float32[N,8,4,4]');
    h.output(d, 'out');
    expect(h.build().minOpset).toBe(10);

    const w = h.initializer('w', 'int8', [16, 8, 3, 3], new Int8Array(16 * 72));
    const ws = h.initializer('ws', 'float32', [16], zeros(16));
    const wz = h.initializer('wz', 'int8', [16], new Int8Array(16));
    const wd = dequantizeLinear(w, ws, wz, { axis: 0, label: 'w.dq' });
    expect(`${wd}`).toBe('w.dq: float32[16,8,3,3]');
    h.output(conv(d, wd, { pads: [1, 1, 1, 1] }), 'y');
    expect(h.build().minOpset).toBe(13);
    expect(() => dequantizeLinear(w, ws, wz, { label: 'bad' })).toThrow(/DequantizeLinear 'bad': per-channel scale \[16\] must match input dimension 1 \(8\)/);
    expect(() => quantizeLinear(a, s, h.initializer('z16', 'int32', [], Int32Array.of(0)), { label: 'qz' })).toThrow("QuantizeLinear 'qz': zero_point must be an int8 or uint8 tensor, got int32");
    expect(() => dequantizeLinear(a, s, undefined, { label: 'dqf' })).toThrow(/DequantizeLinear 'dqf': input must be .*int8.*int32.*got float32/);
    // int32 bias (scale input_scale·weight_scale), zero point omitted or int32, per channel along axis 0.
    const b = h.initializer('b', 'int32', [16], new Int32Array(16));
    expect(`${dequantizeLinear(b, ws, undefined, { axis: 0, label: 'b.dq' })}`).toBe('b.dq: float32[16]');
    expect(`${dequantizeLinear(b, ws, h.initializer('bz', 'int32', [16], new Int32Array(16)), { axis: 0, label: 'b.dq2' })}`).toBe('b.dq2: float32[16]');
    expect(() => dequantizeLinear(b, ws, wz, { axis: 0, label: 'bmix' })).toThrow(/DequantizeLinear 'bmix'/);
  });
});

describe('NameScope: the one naming authority', () => {
  it('fresh names are base, base_2, …; claims are exact; reserved names are avoided by fresh, claimable once', () => {
    const n = new NameScope('tensor name');
    expect([n.fresh('a'), n.fresh('a'), n.fresh('a')]).toEqual(['a', 'a_2', 'a_3']);
    expect(() => n.claim('a')).toThrow("tensor name 'a' is already used");
    n.reserve(['b']);
    expect(n.fresh('b')).toBe('b_2');
    expect(n.claim('b')).toBe('b');
    expect(() => n.claim('b')).toThrow(/already used/);
    expect(() => n.claim('1x')).toThrow("invalid tensor name '1x'");
  });

  it('op outputs, constants and node names all come from it', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    const a = relu(x, { label: 'act' });
    const b = relu(x, { label: 'act' });
    const c = reshape(a, [6], { label: 'act' });
    expect([a.name, b.name, c.name]).toEqual(['act', 'act_2', 'act_3']);
    g.output(c);
    expect(g.build().initializers.map((i) => i.name)).toEqual(['act.shape']);
    expect(() => relu(x, { output: 'x' })).toThrow("tensor name 'x' is already used in graph 'main'");
  });
});

describe('GraphEditor', () => {
  function small(): GraphIR {
    const g = new Graph('small');
    const x = g.input('x', 'float32', [1, 4, 6, 6]);
    const y = conv(x, g.initializer('w', 'float32', [4, 4, 1, 1], zeros(16)), { label: 'c' });
    g.output(relu(y, { label: 'r' }), 'out');
    return g.build();
  }

  it('replaceUses redirects later nodes; new nodes are shape-checked; unused initializers are dropped', () => {
    const ir = small();
    const ed = new GraphEditor(ir);
    const [c, r, id] = ir.nodes;
    ed.keep(c!);
    const shifted = sub(ed.value('c'), ed.value('c'), { label: 'c' }); // name taken by the source: gets a fresh one
    expect(shifted.name).toBe('c_2');
    ed.replaceUses('c', shifted);
    ed.keep(r!);
    ed.keep(id!);
    const out = ed.build();
    expect(out.nodes.map((n) => `${n.op}:${n.inputs.join(',')}`)).toEqual(['Conv:x,w', 'Sub:c,c', 'Relu:c_2', 'Identity:r']);
    expect(out.values.map((v) => v.name)).toEqual(['c', 'r', 'c_2']); // the source's values first, new ones after
  });

  it('a changed node is re-checked by its definition', () => {
    const ir = small();
    const ed = new GraphEditor(ir);
    expect(() => ed.keep(ir.nodes[0]!, { attrs: { ...ir.nodes[0]!.attrs, strides: { kind: 'ints', value: [2, 2] } } })).toThrow(
      "node 'c' (Conv) declares output 'c' as float32[1,4,6,6], its inputs give float32[1,4,3,3]",
    );
    const ed2 = new GraphEditor(ir);
    expect(() => ed2.keep(ir.nodes[1]!)).toThrow("node 'r' (Relu): input 'c' is not produced before it");
  });

  it('keeps nodes of ops it has no definition for only unchanged', () => {
    const ir = small();
    const custom: GraphIR = { ...ir, nodes: ir.nodes.map((n) => (n.op === 'Relu' ? { ...n, op: 'Gelu' } : n)) };
    const ed = new GraphEditor(custom);
    ed.keep(custom.nodes[0]!);
    expect(() => ed.keep(custom.nodes[1]!, { outputs: ['g'] })).toThrow(/cannot change a Gelu node: graph-builder has no definition of that op/);
    ed.keep(custom.nodes[1]!);
    ed.keep(custom.nodes[2]!);
    expect(ed.build().nodes.map((n) => n.op)).toEqual(['Conv', 'Gelu', 'Identity']);
  });

  it('is deterministic: the same edit gives the same names', () => {
    const run = () => {
      const ir = small();
      const ed = new GraphEditor(ir);
      ed.keep(ir.nodes[0]!);
      ed.replaceUses('c', clip(ed.value('c'), { min: 0, max: 6, label: 'c.clip' }));
      ed.keep(ir.nodes[1]!);
      ed.keep(ir.nodes[2]!);
      const out = ed.build();
      return [...out.nodes.map((n) => n.name), ...out.initializers.map((i) => i.name)];
    };
    expect(run()).toEqual(run());
    expect(run()).toEqual(['c', 'c.clip', 'r', 'out', 'w', 'c.clip.min', 'c.clip.max']);
  });

  it('errors are ShapeErrors', () => {
    const ir = small();
    expect(() => new GraphEditor(ir).value('nope')).toThrow(ShapeError);
  });
});
