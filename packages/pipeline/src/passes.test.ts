import { describe, expect, it } from 'vitest';
import { OptionError } from '@effnet/graph-builder';
import { decodeModel } from '@effnet/onnx-export';
import { applyGraphPasses, PASSES, passMetadata, resolvePasses } from './passes.js';
import { prepareModel } from './prepare.js';
import { prepareInt8Model } from './int8.js';

const names = PASSES.map((p) => p.name);

describe('the pass table', () => {
  it('is consistent: unique names, options and flags; requires/excludes name passes of the table; graph passes have a function or say who runs them', () => {
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(PASSES.map((p) => p.option)).size).toBe(PASSES.length);
    expect(new Set(PASSES.map((p) => p.flag.split(' ')[0])).size).toBe(PASSES.length);
    for (const p of PASSES) {
      for (const r of p.requires ?? []) expect(names, `${p.name} requires ${r}`).toContain(r);
      for (const x of p.excludes ?? []) expect(names, `${p.name} excludes ${x.pass}`).toContain(x.pass);
      expect(p.flag).toMatch(/^--[a-z0-9-]+( <[A-Za-z]+>| \[[A-Za-z]+\])?$/);
    }
  });

  it('int8 requires fold-bn and raises the opset to 13; fp16-io turns fp16 on', () => {
    const r = resolvePasses({ int8: true, opset: 12 });
    expect(r.on).toEqual(['fold-bn', 'int8', 'opset']);
    expect(r.options.foldBn).toBe(true);
    expect(r.opset).toBe(13);
    expect(resolvePasses({ int8: true, opset: 18 }).opset).toBe(18);
    const h = resolvePasses({ fp16Io: true });
    expect(h.on).toEqual(['fp16', 'fp16-io']);
    expect(passMetadata(h)['effnet.precision']).toBe('float16');
    expect(resolvePasses({}).on).toEqual([]);
  });

  it('refuses excluded passes with one OptionError naming the flags as given', () => {
    const fail = (o: Parameters<typeof resolvePasses>[0]) => {
      try {
        resolvePasses(o);
      } catch (e) {
        expect(e).toBeInstanceOf(OptionError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(fail({ int8: true, fp16: true })).toBe('--int8 with --fp16: choose one precision');
    expect(fail({ int8: true, fp16Io: true })).toBe('--int8 with --fp16-io: choose one precision');
    expect(fail({ inputName: 'x', outputName: 'x' })).toBe("--input-name and --output-name are both 'x': give the input and the output different names");
  });

  it('runs the graph passes that are on, in table order, and the renames always', () => {
    const p = prepareModel('efficientnet-b0', { resolution: 32, numClasses: 3, calibrate: false });
    const plain = applyGraphPasses(p.built.ir, resolvePasses({}));
    expect(plain.inputs[0]!.name).toBe('input');
    expect(plain.nodes.some((n) => n.op === 'BatchNormalization')).toBe(true);
    const folded = applyGraphPasses(p.built.ir, resolvePasses({ int8: true, inputName: 'image' }));
    expect(folded.nodes.some((n) => n.op === 'BatchNormalization')).toBe(false);
    expect(folded.inputs[0]!.name).toBe('image');
    const half = applyGraphPasses(p.built.ir, resolvePasses({ fp16Io: true }));
    expect(half.inputs[0]!.dtype).toBe('float16');
  });
});

describe('the pipeline runs the table', () => {
  it('prepareModel: fp16Io alone is an fp16 file with float16 input; conflicting names refused before building', () => {
    const p = prepareModel('efficientnet-b0', { resolution: 32, numClasses: 3, calibrate: false, fp16Io: true });
    expect(p.metadata['effnet.precision']).toBe('float16');
    expect(decodeModel(p.serialize()).ir.inputs[0]!.dtype).toBe('float16');
    expect(() => prepareModel('efficientnet-b0', { inputName: 'a', outputName: 'a' })).toThrow(OptionError);
  });

  it('prepareInt8Model refuses fp16 with the table message, before any calibration', async () => {
    await expect(prepareInt8Model('efficientnet-b0', { resolution: 32, fp16Io: true, int8: { calibration: { kind: 'builtin' } } })).rejects.toThrow('--int8 with --fp16-io: choose one precision');
  });
});
