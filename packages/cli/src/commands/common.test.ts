import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { OptionError } from '@effnet/graph-builder';
import { PASSES, type PassRecord } from '@effnet/pipeline';
import { addModelOptions, addPassOption, prepareOptions } from './common.js';

/** Parses `args` with the pass options of `records`; returns the flags, or the one error line commander printed. */
function parse(records: readonly PassRecord[], args: string[]): Record<string, unknown> | string {
  const errors: string[] = [];
  const cmd = new Command('x').exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => {} });
  for (const r of records) addPassOption(cmd, r);
  try {
    cmd.parse(['node', 'x', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) return errors.join('').trim();
    throw e;
  }
  return cmd.opts();
}

describe('pass flags come from the pipeline pass table', () => {
  it('export registers one flag per graph/write pass, with its help and default', () => {
    const cmd = addModelOptions(new Command('export'), { export: true });
    const flags = new Map(cmd.options.map((o) => [o.long, o]));
    for (const r of PASSES.filter((p) => p.stage !== 'quantize')) {
      const o = flags.get(r.flag.split(' ')[0]!);
      expect(o, r.name).toBeDefined();
      expect(o!.description).toBe(r.help);
      if (r.default !== undefined) expect(o!.defaultValue).toBe(r.default);
    }
    expect(flags.has('--int8')).toBe(false); // with its calibration flags (addInt8Options)
  });

  it('prepareOptions passes every pass option given, and nothing for flags not given', () => {
    expect(prepareOptions({ fp16Io: true, opset: 18, inputName: 'image' })).toMatchObject({ fp16Io: true, opset: 18, inputName: 'image' });
    const o = prepareOptions({});
    for (const r of PASSES) expect(o, r.name).not.toHaveProperty(r.option);
  });

  it('valued records: choices are offered and enforced, a parser is used and its OptionError becomes a usage error naming the flag', () => {
    const layout: PassRecord = { name: 'layout', option: 'inputName', flag: '--layout <l>', help: 'input layout', stage: 'graph', choices: ['nchw', 'nhwc'], default: 'nchw' };
    expect(parse([layout], [])).toEqual({ layout: 'nchw' });
    expect(parse([layout], ['--layout', 'nhwc'])).toEqual({ layout: 'nhwc' });
    expect(parse([layout], ['--layout', 'hwc'])).toMatch(/--layout expects one of nchw, nhwc, got 'hwc'/);
    const features: PassRecord = {
      name: 'features',
      option: 'outputName',
      flag: '--features <i,j>',
      help: 'feature maps',
      stage: 'graph',
      parse: (t) => {
        const v = t.split(',').map(Number);
        if (!v.every((i) => Number.isInteger(i) && i >= 0 && i <= 4)) throw new OptionError('features', `--features ${t}: expected indices 0..4`);
        return v;
      },
    };
    expect(parse([features], ['--features', '2,3,4'])).toEqual({ features: [2, 3, 4] });
    expect(parse([features], ['--features', '7'])).toMatch(/--features 7: expected indices 0\.\.4/);
  });
});
