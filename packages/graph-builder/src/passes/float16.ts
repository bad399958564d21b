import { GraphEditor } from '../editor.js';
import { DTYPES } from '../dtype.js';
import { toFloat16Array } from '../half.js';
import type { GraphIR, InitializerIR, ValueInfo } from '../ir.js';
import { checkGraphIR, materialize } from '../ir.js';
import { cast } from '../ops.js';

export interface Float16Options {
  /** Keep float32 graph inputs/outputs, with Cast nodes at the boundary (default true). */
  readonly keepIoFloat32?: boolean;
}

/**
 * Converts every float32 initializer and value to float16 (weights and compute). Every node is
 * re-checked by its op's definition with the new types; boundary Casts are built by `cast`.
 */
export function toFloat16(ir: GraphIR, o: Float16Options = {}): GraphIR {
  checkGraphIR(ir, 'toFloat16');
  const keepIo = o.keepIoFloat32 ?? true;
  const half = (v: ValueInfo): ValueInfo => (v.dtype === 'float32' ? { ...v, dtype: 'float16' } : v);
  const initializers: InitializerIR[] = ir.initializers.map((i) => (i.dtype === 'float32' ? { ...i, dtype: 'float16', data: () => toFloat16Array(materialize(i.data) as Float32Array) } : i));
  // The source as the editor sees it: every value float16, graph inputs float32 when kept.
  const retyped: GraphIR = { ...ir, inputs: keepIo ? ir.inputs : ir.inputs.map(half), outputs: ir.outputs.map(half), values: ir.values.map(half), initializers };
  const ed = new GraphEditor(retyped);
  if (keepIo) {
    for (const i of ir.inputs.filter((v) => v.dtype === 'float32')) ed.replaceUses(i.name, cast(ed.value(i.name), 'float16', { label: `${i.name}.cast_fp16`, output: `${i.name}.fp16` }));
  }
  const outRename = new Map<string, string>();
  if (keepIo) for (const out of ir.outputs.filter((v) => v.dtype === 'float32')) outRename.set(out.name, `${out.name}.fp16`);
  for (const n of ir.nodes) {
    const toF32 = n.op === 'Cast' && n.attrs.to?.kind === 'int' && n.attrs.to.value === DTYPES.float32.onnx;
    const renamed = n.outputs.some((x) => outRename.has(x));
    if (!toF32 && !renamed) ed.keep(n);
    else
      ed.keep(n, {
        outputs: n.outputs.map((x) => outRename.get(x) ?? x),
        ...(toF32 ? { attrs: { ...n.attrs, to: { kind: 'int', value: DTYPES.float16.onnx } } } : {}),
      });
  }
  for (const [name, fp16] of outRename) cast(ed.value(fp16), 'float32', { label: `${name}.cast_fp32`, output: name });
  return ed.build();
}
