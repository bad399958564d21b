/**
 * Fuzzing the safetensors reader: every input, however malformed, is either parsed (and then
 * every tensor reads back consistently) or rejected with a one-line SafetensorsError naming the
 * file. Nothing else may escape (no TypeError/RangeError), no case may be slow (no hang), and no
 * allocation may exceed what the input justifies (no OOM). 12,000 cases per run, in memory,
 * with every 100th case also written to a temporary file and read through the file path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { memorySink, READABLE_DTYPES, Safetensors, SafetensorsError, writeSafetensors } from './safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-st-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUNS = 2000; // per property; 6 properties
/**
 * A hang or quadratic blow-up on these tiny inputs would take far longer than this; the bound is
 * loose because the machine is shared and a GC pause may land in any case.
 */
const MAX_CASE_MS = 2000;
/** Per test (reset before each, checked after each): every test stands alone, in any order. */
let slowest = 0;
let cases = 0;
const outcomes = { parsed: 0, rejected: 0 };
beforeEach(() => {
  slowest = cases = 0;
  outcomes.parsed = outcomes.rejected = 0;
});
afterEach((ctx) => {
  const summary = JSON.stringify({ cases, ...outcomes, slowestMs: Math.round(slowest) });
  console.log(`${ctx.task.name}: ${summary}`);
  expect(slowest, summary).toBeLessThan(MAX_CASE_MS);
  expect(cases, summary).toBe(RUNS);
});

const DTYPE_SIZE: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, F64: 8, U8: 1, BOOL: 1 };

function verify(st: Safetensors): void {
  const dataBytes = st.fileBytes - st.dataStart;
  let covered = 0;
  for (const t of st.tensors.values()) {
    expect(t.end).toBeGreaterThanOrEqual(t.begin);
    expect(t.end).toBeLessThanOrEqual(dataBytes);
    covered += t.end - t.begin;
    if ((READABLE_DTYPES as readonly string[]).includes(t.dtype)) expect(st.readFloat32(t.name).length).toBe(t.numel);
    else expect(() => st.readFloat32(t.name)).toThrow(SafetensorsError);
    expect(st.readBytes(t.name).length).toBe(t.end - t.begin);
  }
  // Contiguous, non-overlapping: the tensors' byte ranges add up to the data section exactly.
  expect(covered).toBe(dataBytes);
}

