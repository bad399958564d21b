import { describe, expect, it } from 'vitest';
import { graphStats, OptionError, type GraphIR } from '@effnet/graph-builder';
import { reductionLayers } from './amoebanet.js';
import { buildModel } from './models.js';

const shapeOf = (ir: GraphIR, name: string) => ir.initializers.find((i) => i.name === name)?.shape;

describe("AmoebaNet-B(18, 512), GPipe's model", () => {
  const m = buildModel('amoebanet-b', { numClasses: 1001 });

  // The TF reference rules give 557,286,057. A count of 557,306,633 (20,576 more) comes from
  // matching the stem output to F/4 channels with a 1x1 conv in cell_stem_0, which the reference
  // does not do: _reduce_prev_layer returns the raw input when there is no previous layer.
  it('has 557,286,057 parameters with 1001 classes and no aux head (TF reference rules)', () => {
    expect(graphStats(m.ir).params).toBe(557_286_057);
    expect(m.ir.initializers.some((i) => i.name.startsWith('aux'))).toBe(false);
  });

  it('defaults: 480x480 input, 1000 classes, the 1000-class FC is 8192 weights + 1 bias smaller', () => {
    const d = buildModel('gpipe');
    expect(d.spec.id).toBe('amoebanet-b');
    expect(d.ir.inputs[0]!.shape).toEqual(['N', 3, 480, 480]);
    expect(d.ir.outputs[0]!.shape).toEqual(['N', 1000]);
    expect(graphStats(d.ir).params).toBe(557_286_057 - 8193);
    expect(d.metadata['effnet.arch']).toBe('AmoebaNet-B(18, 512)');
  });

  it('stem, reductions at 1/3 and 2/3, filter doubling: resolutions and channels per stage', () => {
    expect(m.stages!.map((s) => [s.operator, s.resolution[0], s.channels, s.layers])).toEqual([
      ['Conv3x3/2 (VALID), BN', 480, 32, 1],
      ['Reduction cell (stem)', 239, 2 * 256, 2],
      ['Normal cell', 60, 4 * 512, 6],
      ['Reduction cell', 60, 2 * 1024, 1],
      ['Normal cell', 30, 4 * 1024, 6],
      ['Reduction cell', 30, 2 * 2048, 1],
      ['Normal cell', 15, 4 * 2048, 6],
      ['ReLU, pool, FC', 15, 1001, 1],
    ]);
    expect(reductionLayers(18)).toEqual([6, 12]);
    expect(reductionLayers(6)).toEqual([2, 4]);
    const names = new Set(m.ir.initializers.map((i) => i.name));
    expect(names.has('reduction_cell_0.1x1.weight') && names.has('reduction_cell_1.1x1.weight')).toBe(true);
    expect(names.has('reduction_cell_2.1x1.weight')).toBe(false);
  });

  it('parameter names and shapes follow the TF scopes (OIHW kernels, [out,in] FC)', () => {
    const expected: Record<string, number[]> = {
      'stem.conv0.weight': [32, 3, 3, 3],
      'stem.conv0_bn.running_var': [32],
      // stem cell 0: no previous layer, so the raw stem output (32 channels) is hidden state 1.
      'cell_stem_0.1x1.weight': [128, 32, 1, 1],
      'cell_stem_0.comb_iter_1.right.pre_1x1.weight': [32, 32, 1, 1],
      'cell_stem_0.comb_iter_1.right.3x3.weight': [32, 32, 3, 3],
      'cell_stem_0.comb_iter_1.right.post_1x1.weight': [128, 32, 1, 1],
      'cell_stem_0.comb_iter_3.right.separable_3x3_1.depthwise.weight': [32, 1, 3, 3],
      'cell_stem_0.comb_iter_3.right.separable_3x3_1.pointwise.weight': [128, 32, 1, 1],
      'cell_stem_0.comb_iter_3.right.separable_3x3_2.depthwise.weight': [128, 1, 3, 3],
      // max_pool_2x2 on hidden state 0 already has 128 channels: no 1x1 after the pool.
      // stem cell 1: the stem conv output (239x239) is factorized-reduced to F/2 = 256.
      'cell_stem_1.path1_conv.weight': [128, 32, 1, 1],
      'cell_stem_1.path2_conv.weight': [128, 32, 1, 1],
      'cell_stem_1.final_path_bn.weight': [256],
      'cell_stem_1.comb_iter_2.left.separable_5x5_1.depthwise.weight': [256, 1, 5, 5],
      'cell_0.path1_conv.weight': [256, 256, 1, 1],
      'cell_0.1x1.weight': [512, 512, 1, 1],
      'cell_0.comb_iter_0.left.1x1.weight': [512, 512, 1, 1],
      'cell_0.comb_iter_1.right.bn_sep_3x3_2.weight': [512],
      'cell_2.prev_1x1.weight': [512, 2048, 1, 1],
      'reduction_cell_0.prev_1x1.weight': [1024, 2048, 1, 1],
      'reduction_cell_0.1x1.weight': [1024, 2048, 1, 1],
      'cell_6.path1_conv.weight': [512, 2048, 1, 1],
      'cell_17.comb_iter_4.right.1x1.weight': [2048, 2048, 1, 1],
      'final_layer.FC.weight': [1001, 8192],
      'final_layer.FC.bias': [1001],
    };
    for (const [name, shape] of Object.entries(expected)) expect([name, shapeOf(m.ir, name)]).toEqual([name, shape]);
    expect(shapeOf(m.ir, 'cell_stem_0.comb_iter_0.left.1x1.weight')).toBeUndefined();
    expect(m.ir.initializers.some((i) => i.name.startsWith('cell_stem_0.prev'))).toBe(false);
    // cell_1's previous-previous output (stem cell 1: 2 x 256 channels at 60x60) already matches F = 512.
    expect(m.ir.initializers.some((i) => i.name.startsWith('cell_1.prev') || i.name.startsWith('cell_1.path'))).toBe(false);
    // 'none' with matching channels and stride 1 is the identity: no weights.
    expect(m.ir.initializers.some((i) => i.name.startsWith('cell_0.comb_iter_1.left.'))).toBe(false);
  });

  it('every conv has no bias; BN epsilon is 1e-3; convs are not dilated; SAME pads are asymmetric where TF pads', () => {
    const convs = m.ir.nodes.filter((n) => n.op === 'Conv');
    expect(convs.every((n) => !n.inputs[2])).toBe(true);
    expect(convs.every((n) => n.attrs.dilations?.kind === 'ints' && n.attrs.dilations.value.every((d) => d === 1))).toBe(true);
    const bns = m.ir.nodes.filter((n) => n.op === 'BatchNormalization');
    expect(bns.every((n) => n.attrs.epsilon?.kind === 'float' && Math.abs(n.attrs.epsilon.value - 1e-3) < 1e-9)).toBe(true);
    // 2x2 max pool, stride 2 on 239x239: TF SAME pads one row/column at the end only.
    const pool = m.ir.nodes.find((n) => n.name === 'cell_stem_0.comb_iter_0.left.max_pool')!;
    expect(pool.attrs.pads).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    expect(pool.attrs.kernel_shape).toEqual({ kind: 'ints', value: [2, 2] });
  });
});

