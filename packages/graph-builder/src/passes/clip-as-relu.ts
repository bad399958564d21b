import { GraphEditor } from '../editor.js';
import { materialize, type GraphIR } from '../ir.js';
import { relu, sub } from '../ops.js';

/**
 * Clip(x, 0, M) with constant bounds (ReLU6) as Relu(x) − Relu(x − M), for runtimes that read only
 * the opset-6 Clip with min/max attributes (OpenCV 4.6 DNN: "node_proto.input_size() is 3 must be
 * equal to 1"; it rejects Min with a constant as well). The bound M is read from the Clip's own
 * constant, never assumed. Exact for x ≤ 2M (Sterbenz: x − M is exact there, so is the difference),
 * within half an ulp of x above. Other Clips (non-zero min, computed bounds) are kept.
 */
export function clipAsRelu(ir: GraphIR): GraphIR {
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const scalar = (name: string | undefined) => {
    const t = name ? inits.get(name) : undefined;
    if (!t || t.shape.length !== 0 || (t.dtype !== 'float32' && t.dtype !== 'float16')) return undefined;
    return { t, v: t.dtype === 'float32' ? (materialize(t.data) as Float32Array)[0]! : undefined };
  };
  const ed = new GraphEditor(ir);
  for (const n of ir.nodes) {
    const lo = scalar(n.inputs[1]);
    const hi = scalar(n.inputs[2]);
    if (n.op !== 'Clip' || !lo || !hi || lo.v !== 0 || hi.v === undefined || !ed.has(n.inputs[0]!)) {
      ed.keep(n);
      continue;
    }
    ed.remove(n);
    const x = ed.value(n.inputs[0]!);
    const over = relu(sub(x, ed.value(hi.t.name), { label: `${n.name}.minus_max` }), { label: `${n.name}.over` });
    sub(relu(x, { label: `${n.name}.relu` }), over, { label: n.name, output: n.outputs[0] });
  }
  return ed.build();
}
