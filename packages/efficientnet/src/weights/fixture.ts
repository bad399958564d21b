/**
 * The reference fixtures (../shared/fixtures/LIBRARY-MODEL): a manifest of every state_dict
 * tensor in the library's own naming, each from the weight formula or from `bn.safetensors`,
 * and the float64 logits the library computed with them. `fixtureTensors` rebuilds the full
 * weight set for writing as one safetensors file (formula tensors generated as they are written).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fill } from '../formula.js';
import { Safetensors, type TensorToWrite } from './safetensors.js';

export interface FixtureEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly source: 'formula' | 'bn.safetensors';
}

export interface Fixture {
  readonly dir: string;
  readonly library: string;
  readonly model: string;
  readonly resolution: number;
  readonly params: number;
  readonly macs: number;
  readonly inputShape: readonly number[];
  /** [batch][classes] float64 logits. */
  readonly logits: readonly (readonly number[])[];
  readonly manifest: readonly FixtureEntry[];
}

export function readFixture(dir: string): Fixture {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as FixtureEntry[];
  const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    library: string;
    model: string;
    resolution: number;
    params: number;
    macs: number;
    input: { formula: string; shape: number[]; scale: number };
    logits: number[][];
  };
  if (e.input.formula !== 'input' || e.input.scale !== 2) throw new Error(`${dir}: unexpected input formula ${JSON.stringify(e.input)}`);
  return { dir, library: e.library, model: e.model, resolution: e.resolution, params: e.params, macs: e.macs, inputShape: e.input.shape, logits: e.logits, manifest };
}

/** Every tensor of the fixture in manifest order, ready for writeSafetensors. */
export function fixtureTensors(f: Fixture): [string, TensorToWrite][] {
  const bnPath = join(f.dir, 'bn.safetensors');
  let bn: Safetensors | undefined;
  return f.manifest.map((m) => [
    m.name,
    {
      dtype: 'F32',
      shape: m.shape,
      data: () => {
        if (m.source === 'formula') return fill(m.name, m.shape);
        bn ??= Safetensors.open(bnPath);
        const info = bn.info(m.name);
        if (!info || info.shape.join() !== m.shape.join()) throw new Error(`${bnPath}: '${m.name}' missing or not ${JSON.stringify(m.shape)}`);
        return bn.readFloat32(m.name);
      },
    },
  ]);
}
