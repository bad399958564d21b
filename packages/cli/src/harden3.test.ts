/**
 * Hardening III (issue #22) through the real binary: answers that are right or refused (class
 * subsets mapped by name, runs that scored nothing), a terminal that fits (narrow tables, closed
 * pipes, --help values), flags named in errors, warnings where a run would silently go wrong.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flatten, globalAveragePool, Graph } from '@effnet/graph-builder';
import { writeModel } from '@effnet/onnx-export';
import { requires, SHARED, sharedData } from '../../../test-utils/requires.js';
import { BIN, binScratch, expectError } from './test-utils/bin.js';

const { fresh, effnet } = binScratch('effnet-harden3-');

/** A 7-class model (logits = channel means, padded), so top-5 is not trivially 1. */
function tinyModel(path: string, metadata: Record<string, string> = {}, size = 16): string {
  const g = new Graph('tiny');
  const x = g.input('input', 'float32', ['N', 3, size, size]);
  g.output(flatten(globalAveragePool(x)), 'logits');
  writeModel(g.build(), path, { opset: 17, metadata: { 'effnet.num_classes': '3', ...metadata } });
  return path;
}

requires(sharedData('imagenette/val', 'imagenette/efficientnet_b0-imagenette.safetensors')).describe('eval on some of the classes of a model that names them', () => {
  it("3 of Imagenette's 10 class folders: mapped by name (~82%, not 33%), the per-class table names the right classes", async () => {
    const d = fresh();
    const model = join(d, 'b0.onnx');
    const r0 = await effnet(['export', 'efficientnet-b0', '--weights', join(SHARED, 'imagenette/efficientnet_b0-imagenette.safetensors'), '--resolution', '160', '-o', model], d);
    expect(r0.code, r0.stderr).toBe(0);
    const all = readdirSync(join(SHARED, 'imagenette/val')).sort();
    const picked = [all[1]!, all[4]!, all[8]!];
    const data = join(d, 'sub');
    for (const c of picked) {
      mkdirSync(join(data, c), { recursive: true });
      for (const f of readdirSync(join(SHARED, 'imagenette/val', c))
        .sort()
        .slice(0, 40))
        cpSync(join(SHARED, 'imagenette/val', c, f), join(data, c, f));
    }
    const r = await effnet(['eval', model, '--data', data, '--json'], d);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { top1: number; perClass: { class: string; index: number }[] };
    expect(j.top1).toBeGreaterThan(0.6);
    expect(j.perClass.map((c) => [c.class, c.index])).toEqual(picked.map((c) => [c, all.indexOf(c)]));
    // Folders the model cannot name: refused, unless --folder-order.
    const renamed = join(d, 'renamed');
    cpSync(join(data, picked[0]!), join(renamed, 'cats'), { recursive: true });
    const bad = await effnet(['eval', model, '--data', renamed], d);
    expectError(bad, 2, /renamed: class folder 'cats' not among efficientnet-b0's 10 class names .*--folder-order/);
    expect((await effnet(['eval', model, '--data', renamed, '--folder-order'], d)).code).toBe(0);
  });
});

describe('answers that are right or refused', () => {
  it('a 3-class model on 2 unnamed folders: refused (exit 2) unless --folder-order; nothing readable: exit 1', async () => {
    const d = fresh();
    const model = tinyModel(join(d, 'm.onnx'));
    for (const c of ['a', 'b']) mkdirSync(join(d, 'data', c), { recursive: true });
    writeFileSync(join(d, 'data', 'a', 'x.png'), 'not a png');
    writeFileSync(join(d, 'data', 'b', 'y.png'), 'not a png');
    expectError(await effnet(['eval', model, '--data', 'data'], d), 2, /data: 2 classes \(a, b\) but m\.onnx has 3 outputs and no class names to match them by.*--folder-order/);
    const none = await effnet(['eval', model, '--data', 'data', '--folder-order', '--json', 'out.json'], d);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^effnet: error: data: none of the 2 listed images could be read \(first: a\/x\.png: .*\); nothing was scored$/m);
    expect(readdirSync(d)).not.toContain('out.json');
  });
});

