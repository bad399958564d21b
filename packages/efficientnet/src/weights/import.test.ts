import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { materialize, OptionError } from '@effnet/graph-builder';
import { fill } from '../formula.js';
import { buildModel } from '../models.js';
import { VARIANTS } from '../scaling.js';

const VARIANT_IDS = Object.keys(VARIANTS).map((v) => `efficientnet-${v}`);
import { buildModelWithWeights, inspectWeights, WeightsError } from './import.js';
import { detectLayout, mapKeys } from './naming.js';
import { readFixture } from './fixture.js';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';
import { requires, SHARED, sharedData } from '../../../../test-utils/requires.js';

const FIXTURES = join(SHARED, 'fixtures');
const withFixtures = requires(sharedData('fixtures'));

const dir = mkdtempSync(join(tmpdir(), 'effnet-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function writeFile(tensors: Iterable<readonly [string, TensorToWrite]>): string {
  const p = join(dir, `w${counter++}.safetensors`);
  const fd = openSync(p, 'w');
  try {
    writeSafetensors({ write: (b) => void writeSync(fd, b) }, tensors);
  } finally {
    closeSync(fd);
  }
  return p;
}

/** A tiny EfficientNet (width 0.25, depth 0.25, 5 classes) and its parameters. */
const SMALL = { width: 0.25, depth: 0.25, resolution: 32, numClasses: 5 } as const;
const small = buildModel('efficientnet', SMALL);
const smallParams = small.ir.initializers.map((i) => [i.name, i.shape] as const);
const f32 = (name: string, shape: readonly number[]): TensorToWrite => ({ dtype: 'F32', shape, data: () => fill(name, shape) });

/** One line, starting with the file path. */
function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    const err = e as Error;
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('expected an error');
}

describe('naming detection and mapping', () => {
  it('detects timm, torchvision and ResNet keys; refuses mixed or unknown ones', () => {
    expect(detectLayout(['conv_stem.weight', 'blocks.0.0.conv_dw.weight'])).toBe('timm-efficientnet');
    expect(detectLayout(['features.0.0.weight', 'classifier.1.weight'])).toBe('torchvision-efficientnet');
    expect(detectLayout(['conv1.weight', 'layer1.0.conv1.weight', 'fc.weight'])).toBe('resnet');
    expect(detectLayout(['conv_stem.weight', 'features.0.0.weight'])).toBeUndefined();
    expect(detectLayout(['encoder.weight'])).toBeUndefined();
  });

  withFixtures.it('each fixture manifest is detected as its library naming', () => {
    for (const d of readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, 'manifest.json')))) {
      const names = readFixture(join(FIXTURES, d)).manifest.map((m) => m.name);
      const want = d.startsWith('timm-') ? 'timm-efficientnet' : d.includes('resnet') ? 'resnet' : 'torchvision-efficientnet';
      expect(detectLayout(names), d).toBe(want);
    }
  });

  withFixtures.it('torchvision efficientnet_b0: all 311 keys map one-to-one onto the graph with equal shapes', () => {
    const f = readFixture(join(FIXTURES, 'torchvision-efficientnet_b0'));
    const m = mapKeys(
      'torchvision-efficientnet',
      f.manifest.map((e) => e.name),
    );
    expect(m.unmapped).toEqual([]);
    const graph = new Map(buildModel('efficientnet-b0').ir.initializers.map((i) => [i.name, i.shape]));
    expect([...m.toFile.keys()].sort()).toEqual([...graph.keys()].sort());
    const shapes = new Map(f.manifest.map((e) => [e.name, e.shape]));
    for (const [name, key] of m.toFile) expect(shapes.get(key), key).toEqual(graph.get(name));
    // The reverse direction (used to name missing tensors) gives back the manifest's keys.
    const all = [...graph.keys()];
    expect(all.map((n) => m.fileKeyFor(n, all)).sort()).toEqual(f.manifest.map((e) => e.name).sort());
  });

  it('B0–B7: graph names → torchvision keys → graph names round-trips (no key lost or doubled)', () => {
    for (const id of VARIANT_IDS) {
      const names = buildModel(id).ir.initializers.map((i) => i.name);
      const seed = mapKeys('torchvision-efficientnet', ['features.0.0.weight']);
      const tv = names.map((n) => seed.fileKeyFor(n, names));
      expect(new Set(tv).size, id).toBe(names.length);
      expect(
        tv.every((k) => /^(features|classifier)\./.test(k)),
        id,
      ).toBe(true);
      const back = mapKeys('torchvision-efficientnet', tv);
      expect(back.unmapped, id).toEqual([]);
      expect([...back.toFile.keys()].sort(), id).toEqual([...names].sort());
      for (const n of names) expect(back.toFile.get(n)).toBe(seed.fileKeyFor(n, names));
    }
  });
});

