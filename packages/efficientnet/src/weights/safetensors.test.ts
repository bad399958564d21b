import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32ToFloat16Bits } from '@effnet/graph-builder';
import { requires, SHARED, sharedData } from '../../../../test-utils/requires.js';
import { MAX_HEADER_BYTES, memorySink, Safetensors, SafetensorsError, writeSafetensors, type TensorToWrite } from './safetensors.js';

const BN_FILE = join(SHARED, 'fixtures/timm-efficientnet_b0/bn.safetensors');

const dir = mkdtempSync(join(tmpdir(), 'effnet-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** A file made byte by byte: header text (or object), data bytes, optional forged length field. */
function raw(header: string | object, data: Uint8Array = new Uint8Array(0), o: { length?: bigint } = {}): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, o.length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function toFile(bytes: Uint8Array): string {
  const p = join(dir, `f${counter++}.safetensors`);
  writeFileSync(p, bytes);
  return p;
}

/** Opens the bytes as a file; returns the error message (asserting it is a one-line SafetensorsError naming the file). */
function openError(bytes: Uint8Array): string {
  const p = toFile(bytes);
  try {
    Safetensors.open(p);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    const msg = (e as Error).message;
    expect(msg.startsWith(`${p}: `)).toBe(true);
    expect(msg).not.toContain('\n');
    // The in-memory parser gives the same verdict.
    expect(() => Safetensors.fromBytes(bytes, p)).toThrow(msg);
    return msg;
  }
  throw new Error('expected the file to be rejected');
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe('safetensors round trip', () => {
  it('F32, F16 and BF16 tensors come back as the same float32 values; metadata and order kept', () => {
    const a = Float32Array.from([0, -0, 1.5, -2.25, 3.4028234663852886e38, 1e-45, Infinity, -Infinity, NaN]);
    const half = Float32Array.from([0, 1, -2, 0.333251953125, 65504, 5.960464477539063e-8, -Infinity]);
    const bf = Float32Array.from([1, -3.140625, 1e30 /* rounds */, 0]);
    const bfBits = Uint16Array.from(bf, (v) => new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16);
    const tensors: [string, TensorToWrite][] = [
      ['a', { dtype: 'F32', shape: [3, 3], data: a }],
      ['h', { dtype: 'F16', shape: [7], data: Uint16Array.from(half, float32ToFloat16Bits) }],
      ['b', { dtype: 'BF16', shape: [2, 2], data: () => bfBits }],
      ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
      ['steps', { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) }],
    ];
    const sink = memorySink();
    const n = writeSafetensors(sink, tensors, { metadata: { format: 'pt', note: '__proto__ is fine as a value' } });
    const bytes = sink.bytes();
    expect(bytes.length).toBe(n);
    expect(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) % 8).toBe(0);
    for (const st of [Safetensors.fromBytes(bytes), Safetensors.open(toFile(bytes))]) {
      expect(st.names).toEqual(['a', 'h', 'b', 'empty', 'steps']);
      expect(st.metadata.get('format')).toBe('pt');
      expect([...st.readFloat32('a')]).toEqual([...a]);
      expect([...st.readFloat32('h')]).toEqual([...half]);
      expect([...st.readFloat32('b')]).toEqual([...bfBits].map((b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]));
      expect(st.readFloat32('b')[0]).toBe(1);
      expect(st.readFloat32('empty').length).toBe(0);
      expect(st.info('steps')).toMatchObject({ dtype: 'I64', shape: [], numel: 1 });
      expect(new BigInt64Array(st.readBytes('steps').buffer)[0]).toBe(7n);
    }
  });

  requires(sharedData('fixtures/timm-efficientnet_b0/bn.safetensors')).it(`reads a file written by the Python safetensors library (${BN_FILE})`, () => {
    const st = Safetensors.open(BN_FILE);
    expect(st.info('bn1.running_var')).toMatchObject({ dtype: 'F32', shape: [32] });
    const v = st.readFloat32('bn1.running_var');
    expect(v.every((x) => x > 0 && Number.isFinite(x))).toBe(true);
    expect(st.names.every((n) => /(weight|bias|running_mean|running_var)$/.test(n))).toBe(true);
  });

  it('random access: a 3 GiB (sparse) file opens without reading its data; a tensor past 2^31 reads alone', () => {
    const big = 3 * 2 ** 30;
    const header = JSON.stringify({ big: { dtype: 'F32', shape: [big / 4], data_offsets: [0, big] }, small: { dtype: 'F32', shape: [3], data_offsets: [big, big + 12] } });
    const p = join(dir, 'sparse.safetensors');
    const fd = openSync(p, 'w');
    try {
      const h = Buffer.from(header);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      writeSync(fd, len, 0, 8, 0);
      writeSync(fd, h, 0, h.length, 8);
      writeSync(fd, f32(1.5, -2, 3), 0, 12, 8 + h.length + big);
    } finally {
      closeSync(fd);
    }
    const before = process.memoryUsage().rss;
    const st = Safetensors.open(p);
    expect(st.fileBytes).toBe(8 + header.length + big + 12);
    expect([...st.readFloat32('small')]).toEqual([1.5, -2, 3]);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
    rmSync(p);
  });

  it('the writer refuses data whose size does not match the shape, and duplicate names', () => {
    expect(() => writeSafetensors(memorySink(), [['x', { dtype: 'F32', shape: [3], data: new Float32Array(2) }]])).toThrow(/'x'.*8 bytes.*needs 12/);
    const t: TensorToWrite = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    expect(() =>
      writeSafetensors(memorySink(), [
        ['x', t],
        ['x', t],
      ]),
    ).toThrow(/'x' given twice/);
    expect(() => writeSafetensors(memorySink(), [['__proto__', t]])).toThrow(/'__proto__' cannot be a tensor name/);
    expect(() => writeSafetensors(memorySink(), [], { metadata: JSON.parse('{"__proto__":"x"}') as Record<string, string> })).toThrow(/'__proto__' cannot be a metadata key/);
  });
});

describe('bad safetensors files: one-line errors naming file and tensor', () => {
  const good = () => {
    const s = memorySink();
    writeSafetensors(s, [
      ['conv.weight', { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }],
      ['conv.bias', { dtype: 'F32', shape: [2], data: Float32Array.of(5, 6) }],
    ]);
    return s.bytes();
  };

  it('missing file', () => {
    expect(() => Safetensors.open(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors: cannot open weights file \(no such file\)/);
  });

  it('truncated file (data cut short)', () => {
    const b = good();
    expect(openError(b.subarray(0, b.length - 3))).toMatch(/tensor 'conv\.bias': data_offsets \[16, 24\] run past the end of the data \(21 bytes .*truncated/);
  });

  it('truncated inside the length field', () => {
    expect(openError(good().subarray(0, 5))).toMatch(/file is 5 bytes, too short for the 8-byte header length/);
  });

  it('header length beyond the file', () => {
    const b = good();
    expect(openError(b.subarray(0, 40))).toMatch(/header length \d+ runs past the end of the file \(40 bytes; truncated\?\)/);
    expect(openError(raw('{}', new Uint8Array(0), { length: 1000n }))).toMatch(/header length 1000 runs past the end of the file/);
  });

  it('header length above the 100 MB limit (and u64 values beyond 2^53)', () => {
    expect(openError(raw('{}', new Uint8Array(0), { length: BigInt(MAX_HEADER_BYTES + 1) }))).toMatch(/header length 100000001 exceeds the 100000000-byte limit/);
    expect(openError(raw('{}', new Uint8Array(0), { length: 2n ** 64n - 1n }))).toMatch(/header length 18446744073709551615 exceeds/);
  });

  it('overlapping offsets', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expect(openError(raw(h, new Uint8Array(12)))).toMatch(/tensors 'a' \[0, 8\] and 'b' \[4, 12\] overlap/);
    const same = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(openError(raw(same, new Uint8Array(8)))).toMatch(/overlap/);
  });

  it('offsets out of range, reversed, or leaving gaps / trailing bytes', () => {
    expect(openError(raw({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)))).toMatch(/tensor 'w': data_offsets \[0, 16\] run past the end of the data \(8 bytes/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, new Uint8Array(8)))).toMatch(/tensor 'w': data_offsets \[8, 4\] end before they begin/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)))).toMatch(/4 bytes before tensor 'w' \[4, 8\] belong to no tensor/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)))).toMatch(/4 bytes after the last tensor's data belong to no tensor/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, new Uint8Array(8)))).toMatch(/tensor 'w': data_offsets must be \[begin, end\]/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 2 ** 60] } }, new Uint8Array(4)))).toMatch(/tensor 'w': data_offsets must be/);
  });

  it('shape and dtype inconsistent with the byte length', () => {
    expect(openError(raw({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)))).toMatch(/tensor 'w': shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, new Uint8Array(8)))).toMatch(/tensor 'w': shape .* is too large/);
    expect(openError(raw({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, new Uint8Array(8)))).toMatch(/tensor 'w': shape must be a list of non-negative integers/);
  });

  it('unknown dtype is rejected on open; known but unsupported dtypes (I64, F64) on read, naming the supported ones', () => {
    expect(openError(raw({ w: { dtype: 'Q7', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)))).toMatch(/tensor 'w': unknown dtype "Q7" \(safetensors dtypes: BOOL, U8/);
    const p = toFile(raw({ steps: { dtype: 'I64', shape: [], data_offsets: [0, 8] }, w: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }, new Uint8Array(16)));
    const st = Safetensors.open(p);
    expect(() => st.readFloat32('steps')).toThrow(`${p}: tensor 'steps' has dtype I64; supported dtypes are F32, F16, BF16`);
    expect(() => st.readFloat32('w')).toThrow(`${p}: tensor 'w' has dtype F64; supported dtypes are F32, F16, BF16`);
    expect(() => st.readFloat32('nope')).toThrow(`${p}: no tensor 'nope'`);
  });

  it('__proto__ keys are refused and pollute nothing', () => {
    const evil = '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(openError(raw(evil, new Uint8Array(8)))).toMatch(/key '__proto__' is not allowed/);
    const meta = '{"__metadata__":{"__proto__":"x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"__proto__":{"polluted":1}}}';
    expect(openError(raw(meta, new Uint8Array(4)))).toMatch(/key '__proto__' is not allowed in __metadata__/);
    // Nested __proto__ inside a tensor entry is just an ignored field: parsed, nothing polluted.
    const nested = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"__proto__":{"polluted":1}}}';
    expect(Safetensors.fromBytes(raw(nested, f32(2))).readFloat32('w')[0]).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).dtype).toBeUndefined();
  });

  it('a header that is not a UTF-8 JSON object', () => {
    expect(openError(raw('[1,2]'))).toMatch(/header does not start with '\{'/);
    expect(openError(raw('{"a":'))).toMatch(/header is not valid JSON/);
    const bad = new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]);
    const b = new Uint8Array(8 + bad.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(bad.length), true);
    b.set(bad, 8);
    expect(openError(b)).toMatch(/header is not valid UTF-8/);
    expect(openError(raw('{"w":[1,2]}'))).toMatch(/tensor 'w': entry must be an object/);
    expect(openError(raw('{"__metadata__":{"k":1}}'))).toMatch(/__metadata__ 'k' must be a string/);
  });

  it('an empty header {} padded with spaces is a valid empty file', () => {
    expect(Safetensors.fromBytes(raw('{}      ')).names).toEqual([]);
  });
});
