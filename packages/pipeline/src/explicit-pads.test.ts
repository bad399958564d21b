import { describe, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import { formulaInput } from '@effnet/efficientnet';
import { fromFloat16Array, type GraphIR } from '@effnet/graph-builder';
import { serializeModel } from '@effnet/onnx-export';
import { prepareModel, type PrepareOptions } from './prepare.js';
import { onnxruntimeStatistics } from './onnxruntime-statistics.js';

/** Calibrated as the CLI does: onnxruntime-node measures the BatchNorm statistics of the default weights. */
const WITH_ORT = { statistics: onnxruntimeStatistics } as const;

/**
 * Logits plus every residual Add / Concat output as extra graph outputs: with formula weights the
 * EfficientNet logits barely depend on the input, the feature maps do.
 */
function withProbes(ir: GraphIR): GraphIR {
  const probes = ir.values.filter((v) => ir.nodes.some((n) => (n.op === 'Add' || n.op === 'Concat') && n.outputs[0] === v.name));
  return { ...ir, outputs: [...ir.outputs, ...probes] };
}

async function outputs(ir: GraphIR, dims: number[]): Promise<Map<string, Float32Array>> {
  const s = await openSession(serializeModel(withProbes(ir)));
  try {
    const y = await s.run({ input: tensor('float32', formulaInput(dims), dims) });
    return new Map(Object.entries(y).map(([k, t]) => [k, t.type === 'float16' ? fromFloat16Array(t.data as Uint16Array) : (t.data as Float32Array)]));
  } finally {
    await s.release();
  }
}

describe('--explicit-pads gives the same outputs in onnxruntime', () => {
  // [model, options, whether Pad/Slice nodes are added]
  const cases: [string, PrepareOptions, boolean][] = [
    ['tf-efficientnet-b3', { resolution: 65, numClasses: 10 }, false], // 65, 33, 17, 9, 5: every SAME pad is symmetric
    ['tf-efficientnet-b3', { resolution: 66, numClasses: 10 }, true], // 66 → 33: asymmetric (0, 1) once, then odd sizes
    ['tf-efficientnet-b3', { resolution: 64, numClasses: 10, foldBn: true }, true], // even sizes throughout
    ['amoebanet-b', { cells: 6, filters: 32, resolution: 97, numClasses: 10 }, true], // negative Pad + SAME pools
    ['tf-efficientnet-b3', { resolution: 66, numClasses: 10, fp16: true }, true], // after the pass, toFloat16
    ['tf-efficientnetv2-b0', { resolution: 66, numClasses: 10 }, true], // Fused-MBConv k3 s2 convs with SAME pads
    ['tf-efficientnet-lite0', { resolution: 66, numClasses: 10, foldBn: true }, true], // ReLU6 (Clip) blocks
  ];
  for (const [id, o, changes] of cases) {
    it(`${id} ${JSON.stringify(o)}`, async () => {
      const plain = prepareModel(id, { ...WITH_ORT, ...o });
      const explicit = prepareModel(id, { ...WITH_ORT, ...o, explicitPads: true });
      const ops = (ir: typeof plain.ir) => ir.nodes.filter((n) => n.op === 'Pad' || n.op === 'Slice').length;
      if (changes) expect(ops(explicit.ir)).toBeGreaterThan(ops(plain.ir));
      else expect(explicit.ir.nodes).toEqual(plain.ir.nodes);
      // No negative Pad and no asymmetric Conv/MaxPool pads are left.
      for (const n of explicit.ir.nodes) {
        const p = n.attrs.pads;
        if ((n.op === 'Conv' || n.op === 'MaxPool') && p?.kind === 'ints') expect(p.value.slice(0, 2), n.name).toEqual(p.value.slice(2));
      }
      const dims = [2, 3, plain.resolution, plain.resolution];
      const a = await outputs(plain.ir, dims);
      const b = await outputs(explicit.ir, dims);
      expect([...b.keys()]).toEqual([...a.keys()]);
      expect(a.size).toBeGreaterThan(5);
      for (const [name, x] of a) {
        const y = b.get(name)!;
        let diff = 0,
          scale = 0;
        for (let i = 0; i < x.length; i++) {
          diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
          scale = Math.max(scale, Math.abs(x[i]!));
        }
        // float32 rounding, amplified through the calibrated random network (AmoebaNet-B(6,32): 4.6e-5).
        expect(diff, name).toBeLessThanOrEqual((o.fp16 ? 1e-3 : 1e-4) * scale);
      }
    });
  }
});