describe('building with a weights file', () => {
  it('timm naming: every tensor comes from the file, classes from the classifier shape', () => {
    const p = writeFile(smallParams.map(([n, s]) => [n, f32(`${n}#file`, s)]));
    const { numClasses: _, ...noClasses } = SMALL;
    const b = buildModelWithWeights('efficientnet', p, noClasses);
    expect(b.numClasses).toBe(5);
    expect(b.imported).toMatchObject({ layout: 'timm-efficientnet', tensors: smallParams.length, numClasses: 5 });
    for (const i of b.ir.initializers) expect(materialize(i.data)).toEqual(fill(`${i.name}#file`, i.shape));
    expect(b.metadata['effnet.weights_naming']).toBe('timm-efficientnet');
  });

  it('torchvision naming with a module. prefix, num_batches_tracked (I64) ignored, F16/BF16 widened', () => {
    const names = smallParams.map(([n]) => n);
    const m = mapKeys('torchvision-efficientnet', ['features.0.0.weight']);
    const tensors: [string, TensorToWrite][] = [];
    for (const [n, s] of smallParams) {
      const key = `module.${m.fileKeyFor(n, names)}`;
      if (n === 'conv_stem.weight') tensors.push([key, { dtype: 'F16', shape: s, data: Uint16Array.from({ length: 8 * 27 }, () => 0x3c00) }]);
      else if (n === 'bn1.weight') tensors.push([key, { dtype: 'BF16', shape: s, data: Uint16Array.from({ length: 8 }, () => 0xc040) }]);
      else tensors.push([key, f32(n, s)]);
      if (n.endsWith('running_var')) tensors.push([key.replace('running_var', 'num_batches_tracked'), { dtype: 'I64', shape: [], data: BigInt64Array.of(1n) }]);
    }
    const b = buildModelWithWeights('efficientnet', writeFile(tensors), SMALL);
    expect(b.imported.layout).toBe('torchvision-efficientnet');
    const byName = new Map(b.ir.initializers.map((i) => [i.name, materialize(i.data)]));
    expect([...byName.get('conv_stem.weight')!].every((v) => v === 1)).toBe(true);
    expect([...byName.get('bn1.weight')!].every((v) => v === -3)).toBe(true);
    expect(byName.get('blocks.1.0.conv_pwl.weight')).toEqual(fill('blocks.1.0.conv_pwl.weight', small.ir.initializers.find((i) => i.name === 'blocks.1.0.conv_pwl.weight')!.shape));
  });

  it('missing, unexpected, mis-shaped and unsupported-dtype tensors: ONE error listing all, naming file and tensors', () => {
    const tensors: [string, TensorToWrite][] = smallParams
      .filter(([n]) => n !== 'conv_head.weight' && n !== 'bn2.running_mean')
      .map(([n, s]) => {
        if (n === 'blocks.0.0.conv_dw.weight') return [n, f32(n, [s[0]!, 1, 5, 5])];
        if (n === 'classifier.bias') return [n, { dtype: 'F64', shape: s, data: new Float64Array(s[0]!) }];
        return [n, f32(n, s)];
      });
    tensors.push(['head.fc.weight', f32('x', [3])], ['blocks.9.0.conv_dw.weight', f32('y', [2])]);
    const p = writeFile(tensors);
    const err = errorOf(() => buildModelWithWeights('efficientnet', p, SMALL));
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: weights \\(timm EfficientNet naming\\) do not fit efficientnet with 5 classes: `));
    expect(err.message).toContain('2 missing: conv_head.weight [');
    expect(err.message).toContain('bn2.running_mean [');
    expect(err.message).toMatch(/1 with the wrong shape: blocks\.0\.0\.conv_dw\.weight is \[8,1,5,5\], model needs \[8,1,3,3\]/);
    expect(err.message).toContain('1 with an unsupported dtype (supported: F32, F16, BF16): classifier.bias is F64');
    expect(err.message).toContain('2 unexpected: head.fc.weight, blocks.9.0.conv_dw.weight');
  });

  it('long problem lists show the first 10 and a count', () => {
    const p = writeFile(smallParams.slice(0, 5).map(([n, s]) => [n, f32(n, s)]));
    const err = errorOf(() => buildModelWithWeights('efficientnet', p, SMALL));
    expect(err.message).toContain(`${smallParams.length - 5} missing: `);
    expect(err.message).toContain(`… and ${smallParams.length - 15} more`);
  });

  it('--num-classes must agree with the classifier in the file', () => {
    const p = writeFile(smallParams.map(([n, s]) => [n, f32(n, s)]));
    const err = errorOf(() => buildModelWithWeights('efficientnet', p, { ...SMALL, numClasses: 1000 }));
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe('numClasses');
    expect(err.message).toBe(`--num-classes 1000 disagrees with ${p}: its classifier 'classifier.weight' has 5 outputs (leave --num-classes out to take it from the file)`);
    expect(buildModelWithWeights('efficientnet', p, SMALL).numClasses).toBe(5);
  });

  it('naming that does not fit the model family, unknown naming, empty file, unsupported model', () => {
    const resnetKeys = writeFile([
      ['conv1.weight', f32('a', [64, 3, 7, 7])],
      ['layer1.0.conv1.weight', f32('b', [64, 64, 1, 1])],
    ]);
    expect(errorOf(() => buildModelWithWeights('efficientnet-b0', resnetKeys)).message).toMatch(
      /has ResNet naming .* which does not fit efficientnet-b0 \(expects timm EfficientNet naming .* or torchvision EfficientNet naming/,
    );
    const other = writeFile([['encoder.weight', f32('a', [2])]]);
    expect(errorOf(() => buildModelWithWeights('efficientnet-b0', other)).message).toMatch(/cannot tell which naming these weights use \(1 tensors, e\.g\. encoder\.weight\)/);
    const empty = writeFile([['bn1.num_batches_tracked', { dtype: 'I64', shape: [], data: BigInt64Array.of(0n) }]]);
    expect(errorOf(() => buildModelWithWeights('efficientnet-b0', empty)).message).toBe(`${empty}: contains no tensors`);
    expect(errorOf(() => buildModelWithWeights('amoebanet-b', resnetKeys)).message).toMatch(/--weights is not supported for amoebanet-b/);
    expect(errorOf(() => buildModelWithWeights('efficientnet-b0', join(dir, 'absent.safetensors'))).message).toMatch(/absent\.safetensors: cannot open weights file \(no such file\)/);
  });

  it('torchvision B5–B7 weights switch BatchNorm eps to 1e-3 (torchvision builds them so); timm weights keep 1e-5', () => {
    const tv = writeFile([['features.0.0.weight', f32('a', [2])]]);
    const timm = writeFile([['conv_stem.weight', f32('a', [2])]]);
    for (const v of ['b5', 'b6', 'b7']) expect(inspectWeights(tv, `efficientnet-${v}`).bnEps).toBe(1e-3);
    for (const v of ['b0', 'b4']) expect(inspectWeights(tv, `efficientnet-${v}`).bnEps).toBeUndefined();
    expect(inspectWeights(timm, 'efficientnet-b5').bnEps).toBeUndefined();
    expect(inspectWeights(tv, 'tf-efficientnet-b5').bnEps).toBeUndefined(); // tf-* is 1e-3 already
  });
});
