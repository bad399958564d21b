/**
 * Parity beyond ../shared/fixtures, against reference/torch/*.json (PyTorch + torchvision, see
 * reference/torch/README.md): every variant B0–B7 in the torchvision layout ("tv": symmetric
 * padding, BN eps 1e-5, or 1e-3 for B5–B7 as torchvision builds them) and with TensorFlow "SAME"
 * padding ("tf": BN eps 1e-3) at sizes whose feature maps are odd (225, 240, 260, 301, 380, 456,
 * 528, 600), where the asymmetric pads must be computed per layer. The weights follow
 * make_reference.py's rules over torchvision's state_dict keys; they are written as .safetensors,
 * imported through `weightsPath` (what `--weights` sets) and run in onnxruntime-node.
 * B5–B7 are large: they run under EFFNET_SLOW (set by `npm test`; `npm run test:fast` skips them).
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import { buildModel, fill, formulaInput, mapKeys, writeSafetensors, type TensorToWrite } from '@effnet/efficientnet';
import { prepareModel } from '@effnet/pipeline';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const REFERENCE = join(REPO, 'reference/torch');
const SLOW = !!process.env.EFFNET_SLOW;
const TOLERANCE = 2e-4;

interface Reference {
  family: 'tv' | 'tf';
  variant: string;
  resolution: number;
  bn_eps: number;
  input: { shape: number[] };
  bn_var_scale: Record<string, number>;
  logits: number[];
}

const dir = mkdtempSync(join(tmpdir(), 'effnet-refparity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** make_reference.py's param(): BN weight 1 + fill, running_var scale·(1 + fill), the rest fill. */
function param(name: string, shape: readonly number[], varScale: number): Float32Array {
  const v = fill(name, shape);
  if (name.endsWith('.weight') && shape.length === 1) return v.map((x) => Math.fround(1 + x));
  if (name.endsWith('.running_var')) return v.map((x) => Math.fround(varScale * (1 + x)));
  return v;
}

/** torchvision efficientnet_bN's state_dict (keys, shapes) and the weight file built from it. */
function writeWeights(ref: Reference, path: string): void {
  const graph = buildModel(`efficientnet-${ref.variant}`).ir.initializers;
  const names = graph.map((i) => i.name);
  const naming = mapKeys('torchvision-efficientnet', ['features.0.0.weight']);
  const tensors: [string, TensorToWrite][] = graph.map((i) => {
    const key = naming.fileKeyFor(i.name, names);
    const module = key.replace(/\.[a-z_]+$/, '');
    return [key, { dtype: 'F32', shape: i.shape, data: () => param(key, i.shape, ref.bn_var_scale[module] ?? 1) }];
  });
  // The BatchNorm modules named by these keys are exactly those torchvision calibrated.
  const bns = tensors.filter(([k]) => k.endsWith('.running_var')).map(([k]) => k.slice(0, -'.running_var'.length));
  expect(bns.sort()).toEqual(Object.keys(ref.bn_var_scale).sort());
  const fd = openSync(path, 'w');
  try {
    writeSafetensors({ write: (b) => void writeSync(fd, b) }, tensors);
  } finally {
    closeSync(fd);
  }
}

const files = existsSync(REFERENCE)
  ? readdirSync(REFERENCE)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

describe('parity with PyTorch/torchvision references: all variants, tv layout and TF SAME padding at odd sizes', () => {
  it('reference files are present', () => expect(files.length).toBe(16));
  for (const file of files) {
    const ref = JSON.parse(readFileSync(join(REFERENCE, file), 'utf8')) as Reference;
    const id = `${ref.family === 'tf' ? 'tf-' : ''}efficientnet-${ref.variant}`;
    const big = ['b5', 'b6', 'b7'].includes(ref.variant);
    it.skipIf(big && !SLOW)(`${file}: ${id} at ${ref.resolution}px, torchvision weights${big ? ' (EFFNET_SLOW)' : ''}: max |Δlogit| ≤ ${TOLERANCE}`, async () => {
      const weights = join(dir, `${file}.safetensors`);
      writeWeights(ref, weights);
      try {
        const p = prepareModel(id, { weightsPath: weights, resolution: ref.resolution, batch: 1 });
        expect(p.metadata['effnet.weights_naming']).toBe('torchvision-efficientnet');
        const eps = p.ir.nodes.filter((n) => n.op === 'BatchNormalization').map((n) => (n.attrs.epsilon?.kind === 'float' ? n.attrs.epsilon.value : NaN));
        expect(new Set(eps.map((e) => Math.fround(e)))).toEqual(new Set([Math.fround(ref.bn_eps)]));
        const s = await openSession(p.serialize());
        try {
          const y = (await s.run({ input: tensor('float32', formulaInput(ref.input.shape), ref.input.shape) })).logits!;
          const got = y.data as Float32Array;
          expect(got.length).toBe(ref.logits.length);
          let diff = 0;
          for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i]! - ref.logits[i]!));
          expect(diff, `${file}: max |Δ| ${diff.toExponential(2)}`).toBeLessThanOrEqual(TOLERANCE);
        } finally {
          await s.release();
        }
      } finally {
        rmSync(weights, { force: true });
      }
    });
  }
});
