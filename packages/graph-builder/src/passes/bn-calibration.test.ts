import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.js';
import { batchNorm, conv, relu } from '../ops.js';
import { batchNormStatsGraph } from './bn-calibration.js';

const zeros = (n: number) => new Float32Array(n);
const ones = (n: number) => new Float32Array(n).fill(1);

/** conv → BN → relu → conv → BN, batch `batch`. */
function twoBn(batch: number | string = 'N', shareStats = false) {
  const g = new Graph('two_bn');
  const x = g.input('x', 'float32', [batch, 3, 8, 8]);
  const bn = (t: ReturnType<typeof g.input>, name: string, c: number, mean?: ReturnType<typeof g.input>) =>
    batchNorm(
      t,
      g.initializer(`${name}.weight`, 'float32', [c], ones(c)),
      g.initializer(`${name}.bias`, 'float32', [c], zeros(c)),
      mean ?? g.initializer(`${name}.running_mean`, 'float32', [c], zeros(c)),
      g.initializer(`${name}.running_var`, 'float32', [c], ones(c)),
      { label: name, epsilon: 1e-3 },
    );
  const mean1 = g.initializer('bn1.running_mean', 'float32', [4], zeros(4));
  const y1 = bn(conv(x, g.initializer('c1.weight', 'float32', [4, 3, 3, 3], zeros(108)), { pads: [1, 1, 1, 1], label: 'c1' }), 'bn1', 4, mean1);
  const y2 = conv(relu(y1), g.initializer('c2.weight', 'float32', [4, 4, 1, 1], zeros(16)), { strides: [2, 2], label: 'c2' });
  g.output(bn(y2, 'bn2', 4, shareStats ? mean1 : undefined), 'y');
  return g.build();
}

describe('batchNormStatsGraph', () => {
  it('inserts ReduceMean/Sub/Mul/ReduceMean/Reshape before each BN; its running stats become computed outputs', () => {
    const ir = twoBn();
    const { ir: s, stats } = batchNormStatsGraph(ir);
    expect(stats).toEqual([
      { node: 'bn1', mean: 'bn1.running_mean', variance: 'bn1.running_var', channels: 4, spatial: 64 },
      { node: 'bn2', mean: 'bn2.running_mean', variance: 'bn2.running_var', channels: 4, spatial: 16 },
    ]);
    expect(s.outputs.map((o) => `${o.name}[${o.shape.join(',')}]`)).toEqual(['bn1.running_mean[4]', 'bn1.running_var[4]', 'bn2.running_mean[4]', 'bn2.running_var[4]']);
    const names = new Set(s.initializers.map((i) => i.name));
    for (const st of stats) expect(names.has(st.mean) || names.has(st.variance)).toBe(false);
    // One shared [C] reshape target.
    expect(s.initializers.filter((i) => i.dtype === 'int64').map((i) => [...(i.data as BigInt64Array)])).toEqual([[4n]]);
    const ops = s.nodes.map((n) => n.op);
    expect(ops.slice(0, 8)).toEqual(['Conv', 'ReduceMean', 'Sub', 'Mul', 'ReduceMean', 'Reshape', 'Reshape', 'BatchNormalization']);
    const reduce = s.nodes[1]!;
    expect(reduce.attrs).toEqual({ axes: { kind: 'ints', value: [0, 2, 3] }, keepdims: { kind: 'int', value: 1 } });
    const bn2 = s.nodes.find((n) => n.name === 'bn2')!;
    expect(bn2.inputs.slice(3)).toEqual(['bn2.running_mean', 'bn2.running_var']);
    // Every new value has a shape: [1,C,1,1] statistics, centred/squared like the input.
    const shapes = new Map(s.values.map((v) => [v.name, v.shape.join(',')]));
    expect(shapes.get('bn1.batch_stats.mean')).toBe('1,4,1,1');
    expect(shapes.get('bn1.batch_stats.squared')).toBe('N,4,8,8');
    // The input graph is untouched.
    expect(ir.outputs.map((o) => o.name)).toEqual(['y']);
    expect(ir.nodes.some((n) => n.op === 'ReduceMean')).toBe(false);
  });

  it('refuses a running statistic shared by two BatchNorms, naming it', () => {
    expect(() => batchNormStatsGraph(twoBn('N', true))).toThrow("running statistic 'bn1.running_mean' is shared by several nodes");
  });

  it('a graph without BatchNorm has no statistics', () => {
    const g = new Graph('plain');
    g.output(relu(g.input('x', 'float32', [1, 2])), 'y');
    expect(batchNormStatsGraph(g.build()).stats).toEqual([]);
  });
});