describe('a terminal that fits', () => {
  it('COLUMNS=60 effnet list: every line within 60 columns', async () => {
    const r = spawnSync(process.execPath, [BIN, 'list'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '60', NO_COLOR: '1' } });
    expect(r.status).toBe(0);
    expect(Math.max(...r.stdout.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(60);
    expect(r.stdout).toMatch(/^tf-mobilenetv3-large-100$/m);
  });

  it('a closed pipe (| head -1): exit 0, no stack trace', () => {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${BIN}" list | head -1`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('--help lists the values of choice flags; bench --batch default reads 1', async () => {
    const ev = (await effnet(['eval', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(ev).toMatch(/--interpolation <mode> resize filter: bicubic or bilinear/);
    expect(ev).toMatch(/--ep <ep> execution provider: cpu, cuda, webgpu, wasm, web-webgpu, web-wasm/);
    const ex = (await effnet(['export', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(ex).toMatch(/--calibration-method <m> int8: activation range method, one of minmax, percentile, entropy/);
    expect(ex).toMatch(/--int8-policy <p> int8: which ops run in int8, one of all, compute, pointwise/);
    const b = (await effnet(['bench', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(b).toMatch(/\(default: 1\)/);
    expect(b).not.toMatch(/default: \[1\]/);
    expect((await effnet(['--help'])).stdout.replace(/\s+/g, ' ')).toMatch(/MobileNetV1\/V2\/V3, MnasNet, ResNet and AmoebaNet-B/);
  });
});

describe('flags named, mistakes pointed out', () => {
  it("--input-name 'a b': exit 2 naming the flag; info FILE.onnx points to inspect; --threads above the cores warns", async () => {
    const d = fresh();
    expectError(await effnet(['export', 'b0', '--input-name', 'a b', '-o', 'x.onnx'], d), 2, /^effnet: error: --input-name 'a b': a tensor name is letters, digits/);
    expect(readdirSync(d)).toEqual([]);
    const model = tinyModel(join(d, 'm.onnx'));
    expectError(await effnet(['info', model], d), 2, /info: '.*m\.onnx' is a file; 'effnet info' describes model ids .*run 'effnet inspect .*m\.onnx'/);
    const r = await effnet(['eval', model, '--data', d, '--threads', '256'], d);
    expect(r.stderr).toMatch(/warning: --threads 256 is more than this machine's \d+ cores/);
  });
});

describe('smaller things, said instead of silently done', () => {
  it('a FIFO named like an image is listed as unreadable; a 300-character label is refused; --compare names a resolution mismatch and untrained weights', async () => {
    const d = fresh();
    const model = tinyModel(join(d, 'm.onnx'));
    for (const c of ['a', 'b', 'c']) mkdirSync(join(d, 'data', c), { recursive: true });
    const sharp = (await import('sharp')).default;
    for (const c of ['a', 'b', 'c'])
      writeFileSync(
        join(d, 'data', c, '1.png'),
        await sharp({ create: { width: 20, height: 20, channels: 3, background: 'red' } })
          .png()
          .toBuffer(),
      );
    spawnSync('mkfifo', [join(d, 'data', 'b', 'pipe.png')]);
    const r = await effnet(['eval', model, '--data', 'data', '--json'], d);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { n: number; listed: number; failed: { file: string; error: string }[] };
    expect([j.n, j.listed]).toEqual([3, 4]);
    expect(j.failed).toEqual([{ file: 'b/pipe.png', error: expect.stringMatching(/FIFO/) as unknown as string }]);
    writeFileSync(join(d, 'labels.txt'), `cat\n${'x'.repeat(300)}\ndog\n`);
    expectError(
      await effnet(['classify', model, join(d, 'data/a/1.png'), '--labels', 'labels.txt'], d),
      1,
      /--labels labels\.txt: label 2 is 300 characters long \('x{30}…'\); class names are at most 200/,
    );
    const other = tinyModel(join(d, 'ref.onnx'), { 'effnet.weights': 'formula; BatchNorm statistics calibrated on formulaInput([2,3,R,R]) in one forward pass' }, 24);
    const c = await effnet(['eval', model, '--data', 'data', '--compare', other], d);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^note: the reference ran at 24x24, this model at 16x16: the change mixes resolution with the model$/m);
    expect(c.stdout).toMatch(/^note: .*ref\.onnx has untrained default weights: its top-1 and the agreement say nothing of accuracy$/m);
  });
});
