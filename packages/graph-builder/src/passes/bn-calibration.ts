import { GraphEditor } from '../editor.js';
import type { Tensor } from '../graph.js';
import type { GraphIR } from '../ir.js';
import { mul, reduceMean, reshape, sub } from '../ops.js';

/** One BatchNormalization whose batch statistics a {@link batchNormStatsGraph} reports. */
export interface BatchNormStat {
  /** The BatchNormalization node. */
  readonly node: string;
  /** Its running-mean initializer; the stats graph has an output of this name ([C], batch mean). */
  readonly mean: string;
  /** Its running-variance initializer; the stats graph has an output of this name ([C], biased batch variance). */
  readonly variance: string;
  readonly channels: number;
  /**
   * Values per channel per image: the product of the input's dims after C (H·W; 1 for [N,C]), or
   * undefined where one of them is symbolic. A batch of B gives this BN B·spatial samples per channel.
   */
  readonly spatial: number | undefined;
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
  const inits = new Set(ir.initializers.map((i) => i.name));
  const uses = new Map<string, number>();
  for (const n of ir.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const ed = new GraphEditor(ir, { name: `${ir.name}.batch_stats` });
  const stats: BatchNormStat[] = [];
  const dropped = new Set<string>();
  /** One Reshape target [C] per channel count. */
  const channelShapes = new Map<number, Tensor>();

  for (const n of ir.nodes) {
    if (n.op !== 'BatchNormalization') {
      ed.keep(n);
      continue;
    }
    const [xName, , , mean, variance] = n.inputs;
    if (!xName || !mean || !variance || !ed.has(xName)) throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}' lacks an input or its shape`);
    if (n.outputs.length !== 1) throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}' has ${n.outputs.length} outputs; expected the inference form (1)`);
    for (const s of [mean, variance]) {
      if (!inits.has(s)) throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}': running statistic '${s}' is not an initializer`);
      if (uses.get(s) !== 1 || dropped.has(s)) throw new Error(`batchNormStatsGraph: running statistic '${s}' is shared by several nodes; cannot calibrate it per BatchNormalization`);
      dropped.add(s);
    }
    const x = ed.value(xName);
    const channels = x.shape[1];
    if (x.rank < 2 || typeof channels !== 'number')
      throw new Error(`batchNormStatsGraph: BatchNormalization '${n.name}' input '${xName}' is ${JSON.stringify(x.shape)}; expected [N,C,...] with a fixed C`);
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const label = (what: string) => ({ label: `${n.name}.batch_stats.${what}` });
    const m = reduceMean(x, axes, label('mean'));
    const centered = sub(x, m, label('centered'));
    const v = reduceMean(mul(centered, centered, label('squared')), axes, label('var'));
    let target = channelShapes.get(channels);
    if (!target) {
      target = ed.constant(`batch_stats.shape_${channels}`, 'int64', [1], BigInt64Array.of(BigInt(channels)));
      channelShapes.set(channels, target);
    }
    ed.removeInitializer(mean);
    ed.removeInitializer(variance);
    reshape(m, target, { ...label('mean_c'), output: mean });
    reshape(v, target, { ...label('var_c'), output: variance });
    ed.keep(n);
    const rest = x.shape.slice(2);
    const spatial = rest.every((d): d is number => typeof d === 'number') ? rest.reduce((p, d) => p * d, 1) : undefined;
    stats.push({ node: n.name, mean, variance, channels, spatial });
  }
  ed.setOutputs(stats.flatMap((s) => [s.mean, s.variance]));
  return { ir: ed.build(), stats };
}
