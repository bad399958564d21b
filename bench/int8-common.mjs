/**
 * Shared by the bench/int8-*.mjs scripts: float32 graphs to quantize (BatchNorm folded), the
 * calibration images, and an inspection of what onnxruntime turns a QDQ file into.
 *
 * `efficientnet-lite0-local` is a stand-in until the Lite family lands in @effnet/efficientnet:
 * timm `tf_efficientnet_lite0`'s layer structure (B0's stages without SE, ReLU6, stem 32 / head
 * 1280, symmetric padding), BatchNorm already folded (conv biases), deterministic He-scaled
 * weights. Only for latency: it has no trained weights.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { add, conv, flatten, foldBatchNorm, gemm, globalAveragePool, Graph } from '@effnet/graph-builder';
import { prepareModel } from '@effnet/pipeline';

export const LITE0_LOCAL = 'efficientnet-lite0-local';

/** A float32 graph with folded BatchNorm, and its preprocessing. */
export function floatModel(id, o = {}) {
  if (id === LITE0_LOCAL)
    return { ir: lite0(o.resolution ?? 224), preprocess: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], cropPct: 0.875, interpolation: 'bicubic' }, resolution: o.resolution ?? 224 };
  const m = prepareModel(id, { ...o, batch: 'dynamic' });
  // Materialize once (BatchNorm calibration of formula weights runs lazily), then fold.
  const ir = foldBatchNorm({ ...m.ir, initializers: m.ir.initializers.map((i) => ({ ...i, data: typeof i.data === 'function' ? i.data() : i.data })) });
  return { ir, preprocess: m.preprocess, resolution: m.resolution, metadata: m.metadata };
}

function lite0(R) {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const g = new Graph('efficientnet_lite0_local');
  const x0 = g.input('input', 'float32', ['N', 3, R, R]);
  const param = (name, shape, fanIn) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const s = Math.sqrt(6 / fanIn);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rand() * s * 0.5;
    return g.initializer(name, 'float32', shape, data);
  };
  const zero6 = [g.initializer('relu6.min', 'float32', [], Float32Array.of(0)), g.initializer('relu6.max', 'float32', [], Float32Array.of(6))];
  const relu6 = (t, label) => g.addNode({ op: 'Clip', inputs: [t, ...zero6], label, outputs: [{ dtype: 'float32', shape: t.shape }], sinceOpset: 11 })[0];
  const convBn = (t, name, out, k, { stride = 1, groups = 1, act = true } = {}) => {
    const cin = t.shape[1];
    const w = param(`${name}.weight`, [out, cin / groups, k, k], (cin / groups) * k * k);
    const b = g.initializer(
      `${name}.bias`,
      'float32',
      [out],
      new Float32Array(out).map(() => rand() * 0.1),
    );
    const p = Math.floor((k - 1) / 2);
    const y = conv(t, w, { bias: b, strides: [stride, stride], pads: [p, p, p, p], group: groups, label: name });
    return act ? relu6(y, `${name}.relu6`) : y;
  };
  const stages = [
    [1, 3, 1, 1, 16],
    [2, 3, 2, 6, 24],
    [2, 5, 2, 6, 40],
    [3, 3, 2, 6, 80],
    [3, 5, 1, 6, 112],
    [4, 5, 2, 6, 192],
    [1, 3, 1, 6, 320],
  ];
  let x = convBn(x0, 'conv_stem', 32, 3, { stride: 2 });
  stages.forEach(([r, k, s, e, c], si) => {
    for (let i = 0; i < r; i++) {
      const name = `blocks.${si}.${i}`;
      const cin = x.shape[1];
      const stride = i === 0 ? s : 1;
      let y = e === 1 ? x : convBn(x, `${name}.conv_pw`, cin * e, 1);
      y = convBn(y, `${name}.conv_dw`, y.shape[1], k, { stride, groups: y.shape[1] });
      y = convBn(y, `${name}.conv_pwl`, c, 1, { act: false });
      x = stride === 1 && cin === c && !(si === 0) ? add(y, x, { label: `${name}.residual` }) : y;
    }
  });
  x = convBn(x, 'conv_head', 1280, 1);
  x = flatten(globalAveragePool(x, { label: 'global_pool' }), { label: 'flatten' });
  const fw = param('classifier.weight', [1000, 1280], 1280);
  const fb = g.initializer('classifier.bias', 'float32', [1000], new Float32Array(1000));
  g.output(gemm(x, fw, { c: fb, transB: true, label: 'classifier' }), 'logits');
  return g.build();
}

/** Op types of the graph onnxruntime (CPU EP, all optimizations) actually runs for `bytes`. */
export async function optimizedOps(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'effnet-int8-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', optimizedModelFilePath: path, logSeverityLevel: 3 });
    await s.release();
    const model = proto.onnx.ModelProto.decode(readFileSync(path));
    const counts = {};
    for (const n of model.graph.node) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function readBytes(path) {
  return new Uint8Array(readFileSync(path));
}
