/**
 * TensorFlow "SAME" padding, checked against an implementation effnet did not write: every Conv
 * of every tf-efficientnet variant, at its own resolution and at odd ones, is rebuilt as a small
 * single-channel Conv with effnet's explicit (possibly asymmetric) pads and compared in
 * onnxruntime with the same Conv using ONNX `auto_pad = SAME_UPPER` — defined by ONNX as
 * output = ceil(input / stride) with the odd pixel of padding at the end, i.e. TF "SAME".
 */
import { describe, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import { conv, Graph, type AttrValue, type GraphIR } from '@effnet/graph-builder';
import { buildModel, VARIANTS } from '@effnet/efficientnet';
import { serializeModel } from '@effnet/onnx-export';

interface ConvCase {
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly s: number;
  readonly pads: readonly number[];
  readonly where: string;
}

/** Every distinct (input size, kernel, stride) of the Convs in a built model, with effnet's pads. */
function convCases(id: string, resolution: number): ConvCase[] {
  const ir = buildModel(id, { resolution, batch: 1 }).ir;
  const shapes = new Map(ir.values.map((v) => [v.name, v.shape]));
  for (const i of ir.inputs) shapes.set(i.name, i.shape);
  const out = new Map<string, ConvCase>();
  for (const n of ir.nodes) {
    if (n.op !== 'Conv') continue;
    const ints = (a: AttrValue | undefined) => (a?.kind === 'ints' ? a.value : []);
    const [, , h, w] = shapes.get(n.inputs[0]!)! as number[];
    const [k] = ints(n.attrs.kernel_shape);
    const [s] = ints(n.attrs.strides);
    const c: ConvCase = { h: h!, w: w!, k: k!, s: s!, pads: ints(n.attrs.pads), where: `${id}@${resolution} ${n.name}` };
    out.set(`${c.h}x${c.w} k${c.k} s${c.s}`, c);
  }
  return [...out.values()];
}

/** One graph, two outputs: the conv with effnet's pads and the conv with auto_pad SAME_UPPER. */
function pairModel(c: ConvCase): Uint8Array {
  const g = new Graph('same');
  const x = g.input('x', 'float32', [1, 1, c.h, c.w]);
  const wt = g.initializer(
    'w',
    'float32',
    [1, 1, c.k, c.k],
    Float32Array.from({ length: c.k * c.k }, (_, i) => 1 + i / 7),
  );
  g.output(conv(x, wt, { strides: [c.s, c.s], pads: [...c.pads], label: 'explicit' }), 'explicit');
  // The same conv again; its pads are swapped for auto_pad below (same output shape either way).
  g.output(conv(x, wt, { strides: [c.s, c.s], pads: [...c.pads], label: 'auto' }), 'auto');
  const ir = g.build();
  const nodes = ir.nodes.map((n) => {
    if (n.name !== 'auto') return n;
    const { pads: _p, ...attrs } = n.attrs;
    return { ...n, attrs: { ...attrs, auto_pad: { kind: 'string', value: 'SAME_UPPER' } as AttrValue } };
  });
  return serializeModel({ ...ir, nodes } as GraphIR);
}

const RESOLUTIONS = (v: string): number[] => [VARIANTS[v as keyof typeof VARIANTS].resolution, 97, 225, 301, 333];

describe('TF SAME padding equals ONNX auto_pad=SAME_UPPER for every conv of every tf-efficientnet variant', () => {
  const cases = new Map<string, ConvCase>();
  for (const v of Object.keys(VARIANTS)) for (const r of RESOLUTIONS(v)) for (const c of convCases(`tf-efficientnet-${v}`, r)) cases.set(`${c.h}x${c.w} k${c.k} s${c.s}`, c);

  it(`${cases.size} distinct (size, kernel, stride) convs, asymmetric ones included`, async () => {
    const asymmetric = [...cases.values()].filter((c) => c.pads[0] !== c.pads[2]);
    expect(asymmetric.length).toBeGreaterThan(10);
    for (const c of cases.values()) {
      const s = await openSession(pairModel(c));
      try {
        const x = Float32Array.from({ length: c.h * c.w }, (_, i) => Math.sin(i * 0.37) + (i % 5));
        const out = await s.run({ x: tensor('float32', x, [1, 1, c.h, c.w]) });
        const a = out.explicit!;
        const b = out.auto!;
        expect(a.dims, c.where).toEqual(b.dims);
        expect(a.dims.slice(2), c.where).toEqual([Math.ceil(c.h / c.s), Math.ceil(c.w / c.s)]);
        const da = a.data as Float32Array;
        const db = b.data as Float32Array;
        let diff = 0;
        for (let i = 0; i < da.length; i++) diff = Math.max(diff, Math.abs(da[i]! - db[i]!));
        expect(diff, `${c.where}: ${c.h}x${c.w} k${c.k} s${c.s} pads [${c.pads.join(',')}]`).toBeLessThan(1e-5);
      } finally {
        await s.release();
      }
    }
  });
});
