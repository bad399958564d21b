import { describe, expect, it } from 'vitest';
import { safeDeep, safeText, terminalSafeJson } from './text.js';

describe('safeText', () => {
  it('writes every control character as a visible escape and leaves other text alone', () => {
    expect(safeText('\x1b]0;title\x07')).toBe('\\e]0;title\\x07');
    expect(safeText('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(safeText('\x00\x7f\x9b')).toBe('\\x00\\x7f\\x9b');
    expect(safeText('abc\u202edef\u2066')).toBe('abc\\u202edef\\u2066');
    expect(safeText('tench, Tinca tinca — 鯉 é')).toBe('tench, Tinca tinca — 鯉 é');
  });

  it('safeDeep escapes keys and values at any depth, and keeps numbers', () => {
    expect(safeDeep({ a: ['\x1b[2J', 1], 'k\x07': { b: '\n' }, n: null })).toEqual({ a: ['\\e[2J', 1], 'k\\x07': { b: '\\n' }, n: null });
  });

  it('terminalSafeJson escapes what JSON.stringify leaves raw, and is still the same JSON', () => {
    const v = { s: 'x\u009b31m\u007f\u202e' };
    const j = terminalSafeJson(JSON.stringify(v));
    expect(j).not.toMatch(/[\u007f-\u009f\u202e]/);
    expect(JSON.parse(j)).toEqual(v);
  });
});
