import { toFloat16Array } from '../half.js';
import type { AttrValue, GraphIR, InitializerIR, NodeIR, Shape, ValueInfo } from '../ir.js';
import { materialize } from '../ir.js';
import { shapeTable } from '../stats.js';

/** Lowest finite values: the padding for MaxPool, which never wins the max. */
const LOWEST = { float32: -3.4028234663852886e38, float16: -65504 } as const;

/**
 * Rewrites padding into the forms every runtime reads (OpenCV DNN, TFLite/CoreML converters,
 * older TensorRT rejects some of these):
 *  - Pad with negative amounts (a crop, e.g. AmoebaNet's shifted path) → Slice, then Pad by the
 *    positive remainder;
 *  - Conv and MaxPool with asymmetric pads (TensorFlow "SAME") → an explicit Pad by the excess
 *    (zeros for Conv, the lowest float for MaxPool), the op keeping the symmetric part;
 *  - AveragePool with asymmetric pads when count_include_pad = 1 likewise. With
 *    count_include_pad = 0 (the default) the padded cells must stay out of the average, which an
 *    explicit Pad cannot express; such pools are left as they are.
 * Results are identical up to float rounding; values keep their names, new ones get `<node>.*`.
 */
export function explicitPads(ir: GraphIR): GraphIR {
  const shapes = shapeTable(ir);
  const dtypes = new Map<string, ValueInfo['dtype']>([...ir.inputs, ...ir.values, ...ir.outputs].map((v) => [v.name, v.dtype]));
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const used = new Set([...shapes.keys(), ...ir.nodes.flatMap((n) => [n.name, ...n.outputs])]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const newInits: InitializerIR[] = [];
  const newValues: ValueInfo[] = [];
  const int64 = (base: string, values: readonly number[]): string => {
    const name = fresh(base);
    newInits.push({ name, dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const value = (name: string, dtype: ValueInfo['dtype'], shape: Shape): void => {
    newValues.push({ name, dtype, shape });
    shapes.set(name, shape);
  };
  let changed = false;
  const nodes: NodeIR[] = [];
  /** One shared fill-value initializer per dtype. */
  const lowestValue = new Map<string, string>();

  /** A Pad node by non-negative `pads` ([begins..., ends...] over all axes) with an optional constant. */
  const padNode = (base: string, x: string, pads: readonly number[], lowest: boolean): string => {
    const shape = shapes.get(x)!;
    const dtype = dtypes.get(x)!;
    const out = fresh(`${base}.pad`);
    const inputs = [x, int64(`${base}.pad.pads`, pads)];
    if (lowest) {
      if (dtype !== 'float32' && dtype !== 'float16') throw new Error(`explicitPads: MaxPool '${base}': cannot pad a ${dtype} input '${x}'`);
      let name = lowestValue.get(dtype);
      if (!name) {
        name = fresh(`max_pool_pad_value.${dtype}`);
        const v = Float32Array.of(LOWEST[dtype]);
        newInits.push({ name, dtype, shape: [], data: dtype === 'float32' ? v : toFloat16Array(v) });
        lowestValue.set(dtype, name);
      }
      inputs.push(name);
    }
    const r = shape.length;
    value(out, dtype, shape.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + r]! : d)));
    nodes.push({ op: 'Pad', name: out, inputs, outputs: [out], attrs: { mode: { kind: 'string', value: 'constant' } } });
    return out;
  };

  for (const n of ir.nodes) {
    if (n.op === 'Pad' && inits.has(n.inputs[1] ?? '') && (n.attrs.mode?.kind !== 'string' || n.attrs.mode.value === 'constant')) {
      const pads = Array.from(materialize(inits.get(n.inputs[1]!)!.data) as BigInt64Array, Number);
      const x = n.inputs[0]!;
      const shape = shapes.get(x);
      if (!pads.some((p) => p < 0) || !shape || n.inputs.length > 3) {
        nodes.push(n);
        continue;
      }
      changed = true;
      const r = shape.length;
      const axes: number[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      for (let a = 0; a < r; a++) {
        const b = pads[a]!, e = pads[a + r]!;
        if (b >= 0 && e >= 0) continue;
        const d = shape[a];
        if (typeof d !== 'number') throw new Error(`explicitPads: Pad '${n.name}' crops axis ${a} of '${x}', whose size is symbolic`);
        axes.push(a);
        starts.push(Math.max(0, -b));
        ends.push(d - Math.max(0, -e));
      }
      const cropped = fresh(`${n.name}.crop`);
      value(cropped, dtypes.get(x)!, shape.map((d, a) => (axes.includes(a) ? ends[axes.indexOf(a)]! - starts[axes.indexOf(a)]! : d)));
      nodes.push({
        op: 'Slice',
        name: cropped,
        inputs: [x, int64(`${n.name}.crop.starts`, starts), int64(`${n.name}.crop.ends`, ends), int64(`${n.name}.crop.axes`, axes)],
        outputs: [cropped],
        attrs: {},
      });
      const rest = pads.map((p) => Math.max(0, p));
      if (rest.some((p) => p > 0)) nodes.push({ ...n, inputs: [cropped, int64(`${n.name}.pads`, rest), ...n.inputs.slice(2)] });
      else nodes.push({ op: 'Identity', name: n.name, inputs: [cropped], outputs: [...n.outputs], attrs: {} });
      continue;
    }
    const movable =
      n.op === 'Conv' || n.op === 'MaxPool' || (n.op === 'AveragePool' && n.attrs.count_include_pad?.kind === 'int' && n.attrs.count_include_pad.value === 1);
    const attrPads = n.attrs.pads?.kind === 'ints' ? n.attrs.pads.value : undefined;
    const autoPad = n.attrs.auto_pad?.kind === 'string' ? n.attrs.auto_pad.value : 'NOTSET';
    if (movable && attrPads && autoPad === 'NOTSET') {
      const k = attrPads.length / 2;
      const begin = attrPads.slice(0, k), end = attrPads.slice(k);
      if (begin.some((b, i) => b !== end[i]) && shapes.has(n.inputs[0]!)) {
        changed = true;
        const keep = begin.map((b, i) => Math.min(b, end[i]!));
        const extra = [0, 0, ...begin.map((b, i) => b - keep[i]!), 0, 0, ...end.map((e, i) => e - keep[i]!)];
        const padded = padNode(n.name, n.inputs[0]!, extra, n.op === 'MaxPool');
        const attrs: Record<string, AttrValue> = { ...n.attrs, pads: { kind: 'ints', value: [...keep, ...keep] } };
        nodes.push({ ...n, inputs: [padded, ...n.inputs.slice(1)], attrs });
        continue;
      }
    }
    nodes.push(n);
  }
  if (!changed) return ir;
  // The pads of rewritten Pad nodes may now be unused.
  const inputs = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...ir.initializers.filter((i) => i.dtype !== 'int64' || inputs.has(i.name)), ...newInits];
  // Pad (opset 11: pads as an input) and Slice (opset 10: starts/ends/axes as inputs).
  return { ...ir, nodes, initializers, values: [...ir.values, ...newValues], minOpset: Math.max(ir.minOpset, 11) };
}