describe('the AmoebaNet-B family via cells/filters', () => {
  it('AmoebaNet-B(6, 192): 2 normal cells per stack, 192 filters; parameters do not depend on resolution', () => {
    const a = buildModel('amoebanet-b', { cells: 6, filters: 192, resolution: 224 });
    const b = buildModel('amoebanet-b', { cells: 6, filters: 192, resolution: 96 });
    expect(graphStats(a.ir).params).toBe(graphStats(b.ir).params);
    expect(a.stages!.filter((s) => s.operator === 'Normal cell').map((s) => s.layers)).toEqual([2, 2, 2]);
    expect(a.ir.outputs[0]!.shape).toEqual(['N', 1000]);
    expect(a.metadata['effnet.arch']).toBe('AmoebaNet-B(6, 192)');
    expect(graphStats(a.ir).params).toBeLessThan(graphStats(buildModel('amoebanet-b', { cells: 6, filters: 256 }).ir).params);
  });

  it('rejects filter counts the reference cannot build, and cells/filters on other models', () => {
    // F/2 = 95 is odd: the reference asserts in factorized_reduction.
    expect(() => buildModel('amoebanet-b', { cells: 6, filters: 190 })).toThrow(/--filters must be a multiple of 4.*got 190/);
    expect(() => buildModel('amoebanet-b', { cells: 6, filters: 190 })).toThrow(OptionError);
    expect(() => buildModel('resnet50', { cells: 6 })).toThrow(OptionError);
    expect(() => buildModel('efficientnet-b0', { filters: 64 })).toThrow(/--filters applies to AmoebaNet models only, not 'efficientnet-b0'/);
    expect(() => buildModel('amoebanet-b', { cells: 0 })).toThrow(/cells must be a positive integer/);
  });

  it('one normal cell: the reference puts both reductions before it (calc_reduction_layers gives [0, 0])', () => {
    expect(reductionLayers(1)).toEqual([0, 0]);
    const m = buildModel('amoebanet-b', { cells: 1, filters: 8, resolution: 64 });
    expect(m.stages!.map((s) => s.operator)).toEqual(['Conv3x3/2 (VALID), BN', 'Reduction cell (stem)', 'Reduction cell', 'Normal cell', 'ReLU, pool, FC']);
  });
});
