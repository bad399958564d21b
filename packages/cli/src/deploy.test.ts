/**
 * The deployment flags (issue #20) through the real binary: bad input exits 2 naming the flag,
 * refused combinations name both flags and the reason (the pass table's excludes), the new files
 * are recorded in metadata and accepted by classify (pixels, NHWC) with one-line errors for bad
 * pictures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readModel } from '@effnet/onnx-export';
import { binScratch, expectError, lines, type BinResult } from './test-utils/bin.js';
import { requires, SHARED, sharedData } from '../../../test-utils/requires.js';

/** A usage error: exit 2, `effnet: error:` naming every part on its first line (commander adds a help hint line for a bad flag value). */
function expectUsage(r: BinResult, ...parts: (string | RegExp)[]): void {
  if (!/--help' for usage/.test(r.stderr)) return expectError(r, 2, ...parts);
  expect(r.code, r.stderr).toBe(2);
  const [first, ...rest] = lines(r.stderr);
  expect(first).toMatch(/^effnet: error: /);
  for (const p of parts) expect(first).toMatch(p);
  expect(rest).toEqual([expect.stringMatching(/^\(run 'effnet \w+ --help' for usage\)$/)]);
}

const { fresh, effnet } = binScratch('effnet-deploy-');

describe('deployment flags: usage errors (exit 2, the flag named)', () => {
  const cases: [string, string[], (string | RegExp)[]][] = [
    ['--features 7', ['export', 'efficientnet-b0', '--features', '7'], ['--features', "'7'", '0..4']],
    ['--features on AmoebaNet (no taps)', ['export', 'amoebanet-b', '--cells', '6', '--filters', '32', '--features'], ['--features', 'amoebanet-b has no feature taps']],
    ['--head none on AmoebaNet', ['export', 'amoebanet-b', '--cells', '6', '--filters', '32', '--head', 'none'], ['--head none', 'amoebanet-b']],
    ['--embed-preprocessing with --layout nhwc', ['export', 'efficientnet-b0', '--embed-preprocessing', '--layout', 'nhwc'], ['--embed-preprocessing with --layout', 'always uint8 NHWC']],
    ['--outputs topk:0', ['export', 'efficientnet-b0', '--outputs', 'topk:0'], ['--outputs', 'topk:0']],
    ['--outputs topk above the classes', ['export', 'efficientnet-b0', '--num-classes', '10', '--outputs', 'topk:11'], ['--outputs topk:11', '10 classes']],
    ['--outputs nonsense', ['export', 'efficientnet-b0', '--outputs', 'top5'], ['--outputs', 'logits, probs or topk:K']],
    ['--layout nchwc', ['export', 'efficientnet-b0', '--layout', 'nchwc'], ['--layout']],
    ['--dynamic-size with --explicit-pads', ['export', 'tf-efficientnet-b0', '--dynamic-size', '--explicit-pads'], ['--dynamic-size with --explicit-pads', 'one input size']],
    ['--dynamic-size on AmoebaNet', ['export', 'amoebanet-b', '--cells', '6', '--filters', '32', '--dynamic-size'], ['--dynamic-size', 'amoebanet-b']],
    ['--features with --outputs probs', ['export', 'efficientnet-b0', '--features', '--outputs', 'probs'], ['--features with --outputs']],
  ];
  for (const [what, args, parts] of cases)
    it(what, async () => {
      const cwd = fresh();
      const r = await effnet([...args, '-o', 'm.onnx'], cwd);
      expectUsage(r, ...parts);
      expect(existsSync(join(cwd, 'm.onnx')), 'nothing written').toBe(false);
    });
});

describe('deployment flags: files, metadata and the tools', () => {
  it('--embed-preprocessing --outputs topk:3 --fold-bn: uint8 [N,H,W,3] in, scores/classes out, recorded in metadata, opset raised to 18; classify reads it; bad pictures get one line', async () => {
    const cwd = fresh();
    const r = await effnet(['export', 'efficientnet-b0', '--resolution', '64', '--embed-preprocessing', '--outputs', 'topk:3', '--fold-bn', '-o', 'e.onnx'], cwd);
    expect(r.code, r.stderr).toBe(0);
    const m = readModel(join(cwd, 'e.onnx'));
    expect(m.opset).toBe(18);
    expect(m.ir.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([['image', 'uint8', ['N', 'H', 'W', 3]]]);
    expect(m.ir.outputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([
      ['scores', 'float32', ['N', 3]],
      ['classes', 'int64', ['N', 3]],
    ]);
    expect(m.metadata['effnet.embedded_preprocessing']).toBe('true');
    expect(m.metadata['effnet.outputs']).toBe('topk:3');
    expect(m.metadata['effnet.fold_bn']).toBe('true');
    const info = await effnet(['inspect', 'e.onnx', '--size', '375x500'], cwd);
    expect(info.stdout).toMatch(/MACs .* at 375x500 \(the input size is dynamic/);
  });

  it('--embed-preprocessing and --layout nhwc files, float32 and int8, classify as the plain file does; grey and RGBA pictures are converted', async () => {
    const cwd = fresh();
    for (const [out, extra] of [
      ['plain.onnx', []],
      ['embedded.onnx', ['--embed-preprocessing']],
      ['nhwc.onnx', ['--layout', 'nhwc']],
    ] as const) {
      const r = await effnet(['export', 'efficientnet-b0', '--resolution', '64', ...extra, '-o', out], cwd);
      expect(r.code, r.stderr).toBe(0);
    }
    const w = 90,
      h = 70;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i >> 7) * 11) & 255;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(cwd, 'a.png'));
    const grey = Buffer.alloc(w * h * 2);
    for (let i = 0; i < grey.length; i++) grey[i] = i % 2 ? 255 : (i * 13) & 255;
    await sharp(grey, { raw: { width: w, height: h, channels: 2 } })
      .png()
      .toFile(join(cwd, 'grey-alpha.png'));
    const top = async (model: string, image: string) => {
      const r = await effnet(['classify', model, image, '--json', '--top', '3'], cwd);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { top: { index: number; probability: number }[] }[])[0]!.top;
    };
    const plain = await top('plain.onnx', 'a.png');
    for (const other of ['embedded.onnx', 'nhwc.onnx']) {
      // Untrained (calibrated formula) weights: the top classes are close, so only the first is compared.
      const t = await top(other, 'a.png');
      expect(t[0]!.index, other).toBe(plain[0]!.index);
      expect(Math.abs(t[0]!.probability - plain[0]!.probability), other).toBeLessThan(0.02);
    }
    expect((await top('embedded.onnx', 'grey-alpha.png')).length).toBe(3);

    // int8: the network is quantized on the float NCHW input (calibration as for the plain file),
    // the input passes go in front of it afterwards. Same calibration → the same quantized network.
    for (const [out, extra] of [
      ['plain-int8.onnx', []],
      ['embedded-int8.onnx', ['--embed-preprocessing']],
      ['nhwc-int8.onnx', ['--layout', 'nhwc']],
    ] as const) {
      const r = await effnet(['export', 'efficientnet-b0', '--resolution', '64', ...extra, '--int8', '--calibration-data', 'builtin', '-o', out], cwd);
      expect(r.code, r.stderr).toBe(0);
      const m = readModel(join(cwd, out));
      expect(m.metadata['effnet.precision'], out).toBe('int8');
      expect(m.ir.nodes.filter((n) => n.op === 'QuantizeLinear').length, out).toBeGreaterThan(50);
    }
    const e8 = readModel(join(cwd, 'embedded-int8.onnx'));
    expect(e8.ir.inputs.map((v) => [v.name, v.dtype])).toEqual([['image', 'uint8']]);
    expect(e8.opset).toBe(18);
    expect(e8.ir.nodes.filter((n) => n.op === 'Resize').length).toBe(2);
    expect(readModel(join(cwd, 'nhwc-int8.onnx')).ir.inputs[0]!.shape).toEqual(['N', 64, 64, 3]);
    const plain8 = await top('plain-int8.onnx', 'a.png');
    // NHWC: a Transpose in front of the same quantized network — the same numbers.
    const nhwc8 = await top('nhwc-int8.onnx', 'a.png');
    expect(nhwc8.map((t) => t.index)).toEqual(plain8.map((t) => t.index));
    nhwc8.forEach((t, i) => expect(Math.abs(t.probability - plain8[i]!.probability)).toBeLessThan(1e-6));
    const emb8 = await top('embedded-int8.onnx', 'a.png');
    expect(emb8[0]!.index).toBe(plain8[0]!.index);
    expect(Math.abs(emb8[0]!.probability - plain8[0]!.probability)).toBeLessThan(0.02);
    writeFileSync(join(cwd, 'empty.png'), Buffer.alloc(0));
    const bad = await effnet(['classify', 'embedded.onnx', 'empty.png'], cwd);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
  it("classify reads effnet.outputs: probs and topk:K files give the logits file's classes and probabilities; a backbone or embedding file exits 2 saying it has no classes", async () => {
    const cwd = fresh();
    for (const [out, extra] of [
      ['logits.onnx', []],
      ['probs.onnx', ['--outputs', 'probs']],
      ['topk.onnx', ['--outputs', 'topk:4']],
      ['features.onnx', ['--features', '3,4']],
      ['embedding.onnx', ['--head', 'none']],
    ] as const) {
      const r = await effnet(['export', 'efficientnet-b0', '--resolution', '64', '--embed-preprocessing', ...extra, '-o', out], cwd);
      expect(r.code, r.stderr).toBe(0);
    }
    const w = 90,
      h = 70;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 29 + (i >> 6) * 7) & 255;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(cwd, 'a.png'));
    const top = async (model: string, k: number) => {
      const r = await effnet(['classify', model, 'a.png', '--json', '--top', String(k)], cwd);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { top: { index: number; probability: number }[] }[])[0]!.top;
    };
    const logits = await top('logits.onnx', 4);
    for (const [model, k, n] of [
      ['probs.onnx', 3, 3],
      ['topk.onnx', 3, 3],
      ['topk.onnx', 10, 4], // at most K
    ] as const) {
      const t = await top(model, k);
      expect(
        t.map((c) => c.index),
        model,
      ).toEqual(logits.slice(0, n).map((c) => c.index));
      expect(t.length).toBe(n);
      for (const [i, c] of t.slice(0, 3).entries()) expect(Math.abs(c.probability - logits[i]!.probability), `${model} class ${c.index}`).toBeLessThan(1e-5);
    }
    expectError(await effnet(['classify', 'features.onnx', 'a.png'], cwd), 2, 'a backbone file (--features)', 'features.3, features.4', 'no classes');
    expectError(await effnet(['classify', 'embedding.onnx', 'a.png'], cwd), 2, 'an embedding file (--head none)', 'no classes');
  });
  requires(sharedData('imagenette/val', 'imagenette/efficientnet_b0-imagenette.safetensors')).it(
    'eval reads effnet.outputs: probs and topk:5 files score as the logits file on Imagenette (the same predictions); a backbone file exits 2',
    async () => {
      const cwd = fresh();
      const weights = join(SHARED, 'imagenette/efficientnet_b0-imagenette.safetensors');
      const val = join(SHARED, 'imagenette/val');
      for (const [out, extra] of [
        ['logits.onnx', []],
        ['probs.onnx', ['--outputs', 'probs']],
        ['topk.onnx', ['--outputs', 'topk:5']],
        ['embedded-topk.onnx', ['--embed-preprocessing', '--outputs', 'topk:5']],
        ['embedding.onnx', ['--head', 'none']],
      ] as const) {
        const r = await effnet(['export', 'efficientnet-b0', '--weights', weights, '--resolution', '160', ...extra, '-o', out], cwd);
        expect(r.code, r.stderr).toBe(0);
      }
      const evalOf = async (model: string) => {
        const r = await effnet(['eval', model, '--data', val, '--limit', '30', '--json', '--predictions', `${model}.csv`], cwd);
        expect(r.code, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout) as { n: number; top1: number; top5: number };
        return { n: j.n, top1: j.top1, top5: j.top5, predictions: readFileSync(join(cwd, `${model}.csv`), 'utf8') };
      };
      const logits = await evalOf('logits.onnx');
      expect(logits.n).toBe(30);
      for (const other of ['probs.onnx', 'topk.onnx']) expect(await evalOf(other), other).toEqual(logits);
      // Pictures decoded and resized in the graph: the same images, close but not identical preprocessing.
      const embedded = await evalOf('embedded-topk.onnx');
      expect(embedded.n).toBe(30);
      expect(Math.abs(embedded.top1 - logits.top1)).toBeLessThanOrEqual(2 / 30);
      expectError(await effnet(['eval', 'embedding.onnx', '--data', val, '--limit', '4'], cwd), 2, 'an embedding file (--head none)', 'no classes');
    },
    300_000,
  );
});
