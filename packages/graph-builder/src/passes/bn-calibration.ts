import type { GraphIR, InitializerIR, NodeIR, Shape, ValueInfo } from '../ir.js';
import { shapeTable } from '../stats.js';

/** One BatchNormalization whose batch statistics a {@link batchNormStatsGraph} reports. */
export interface BatchNormStat {
  /** The BatchNormalization node. */
  readonly node: string;
  /** Its running-mean initializer; the stats graph has an output of this name ([C], batch mean). */
  readonly mean: string;
  /** Its running-variance initializer; the stats graph has an output of this name ([C], biased batch variance). */
  readonly variance: string;
  readonly channels: number;
}

export interface BatchNormStatsGraph {
  /** Training-mode graph: outputs are the statistics only, in `stats` order (mean, variance, mean, ...). */
  readonly ir: GraphIR;
  readonly stats: readonly BatchNormStat[];
}

/**
 * The training-mode form of `ir`, for calibrating BatchNorm running statistics in one forward pass:
 * every BatchNormalization normalizes with its input's own per-channel batch mean and (biased)
 * variance over all axes but 1 (N, H, W), computed by ReduceMean/Sub/Mul/ReduceMean/Reshape nodes
 * inserted before it; the BN node itself is unchanged, its mean/variance inputs now being those
 * computed values, which keep the names of the running-stat initializers (dropped from the graph)
 * and are the graph's outputs. Because each BN sees activations normalized by the batch statistics
 * of every earlier BN, one run yields exactly what a sequential, layer-by-layer calibration would
 * (PyTorch train mode with momentum=None over this one batch, apart from its unbiased running_var).
 * The original outputs are dropped. Throws if a running-stat initializer is shared or missing.
 */
export function batchNormStatsGraph(ir: GraphIR): BatchNormStatsGraph {
  const shapes = shapeTable(ir);
  const inits = new Map(ir.initializers.map((i) => [i.name, i]));
  const dtypes = new Map<string, ValueInfo['dtype']>([...ir.inputs, ...ir.values, ...ir.outputs, ...ir.initializers].map((v) => [v.name, v.dtype]));
  const used = new Set([...shapes.keys(), ...ir.initializers.map((i) => i.name), ...ir.nodes.flatMap((n) => [n.name, ...n.outputs])]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const uses = new Map<string, number>();
  for (const n of ir.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);

  const nodes: NodeIR[] = [];
  const values: ValueInfo[] = [...ir.values];
  const outputs: ValueInfo[] = [];
  const stats: BatchNormStat[] = [];
  const dropped = new Set<string>();
  const newInits: InitializerIR[] = [];
  /** One Reshape target [C] per channel count. */
  const channelShapes = new Map<number, string>();

  for (const n of ir.nodes) {
    if (n.op !== 'BatchNormalization') {
      nodes.push(n);
      continue;
    }
    const [x, , , mean, variance] = n.inputs;
    const shape = x === undefined ? undefined : shapes.get(x);
    const dtype = x === undefined ? undefined : dtypes.get(x);
    if (!x || !mean || !variance || !shape || !dtype) throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}' lacks an input or its shape`);
    if (n.outputs.length !== 1) throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}' has ${n.outputs.length} outputs; expected the inference form (1)`);
    for (const s of [mean, variance]) {
      if (!inits.has(s)) throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}': running statistic '${s}' is not an initializer`);
      if (uses.get(s) !== 1 || dropped.has(s)) throw new Error(`batchNormStatsGraph: running statistic '${s}' is shared by several nodes; cannot calibrate it per BatchNormalization`);
      dropped.add(s);
    }
    const channels = shape[1];
    if (shape.length < 2 || typeof channels !== 'number') throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}' input '${x}' is ${JSON.stringify(shape)}; expected [N,C,...] with a fixed C`);
    const axes = shape.map((_, i) => i).filter((i) => i !== 1);
    const kept: Shape = shape.map((d, i) => (i === 1 ? d : 1));
    const value = (base: string, s: Shape): string => {
      const name = fresh(`${n.name}.batch_stats.${base}`);
      values.push({ name, dtype, shape: s });
      return name;
    };
    const reduce = (input: string, out: string): NodeIR => ({
      op: 'ReduceMean',
      name: out,
      inputs: [input],
      outputs: [out],
      attrs: { axes: { kind: 'ints', value: axes }, keepdims: { kind: 'int', value: 1 } },
    });
    let target = channelShapes.get(channels);
    if (!target) {
      target = fresh(`batch_stats.shape_${channels}`);
      newInits.push({ name: target, dtype: 'int64', shape: [1], data: BigInt64Array.of(BigInt(channels)) });
      channelShapes.set(channels, target);
    }
    const m = value('mean', kept);
    const d = value('centered', shape);
    const sq = value('squared', shape);
    const v = value('var', kept);
    nodes.push(
      reduce(x, m),
      { op: 'Sub', name: d, inputs: [x, m], outputs: [d], attrs: {} },
      { op: 'Mul', name: sq, inputs: [d, d], outputs: [sq], attrs: {} },
      reduce(sq, v),
      { op: 'Reshape', name: fresh(`${n.name}.batch_stats.mean_c`), inputs: [m, target], outputs: [mean], attrs: {} },
      { op: 'Reshape', name: fresh(`${n.name}.batch_stats.var_c`), inputs: [v, target], outputs: [variance], attrs: {} },
      n,
    );
    outputs.push({ name: mean, dtype, shape: [channels] }, { name: variance, dtype, shape: [channels] });
    stats.push({ node: n.name, mean, variance, channels });
  }
  return {
    ir: {
      ...ir,
      name: `${ir.name}.batch_stats`,
      outputs,
      nodes,
      values,
      initializers: [...ir.initializers.filter((i) => !dropped.has(i.name)), ...newInits],
    },
    stats,
  };
}
