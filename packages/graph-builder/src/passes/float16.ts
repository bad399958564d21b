import { DTYPES } from '../dtype.js';
import { toFloat16Array } from '../half.js';
import type { GraphIR, InitializerIR, NodeIR, ValueInfo } from '../ir.js';
import { materialize } from '../ir.js';

export interface Float16Options {
  /** Keep float32 graph inputs/outputs, with Cast nodes at the boundary (default true). */
  readonly keepIoFloat32?: boolean;
}

/** Converts every float32 initializer and value to float16 (weights and compute). */
export function toFloat16(ir: GraphIR, o: Float16Options = {}): GraphIR {
  const keepIo = o.keepIoFloat32 ?? true;
  const half = (v: ValueInfo): ValueInfo => (v.dtype === 'float32' ? { ...v, dtype: 'float16' } : v);
  const initializers: InitializerIR[] = ir.initializers.map((i) =>
    i.dtype === 'float32' ? { ...i, dtype: 'float16', data: () => toFloat16Array(materialize(i.data) as Float32Array) } : i,
  );
  const castTo = (to: 'float16' | 'float32'): NodeIR['attrs'] => ({ to: { kind: 'int', value: DTYPES[to].onnx } });
  const prologue: NodeIR[] = [];
  const epilogue: NodeIR[] = [];
  const rename = new Map<string, string>();
  const extraValues: ValueInfo[] = [];
  if (keepIo) {
    for (const i of ir.inputs.filter((v) => v.dtype === 'float32')) {
      const name = `${i.name}.fp16`;
      rename.set(i.name, name);
      prologue.push({ op: 'Cast', name: `${i.name}.cast_fp16`, inputs: [i.name], outputs: [name], attrs: castTo('float16') });
      extraValues.push({ ...i, name, dtype: 'float16' });
    }
  }
  const outRename = new Map<string, string>();
  if (keepIo) {
    for (const out of ir.outputs.filter((v) => v.dtype === 'float32')) {
      const name = `${out.name}.fp16`;
      outRename.set(out.name, name);
      epilogue.push({ op: 'Cast', name: `${out.name}.cast_fp32`, inputs: [name], outputs: [out.name], attrs: castTo('float32') });
      extraValues.push({ ...out, name, dtype: 'float16' });
    }
  }
  const nodes = ir.nodes.map((n) => {
    const attrs = n.op === 'Cast' && n.attrs.to?.kind === 'int' && n.attrs.to.value === DTYPES.float32.onnx ? castTo('float16') : n.attrs;
    return {
      ...n,
      attrs,
      inputs: n.inputs.map((x) => rename.get(x) ?? x),
      outputs: n.outputs.map((x) => outRename.get(x) ?? x),
    };
  });
  return {
    ...ir,
    inputs: keepIo ? ir.inputs : ir.inputs.map(half),
    outputs: keepIo ? ir.outputs : ir.outputs.map(half),
    initializers,
    nodes: [...prologue, ...nodes, ...epilogue],
    values: [...ir.values.map(half), ...extraValues],
  };
}
