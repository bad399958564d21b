import type { GraphIR, InitializerIR, NodeIR } from '../ir.js';
import { materialize } from '../ir.js';

/**
 * Folds every BatchNormalization that directly follows a Conv (whose output feeds nothing else)
 * into that Conv's weight and bias: w' = w·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε) + β, computed in
 * float64 and rounded once. New weights are produced lazily, so big models still stream.
 */
export function foldBatchNorm(ir: GraphIR): GraphIR {
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const consumers = new Map<string, number>();
  for (const n of ir.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of ir.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
  const producer = new Map<string, NodeIR>();
  for (const n of ir.nodes) for (const o of n.outputs) producer.set(o, n);

  const replaced = new Map<NodeIR, NodeIR>();
  const dropped = new Set<NodeIR>();
  const newInits = new Map<string, InitializerIR>();
  const usedNames = new Set([...inits.keys(), ...ir.nodes.flatMap((n) => n.outputs), ...ir.inputs.map((i) => i.name)]);

  for (const bn of ir.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const conv = producer.get(bn.inputs[0]!);
    if (!conv || conv.op !== 'Conv' || consumers.get(conv.outputs[0]!) !== 1 || replaced.has(conv)) continue;
    const w = inits.get(conv.inputs[1]!);
    const b = conv.inputs[2] ? inits.get(conv.inputs[2]) : undefined;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => inits.get(n));
    if (!w || w.dtype !== 'float32' || (conv.inputs[2] && !b) || !gamma || !beta || !mean || !variance) continue;
    const eps = bn.attrs.epsilon?.kind === 'float' ? bn.attrs.epsilon.value : 1e-5;
    const outC = w.shape[0]!;
    const per = w.shape.slice(1).reduce((p, d) => p * d, 1);
    const factor = (): Float64Array => {
      const g = materialize(gamma.data) as Float32Array;
      const v = materialize(variance.data) as Float32Array;
      const f = new Float64Array(outC);
      // ORT and PyTorch compute in float32: sqrt(fl32(var + eps)); match that rounding.
      for (let c = 0; c < outC; c++) f[c] = g[c]! / Math.sqrt(Math.fround(v[c]! + Math.fround(eps)));
      return f;
    };
    const wData = w.data, bData = b?.data;
    const weight: InitializerIR = {
      name: w.name,
      dtype: 'float32',
      shape: w.shape,
      data: () => {
        const src = materialize(wData) as Float32Array;
        const f = factor();
        const out = new Float32Array(src.length);
        for (let c = 0; c < outC; c++) for (let i = c * per; i < (c + 1) * per; i++) out[i] = src[i]! * f[c]!;
        return out;
      },
    };
    let biasName = b?.name ?? `${conv.name}.bias`;
    while (!b && usedNames.has(biasName)) biasName += '_';
    usedNames.add(biasName);
    const bias: InitializerIR = {
      name: biasName,
      dtype: 'float32',
      shape: [outC],
      data: () => {
        const f = factor();
        const be = materialize(beta.data) as Float32Array;
        const mu = materialize(mean.data) as Float32Array;
        const b0 = bData ? (materialize(bData) as Float32Array) : undefined;
        const out = new Float32Array(outC);
        for (let c = 0; c < outC; c++) out[c] = ((b0?.[c] ?? 0) - mu[c]!) * f[c]! + be[c]!;
        return out;
      },
    };
    newInits.set(weight.name, weight);
    newInits.set(bias.name, bias);
    replaced.set(conv, { ...conv, inputs: [conv.inputs[0]!, w.name, bias.name], outputs: [bn.outputs[0]!] });
    dropped.add(bn);
  }
  if (dropped.size === 0) return ir;

  const nodes = ir.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers: InitializerIR[] = [];
  for (const i of ir.initializers) if (used.has(i.name)) initializers.push(newInits.get(i.name) ?? i);
  for (const [name, i] of newInits) if (!inits.has(name)) initializers.push(i);
  const removedValues = new Set([...dropped].flatMap((bn) => [bn.inputs[0]!]));
  return { ...ir, nodes, initializers, values: ir.values.filter((v) => !removedValues.has(v.name)) };
}
