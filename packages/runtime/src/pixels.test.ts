import { describe, expect, it } from 'vitest';
import { checkPixels, inputKindOf, MAX_PIXELS_SIDE } from './runner.js';

describe('pixels input (embedded-preprocessing files)', () => {
  it('input kind from the first input: uint8 [N,H,W,3] → pixels, float [N,R,R,3] → nhwc, else nchw', () => {
    expect(inputKindOf({ type: 'uint8', shape: ['N', 'H', 'W', 3] })).toBe('pixels');
    expect(inputKindOf({ type: 'float32', shape: ['N', 224, 224, 3] })).toBe('nhwc');
    expect(inputKindOf({ type: 'float32', shape: ['N', 'H', 'W', 3] })).toBe('nhwc');
    expect(inputKindOf({ type: 'float32', shape: ['N', 3, 224, 224] })).toBe('nchw');
    expect(inputKindOf({ type: 'float32', shape: ['N', 3, 'H', 'W'] })).toBe('nchw');
    expect(inputKindOf({ name: 'x' } as never)).toBe('nchw');
  });

  it('one line for float data, 1 or 4 channels, an empty picture, an over-limit picture, a wrong byte count', () => {
    const ok = new Uint8Array(2 * 3 * 3);
    expect(() => checkPixels('image', ok, [1, 2, 3, 3])).not.toThrow();
    const one = (f: () => void, re: RegExp) => {
      let msg = '';
      try {
        f();
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toMatch(re);
      expect(msg.split('\n')).toHaveLength(1);
    };
    one(() => checkPixels('image', new Float32Array(18), [1, 2, 3, 3]), /'image' takes decoded uint8 RGB pixels .* given Float32Array data/);
    one(() => checkPixels('image', new Uint8Array(6), [1, 2, 3, 1]), /3 channels\); got 1 channel:/);
    one(() => checkPixels('image', new Uint8Array(24), [1, 2, 3, 4]), /got 4 channels/);
    one(() => checkPixels('image', new Uint8Array(0), [1, 0, 3, 3]), /the picture is empty/);
    one(() => checkPixels('image', new Uint8Array(0), [1, MAX_PIXELS_SIDE + 1, 1, 3]), /over effnet's limit/);
    one(() => checkPixels('image', new Uint8Array(5), [1, 2, 3, 3]), /5 bytes for \[1,2,3,3\] \(18 expected\)/);
    one(() => checkPixels('image', new Uint8Array(18), [2, 3, 3]), /takes a picture batch \[N,H,W,3\]/);
  });
});
