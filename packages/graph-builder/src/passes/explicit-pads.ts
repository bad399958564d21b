import { GraphEditor } from '../editor.js';
import type { Tensor } from '../graph.js';
import { toFloat16Array } from '../half.js';
import type { AttrValue, GraphIR } from '../ir.js';
import { materialize } from '../ir.js';
import { identity, pad, slice } from '../ops.js';

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
 * Every new node is built by the op functions, so its shapes are checked.
 */
export function explicitPads(ir: GraphIR): GraphIR {
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const ed = new GraphEditor(ir);
  let changed = false;
  /** One shared fill-value initializer per dtype. */
  const lowestValue = new Map<string, Tensor>();
  const lowest = (base: string, x: Tensor): Tensor => {
    const dtype = x.dtype;
    if (dtype !== 'float32' && dtype !== 'float16') throw new Error(`explicitPads: MaxPool '${base}': cannot pad a ${dtype} input '${x.name}'`);
    let t = lowestValue.get(dtype);
    if (!t) {
      const v = Float32Array.of(LOWEST[dtype]);
      t = ed.constant(`max_pool_pad_value.${dtype}`, dtype, [], dtype === 'float32' ? v : toFloat16Array(v));
      lowestValue.set(dtype, t);
    }
    return t;
  };

  for (const n of ir.nodes) {
    if (n.op === 'Pad' && inits.has(n.inputs[1] ?? '') && (n.attrs.mode?.kind !== 'string' || n.attrs.mode.value === 'constant')) {
      const pads = Array.from(materialize(inits.get(n.inputs[1]!)!.data) as BigInt64Array, Number);
      const xName = n.inputs[0]!;
      if (!pads.some((p) => p < 0) || !ed.has(xName) || n.inputs.length > 3) {
        ed.keep(n);
        continue;
      }
      changed = true;
      const x = ed.value(xName);
      const r = x.rank;
      const axes: number[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      for (let a = 0; a < r; a++) {
        const b = pads[a]!,
          e = pads[a + r]!;
        if (b >= 0 && e >= 0) continue;
        const d = x.shape[a];
        if (typeof d !== 'number') throw new Error(`explicitPads: Pad '${n.name}' crops axis ${a} of '${xName}', whose size is symbolic`);
        axes.push(a);
        starts.push(Math.max(0, -b));
        ends.push(d - Math.max(0, -e));
      }
      const cropped = slice(x, starts, ends, { axes, label: `${n.name}.crop` });
      const rest = pads.map((p) => Math.max(0, p));
      if (rest.some((p) => p > 0)) {
        const restPads = ed.constant(`${n.name}.pads`, 'int64', [rest.length], BigInt64Array.from(rest.map(BigInt)));
        ed.keep(n, { inputs: [cropped.name, restPads.name, ...n.inputs.slice(2)] });
      } else {
        ed.remove(n);
        identity(cropped, { label: n.name, output: n.outputs[0] });
      }
      continue;
    }
    const movable = n.op === 'Conv' || n.op === 'MaxPool' || (n.op === 'AveragePool' && n.attrs.count_include_pad?.kind === 'int' && n.attrs.count_include_pad.value === 1);
    const attrPads = n.attrs.pads?.kind === 'ints' ? n.attrs.pads.value : undefined;
    const autoPad = n.attrs.auto_pad?.kind === 'string' ? n.attrs.auto_pad.value : 'NOTSET';
    if (movable && attrPads && autoPad === 'NOTSET') {
      const k = attrPads.length / 2;
      const begin = attrPads.slice(0, k),
        end = attrPads.slice(k);
      if (begin.some((b, i) => b !== end[i]) && ed.has(n.inputs[0]!)) {
        changed = true;
        const x = ed.value(n.inputs[0]!);
        const keep = begin.map((b, i) => Math.min(b, end[i]!));
        const extra = [0, 0, ...begin.map((b, i) => b - keep[i]!), 0, 0, ...end.map((e, i) => e - keep[i]!)];
        const padded = pad(x, extra, { label: `${n.name}.pad`, ...(n.op === 'MaxPool' ? { value: lowest(n.name, x) } : {}) });
        const attrs: Record<string, AttrValue> = { ...n.attrs, pads: { kind: 'ints', value: [...keep, ...keep] } };
        ed.keep(n, { inputs: [padded.name, ...n.inputs.slice(1)], attrs });
        continue;
      }
    }
    ed.keep(n);
  }
  return changed ? ed.build() : ir;
}
