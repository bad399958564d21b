/** Exit codes are decided by error class (exported by the libraries), never by name strings or by RangeError. */
import { describe, expect, it } from 'vitest';
import { EpUnavailableError } from '@effnet/runtime';
import { BlockStringError, UnknownModelError } from '@effnet/efficientnet';
import { OptionError } from '@effnet/graph-builder';
import { ExportError, ModelReadError } from '@effnet/onnx-export';
import { OutputExistsError } from '@effnet/safe-fs';
import { EXIT_RUNTIME, EXIT_USAGE, UsageError } from './errors.js';
import { exitCodeOf } from './main.js';

describe('exitCodeOf', () => {
  it('usage errors (2): UsageError, OptionError, UnknownModelError, BlockStringError, OutputExistsError', () => {
    for (const e of [new UsageError('x'), new OptionError('resolution', 'x'), new UnknownModelError('x'), new BlockStringError('x'), new OutputExistsError('/tmp/x.onnx')])
      expect(exitCodeOf(e), e.constructor.name).toBe(EXIT_USAGE);
  });

  it('everything else is a runtime failure (1): engine RangeErrors, unavailable EPs, I/O, and errors merely named like usage errors', () => {
    const named = new Error('x');
    named.name = 'UsageError';
    const cases = [
      new RangeError('Maximum call stack size exceeded'),
      new RangeError('resolution must be a positive integer'),
      new EpUnavailableError('--ep cuda: x'),
      new ExportError('x'),
      new ModelReadError('x'),
      new Error('x'),
      named,
      'a string',
    ];
    for (const e of cases) expect(exitCodeOf(e), String(e)).toBe(EXIT_RUNTIME);
  });
});
