import { describe, expect, it } from 'vitest';
import { buildModel } from '@effnet/efficientnet';
import { graphStats, inferShapes, type GraphIR } from '@effnet/graph-builder';

/** A graph as another exporter writes it: no intermediate shapes. */
const bare = (ir: GraphIR): GraphIR => ({ ...ir, values: [] });

// graph-builder's inferShapes on the real architectures (bench counts other exporters' files with it).
describe('inferShapes on the model zoo', () => {
  it.each(['efficientnet-b0', 'resnet50', 'tf-efficientnet-b3'])('%s without value_info: MACs as counted with every shape known', (id) => {
    const { ir } = buildModel(id, { resolution: 64 });
    const full = graphStats(ir);
    expect(full.macsComplete).toBe(true);
    expect(graphStats(bare(ir)).macsComplete).toBe(false);
    const inferred = inferShapes(bare(ir));
    expect(graphStats(inferred)).toMatchObject({ macs: full.macs, params: full.params, macsComplete: true });
    // Inferred shapes agree with the builder's.
    const shapes = new Map(inferred.values.map((v) => [v.name, v.shape]));
    for (const v of ir.values) expect([v.name, shapes.get(v.name)]).toEqual([v.name, v.shape]);
  });
});
