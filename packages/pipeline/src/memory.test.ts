import { describe, expect, it } from 'vitest';
import { OptionError } from '@effnet/graph-builder';
import { largestFittingBatch, largestFittingResolution, memoryLimitFromEnv } from './memory.js';

describe('memory limits', () => {
  it('EFFNET_MEMORY_LIMIT: bytes or decimal units; anything else an OptionError naming the variable', () => {
    const read = (v: string) => memoryLimitFromEnv({ EFFNET_MEMORY_LIMIT: v });
    expect([read('2G'), read('500M'), read('1.5e9'), read('64kB'), read('3g')]).toEqual([2e9, 500e6, 1.5e9, 64e3, 3e9]);
    expect(memoryLimitFromEnv({})).toBeUndefined();
    for (const bad of ['lots', '-1G', '0', '2X'])
      expect(() => read(bad)).toThrow(expect.objectContaining({ constructor: OptionError, option: 'EFFNET_MEMORY_LIMIT', message: expect.stringMatching(/expected a size in bytes/) }));
  });

  it('the largest batch and resolution that fit: fixed part first, then the part that grows', () => {
    // 1 GB fixed + 100 MB an image.
    const m = { bytes: 1e9 + 16 * 100e6, scaling: 16 * 100e6, perImage: 100e6 };
    expect(largestFittingBatch(m, 3.05e9)).toBe(20);
    expect(largestFittingBatch(m, 0.9e9)).toBe(0);
    // 4096 px: 1 GB fixed + 16 GB growing with pixels; 5 GB leave 4 GB = a quarter of the pixels: half the side.
    expect(largestFittingResolution({ bytes: 17e9, scaling: 16e9 }, 4096, 5e9)).toBe(2048);
    expect(largestFittingResolution({ bytes: 17e9, scaling: 16e9 }, 4096, 0.5e9)).toBeUndefined();
  });
});
