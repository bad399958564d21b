import { GraphEditor } from '../editor.js';
import type { GraphIR, NodeIR } from '../ir.js';
import { checkGraphIR, materialize } from '../ir.js';

/**
 * Folds every BatchNormalization that directly follows a Conv (whose output feeds nothing else)
 * into that Conv's weight and bias: w' = w·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε) + β, computed in
 * float64 and rounded once. New weights are produced lazily, so big models still stream. The
 * folded Conv takes the BatchNormalization's place and output, re-checked by its definition.
 */
export function foldBatchNorm(ir: GraphIR): GraphIR {
  checkGraphIR(ir, 'foldBatchNorm');
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const consumers = new Map<string, number>();
  for (const n of ir.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of ir.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
  const producer = new Map<string, NodeIR>();
  for (const n of ir.nodes) for (const o of n.outputs) producer.set(o, n);

  /** BatchNormalization → the Conv it folds into. */
  const folds = new Map<NodeIR, NodeIR>();
  const folded = new Set<NodeIR>();
  for (const bn of ir.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const conv = producer.get(bn.inputs[0]!);
    if (!conv || conv.op !== 'Conv' || consumers.get(conv.outputs[0]!) !== 1 || folded.has(conv)) continue;
    const w = inits.get(conv.inputs[1]!);
    const b = conv.inputs[2] ? inits.get(conv.inputs[2]) : undefined;
    const params = bn.inputs.slice(1).map((n) => inits.get(n));
    // Weights read by another node too cannot be rewritten for this one.
    if (!w || w.dtype !== 'float32' || consumers.get(w.name) !== 1 || (conv.inputs[2] && (!b || consumers.get(b.name) !== 1)) || params.some((p) => !p)) continue;
    folds.set(bn, conv);
    folded.add(conv);
  }
  if (folds.size === 0) return ir;

  const ed = new GraphEditor(ir);
  for (const n of ir.nodes) {
    if (folded.has(n)) continue; // re-added in its BatchNormalization's place
    const conv = folds.get(n);
    if (!conv) {
      ed.keep(n);
      continue;
    }
    const bn = n;
    const w = inits.get(conv.inputs[1]!)!;
    const b = conv.inputs[2] ? inits.get(conv.inputs[2]) : undefined;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((name) => inits.get(name)!);
    const eps = bn.attrs.epsilon?.kind === 'float' ? bn.attrs.epsilon.value : 1e-5;
    const outC = w.shape[0]!;
    const per = w.shape.slice(1).reduce((p, d) => p * d, 1);
    const factor = (): Float64Array => {
      const g = materialize(gamma!.data) as Float32Array;
      const v = materialize(variance!.data) as Float32Array;
      const f = new Float64Array(outC);
      // ORT and PyTorch compute in float32: sqrt(fl32(var + eps)); match that rounding.
      for (let c = 0; c < outC; c++) f[c] = g[c]! / Math.sqrt(Math.fround(v[c]! + Math.fround(eps)));
      return f;
    };
    const wData = w.data,
      bData = b?.data;
    ed.replaceInitializer(w.name, () => {
      const src = materialize(wData) as Float32Array;
      const f = factor();
      const out = new Float32Array(src.length);
      for (let c = 0; c < outC; c++) for (let i = c * per; i < (c + 1) * per; i++) out[i] = src[i]! * f[c]!;
      return out;
    });
    const bias = () => {
      const f = factor();
      const be = materialize(beta!.data) as Float32Array;
      const mu = materialize(mean!.data) as Float32Array;
      const b0 = bData ? (materialize(bData) as Float32Array) : undefined;
      const out = new Float32Array(outC);
      for (let c = 0; c < outC; c++) out[c] = ((b0?.[c] ?? 0) - mu[c]!) * f[c]! + be[c]!;
      return out;
    };
    let biasName: string;
    if (b) {
      ed.replaceInitializer(b.name, bias);
      biasName = b.name;
    } else {
      biasName = ed.constant(`${conv.name}.bias`, 'float32', [outC], bias).name;
    }
    ed.keep(conv, { inputs: [conv.inputs[0]!, w.name, biasName], outputs: [bn.outputs[0]!] });
  }
  return ed.build();
}
