/**
 * The torch.save reader against ../shared/fixtures-pth: every edge-case file's tensors (dtype,
 * shape, values), the malicious pickle refused with nothing run, and damaged / foreign / empty files
 * refused with one line.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requires, SHARED, sharedData } from '../../../../test-utils/requires.js';
import { openTensorFile } from './tensor-file.js';
import { TorchCheckpoint, TorchCheckpointError } from './torch.js';

const DIR = join(SHARED, 'fixtures-pth');
const tmp = mkdtempSync(join(tmpdir(), 'effnet-pth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DTYPE: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64', int64: 'I64', bool: 'BOOL' };

interface Expected {
  readonly refuse?: boolean;
  readonly tensors?: Record<string, { dtype: string; shape: number[]; values: number[] }>;
}

requires(sharedData('fixtures-pth/expected.json')).describe('torch.save checkpoints (../shared/fixtures-pth)', () => {
  const expected = existsSync(join(DIR, 'expected.json')) ? (JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, Expected>) : {};
  for (const [file, e] of Object.entries(expected)) {
    if (e.refuse) continue;
    it(`${file}: every tensor's dtype, shape and values`, () => {
      const t = TorchCheckpoint.open(join(DIR, file));
      try {
        expect(new Set(t.names)).toEqual(new Set(Object.keys(e.tensors!)));
        for (const [name, want] of Object.entries(e.tensors!)) {
          const info = t.info(name)!;
          expect(info.dtype, name).toBe(DTYPE[want.dtype]);
          expect(info.shape, name).toEqual(want.shape);
          expect([...t.readValues(name)], name).toEqual(want.values);
        }
      } finally {
        t.close();
      }
    });
  }

  it('malicious.pth: refused naming the global, and its command never runs', () => {
    const marker = '/tmp/effnet-pwned';
    rmSync(marker, { force: true });
    expect(() => openTensorFile(join(DIR, 'malicious.pth'))).toThrow(/refused to load global 'posix\.system': a weights file may only hold tensors/);
    expect(existsSync(marker)).toBe(false);
  });

  it('float weights read as float32 (float16 / bfloat16 exact, float64 rounded once); int64 and bool are no weights', () => {
    const f = openTensorFile(join(DIR, 'dtypes.pth'));
    expect([...f.readFloat32('w64')]).toEqual([0, Math.fround(1 / 7), Math.fround(2 / 7)]);
    expect([...f.readFloat32('wbf16')]).toEqual([0, 0.2001953125, 0.400390625, 0.6015625]);
    expect(f.floatDtypes).toContain('F64');
    expect(() => f.readFloat32('steps')).toThrow(/tensor 'steps' is I64, not a floating-point weight/);
  });

  it('a training checkpoint: the weights under state_dict, not the stray scalar tensor beside them', () => {
    const f = openTensorFile(join(DIR, 'checkpoint-dict.pth'));
    expect(f.under).toBe('state_dict');
    expect([...f.names].sort()).toEqual(['conv.bias', 'conv.weight']);
  });

  it('a truncated checkpoint (zip or legacy) is one clear error', () => {
    for (const name of ['metadata.pth', 'legacy-format.pth']) {
      const cut = join(tmp, `cut-${name}`);
      copyFileSync(join(DIR, name), cut);
      truncateSync(cut, Math.floor(readFileSync(cut).length * 0.7));
      expect(() => openTensorFile(cut), name).toThrow(/truncated|ends early|no end-of-central-directory/);
    }
  });
});

/** A pre-1.6 stream: PyTorch's magic number, protocol 1001 and system info pickles, then `body`, then the storage keys. */
function legacy(body: number[]): Uint8Array {
  const magic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
  const protocol = [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e];
  const sys = [0x80, 0x02, 0x7d, 0x2e];
  const keys = [0x80, 0x02, 0x5d, 0x2e];
  return Uint8Array.from([...magic, ...protocol, ...sys, ...body, ...keys]);
}
const str = (s: string) => [0x8c, s.length, ...Buffer.from(s)];

describe('files that hold no weights', () => {
  it('a dict without tensors: the error lists the keys it has', () => {
    const p = join(tmp, 'no-tensors.pth');
    // {'epoch': 3, 'weights': {}}
    writeFileSync(p, legacy([0x80, 0x02, 0x7d, 0x28, ...str('epoch'), 0x4b, 3, ...str('weights'), 0x7d, 0x75, 0x2e]));
    expect(() => openTensorFile(p)).toThrow(new TorchCheckpointError(`${p}: holds no tensors at the top level nor under 'state_dict', 'model', 'model_state_dict'; its keys are: epoch, weights`));
  });

  it('a legacy pickle longer than the first 1 MiB read is read on (reads grow 4× up to 64 MiB)', () => {
    const p = join(tmp, 'long-pickle.pth');
    const note = Buffer.alloc(3 << 20, 'x');
    const len = [note.length & 0xff, (note.length >> 8) & 0xff, (note.length >> 16) & 0xff, note.length >>> 24];
    // {'epoch': 3, 'note': 'xxx…' (3 MiB)}
    writeFileSync(p, legacy([0x80, 0x02, 0x7d, 0x28, ...str('epoch'), 0x4b, 3, ...str('note'), 0x58, ...len, ...note, 0x75, 0x2e]));
    expect(() => openTensorFile(p)).toThrow(`${p}: holds no tensors at the top level nor under 'state_dict', 'model', 'model_state_dict'; its keys are: epoch, note`);
  });

  it('an empty dict, a list, a pickle that is no torch checkpoint, random bytes', () => {
    const empty = join(tmp, 'empty.pth');
    writeFileSync(empty, legacy([0x80, 0x02, 0x7d, 0x2e]));
    expect(() => openTensorFile(empty)).toThrow(`${empty}: an empty dict: holds no tensors`);
    const list = join(tmp, 'list.pth');
    writeFileSync(list, legacy([0x80, 0x02, 0x5d, 0x2e]));
    expect(() => openTensorFile(list)).toThrow(`${list}: holds a list, not a dict of tensors (a state_dict)`);
    const plain = join(tmp, 'plain.pkl');
    writeFileSync(plain, Uint8Array.from([0x80, 0x02, 0x7d, 0x2e]));
    expect(() => openTensorFile(plain)).toThrow(/not a torch\.save checkpoint/);
    const noise = join(tmp, 'noise.pth');
    writeFileSync(noise, Buffer.from('this is a text file, not weights at all'));
    expect(() => openTensorFile(noise)).toThrow(/noise\.pth/);
  });

  it('GLOBAL of anything off the allow-list is refused before later opcodes are read', () => {
    const p = join(tmp, 'builtins.pth');
    // builtins.eval('1') followed by garbage that would fail if read.
    writeFileSync(p, legacy([0x80, 0x02, 0x63, ...Buffer.from('builtins\neval\n'), ...str('1'), 0x85, 0x52, 0xff, 0xff]));
    expect(() => openTensorFile(p)).toThrow(/refused to load global 'builtins\.eval'/);
  });
});