/** The property: parse-and-read succeeds, or fails with a one-line SafetensorsError naming the source. */
function check(bytes: Uint8Array): void {
  const t0 = performance.now();
  const label = `fuzz-${cases}.safetensors`;
  let verdict: string;
  try {
    verify(Safetensors.fromBytes(bytes, label));
    outcomes.parsed++;
    verdict = 'ok';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw new Error(`escaped ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    const msg = e.message;
    expect(msg.startsWith(`${label}: `)).toBe(true);
    expect(msg).not.toContain('\n');
    outcomes.rejected++;
    verdict = msg.slice(label.length);
  } finally {
    slowest = Math.max(slowest, performance.now() - t0);
  }
  if (cases++ % 100 === 0) {
    // Same verdict through the file reader (random access by fd).
    const p = join(dir, label);
    writeFileSync(p, bytes);
    try {
      verify(Safetensors.open(p));
      expect(verdict).toBe('ok');
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      expect(e.message.slice(p.length)).toBe(verdict);
    } finally {
      rmSync(p, { force: true });
    }
  }
}

function seed(): Uint8Array {
  const s = memorySink();
  writeSafetensors(
    s,
    [
      ['conv_stem.weight', { dtype: 'F32', shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)) }],
      ['bn1.weight', { dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0xc000) }],
      ['bn1.bias', { dtype: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0x7f80) }],
      ['bn1.num_batches_tracked', { dtype: 'I64', shape: [], data: BigInt64Array.of(3n) }],
      ['empty', { dtype: 'F32', shape: [0], data: new Float32Array(0) }],
      ['classifier.weight', { dtype: 'F32', shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
    ],
    { metadata: { format: 'pt' } },
  );
  return s.bytes();
}

const SEED = seed();
const HEADER_LEN = Number(new DataView(SEED.buffer, SEED.byteOffset).getBigUint64(0, true));

/** A file from a header text and data, with the length field consistent with the text. */
function assemble(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '-1',
  '0',
  '1e400',
  '9007199254740993',
  '"__proto__"',
  '"__metadata__"',
  '"F64"',
  '"I64"',
  'null',
  '[0,0]',
  '"dtype"',
  '"shape"',
  '"data_offsets"',
  '\\u0000',
  '\u00ff',
];

describe('safetensors reader fuzz (parse or reject with SafetensorsError; no crash, hang or OOM)', () => {
  it('random byte flips anywhere in a valid file', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(SEED.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
        const b = SEED.slice();
        for (const [i, v] of flips) b[i] = v;
        check(b);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncation and appended bytes', () => {
    fc.assert(
      fc.property(fc.nat(SEED.length + 16), fc.uint8Array({ maxLength: 16 }), (cut, extra) => {
        const b = new Uint8Array(Math.min(cut, SEED.length) + extra.length);
        b.set(SEED.subarray(0, Math.min(cut, SEED.length)));
        b.set(extra, Math.min(cut, SEED.length));
        check(b);
      }),
      { numRuns: RUNS },
    );
  });

  it('forged header length fields (any u64)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          fc.integer({ min: HEADER_LEN - 64, max: HEADER_LEN + 64 }).map((v) => BigInt(Math.max(0, v))),
        ),
        (n) => {
          const b = SEED.slice();
          new DataView(b.buffer).setBigUint64(0, n, true);
          check(b);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('header text with tokens spliced in (length field kept consistent)', () => {
    const text = new TextDecoder().decode(SEED.subarray(8, 8 + HEADER_LEN));
    const data = SEED.subarray(8 + HEADER_LEN);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(text.length), fc.nat(6), fc.constantFrom(...TOKENS)), { minLength: 1, maxLength: 4 }), (edits) => {
        let t = text;
        for (const [at, del, tok] of edits) t = t.slice(0, at) + tok + t.slice(at + del);
        check(assemble(t, data));
      }),
      { numRuns: RUNS },
    );
  });

  it('structurally random headers: dtypes, shapes and offsets of any value', () => {
    const dim = fc.oneof(fc.nat(6), fc.constantFrom(-1, 2 ** 31, 2 ** 53, 2 ** 60, 1.5, 0));
    const dtype = fc.oneof(fc.constantFrom(...Object.keys(DTYPE_SIZE)), fc.constantFrom('F8_E4M3', 'C64', 'f32', '', 'U64'), fc.string({ maxLength: 4 }));
    const entry = fc.record({
      name: fc.oneof(fc.constantFrom('a', 'b', 'c', '__proto__', '__metadata__', 'constructor', 'toString'), fc.string({ maxLength: 6 })),
      dtype,
      shape: fc.oneof(fc.array(dim, { maxLength: 4 }), fc.constant('x' as unknown as number[])),
      offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), fc.tuple(dim, dim)),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, fc.integer({ min: -8, max: 8 })), { maxLength: 6 }), fc.nat(96), fc.constantFrom('random', 'tile', 'jitter'), (entries, dataLen, mode) => {
        // 'tile' lays the offsets out contiguously from the shapes (valid files occur); 'jitter'
        // shifts each start a little (overlaps and gaps with consistent byte lengths).
        let at = 0;
        const parts = entries.map(([e, shift]) => {
          let offsets: readonly number[] = e.offsets;
          if (mode !== 'random' && Array.isArray(e.shape) && e.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d < 8)) {
            const bytes = e.shape.reduce((p, d) => p * d, 1) * (DTYPE_SIZE[e.dtype] ?? 1);
            const begin = mode === 'jitter' ? Math.max(0, at + shift) : at;
            offsets = [begin, begin + bytes];
            at = Math.max(at, begin + bytes);
          }
          return `${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: offsets })}`;
        });
        check(assemble(`{${parts.join(',')}}`, new Uint8Array(mode === 'random' ? dataLen : at)));
      }),
      { numRuns: RUNS },
    );
    // Both outcomes (2,000 runs: ~230 parse, ~1,770 rejected).
    expect(outcomes.parsed, JSON.stringify(outcomes)).toBeGreaterThan(50);
    expect(outcomes.rejected, JSON.stringify(outcomes)).toBeGreaterThan(1000);
  });

  it('random bytes after a plausible length field', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(80), (body, n) => {
        const b = new Uint8Array(8 + body.length);
        new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
        b.set(body, 8);
        if (body.length > 0 && n > 0) b[8] = 0x7b;
        check(b);
      }),
      { numRuns: RUNS },
    );
  });
});
