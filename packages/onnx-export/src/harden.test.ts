/**
 * Hostile and unlucky files: FIFOs and devices instead of models, external data from another
 * export, external data symlinked out of the model's folder, and the size estimate behind the
 * free-space check.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conv, Graph, relu } from '@effnet/graph-builder';
import { estimateModelSize, writeModel } from './export.js';
import { readRegularFile } from '@effnet/safe-fs';
import { EXTERNAL_DATA_KEYS, readModel, verifyExternalData } from './read.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-harden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tiny(c = 64, scale = 1) {
  const g = new Graph('tiny');
  const x = g.input('input', 'float32', ['N', 3, 8, 8]);
  const w = g.initializer(
    'conv.weight',
    'float32',
    [c, 3, 3, 3],
    Float32Array.from({ length: c * 27 }, (_, i) => (scale * i) / 100),
  );
  g.output(relu(conv(x, w, { pads: [1, 1, 1, 1], label: 'conv' })), 'out');
  return g.build();
}

function fifo(name: string): string {
  const p = join(dir, name);
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  return p;
}

describe('only regular files are read', () => {
  it('a FIFO as the model: refused at once, naming the file and its type', () => {
    const p = fifo('pipe.onnx');
    expect(() => readModel(p)).toThrow(`${p}: model is a FIFO (named pipe), expected a regular file`);
  });

  it('/dev/zero as the model: refused, not read until memory runs out', () => {
    expect(() => readModel('/dev/zero')).toThrow('/dev/zero: model is a character device, expected a regular file');
  });

  it('a directory as the model', () => {
    expect(() => readModel(dir)).toThrow(/is a directory/);
  });

  it('readRegularFile caps what it reads', () => {
    const p = join(dir, 'ten.bin');
    writeFileSync(p, Buffer.alloc(10));
    expect(readRegularFile(p, 'file', 10)).toHaveLength(10);
    expect(() => readRegularFile(p, 'labels file', 9)).toThrow(`${p}: labels file of 10 bytes is over the limit of 9 bytes`);
  });

  it('a FIFO as the external data file', () => {
    const d = join(dir, 'fifo-data');
    mkdirSync(d);
    const path = join(d, 'm.onnx');
    writeModel(tiny(), path, { externalData: true, externalThreshold: 16 });
    rmSync(`${path}.data`);
    spawnSync('mkfifo', [`${path}.data`]);
    expect(() => readModel(path)).toThrow(/m\.onnx\.data: external data file is a FIFO \(named pipe\), expected a regular file/);
  });
});

describe("external data: a model never runs with another export's data file", () => {
  it('records the data file, its size and sha256 in the model', () => {
    const path = join(dir, 'rec.onnx');
    const r = writeModel(tiny(), path, { externalData: true, externalThreshold: 16 });
    const m = readModel(path);
    expect(m.metadata[EXTERNAL_DATA_KEYS.file]).toBe('rec.onnx.data');
    expect(Number(m.metadata[EXTERNAL_DATA_KEYS.bytes])).toBe(r.dataBytes);
    expect(m.metadata[EXTERNAL_DATA_KEYS.sha256]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an old model beside a new data file of the same size (different weights): refused naming both files', () => {
    const a = join(dir, 'mix-a');
    const b = join(dir, 'mix-b');
    mkdirSync(a);
    mkdirSync(b);
    writeModel(tiny(64, 1), join(a, 'm.onnx'), { externalData: true, externalThreshold: 16 });
    writeModel(tiny(64, 2), join(b, 'm.onnx'), { externalData: true, externalThreshold: 16 });
    expect(statSync(join(a, 'm.onnx.data')).size).toBe(statSync(join(b, 'm.onnx.data')).size);
    readModel(join(a, 'm.onnx'));
    verifyExternalData(join(a, 'm.onnx'));
    // What a kill between the two renames of `export --force` leaves: the new data, the old model.
    renameSync(join(b, 'm.onnx.data'), join(a, 'm.onnx.data'));
    const msg = /m\.onnx: external data file '.*mix-a\/m\.onnx\.data' is not the one this model was written with .*sha256.*different exports/;
    expect(() => readModel(join(a, 'm.onnx'))).toThrow(msg);
    expect(() => verifyExternalData(join(a, 'm.onnx'))).toThrow(msg);
  });

  it('a data file of another size: refused before hashing', () => {
    const d = join(dir, 'mix-size');
    mkdirSync(d);
    const path = join(d, 'm.onnx');
    writeModel(tiny(64), path, { externalData: true, externalThreshold: 16 });
    writeModel(tiny(128), join(d, 'other.onnx'), { externalData: true, externalThreshold: 16 });
    copyFileSync(join(d, 'other.onnx.data'), `${path}.data`);
    expect(() => readModel(path)).toThrow(/not the one this model was written with \(expected \d+ bytes, .*found 13824 bytes\)/);
  });
});

describe('external data stays inside the model directory (as onnxruntime requires)', () => {
  it('a symlink pointing out of the folder is refused, not followed and counted', () => {
    const outside = join(dir, 'outside');
    const inside = join(dir, 'inside');
    mkdirSync(outside);
    mkdirSync(inside);
    writeModel(tiny(), join(outside, 'm.onnx'), { externalData: true, externalThreshold: 16 });
    renameSync(join(outside, 'm.onnx'), join(inside, 'm.onnx'));
    symlinkSync(join(outside, 'm.onnx.data'), join(inside, 'm.onnx.data'));
    expect(() => readModel(join(inside, 'm.onnx'))).toThrow(/external data file '.*inside\/m\.onnx\.data' resolves to '.*outside\/m\.onnx\.data', outside the model's directory/);
  });

  it('a symlink inside the folder is fine', () => {
    const d = join(dir, 'inner-link');
    mkdirSync(join(d, 'blobs'), { recursive: true });
    writeModel(tiny(), join(d, 'm.onnx'), { externalData: true, externalThreshold: 16 });
    renameSync(join(d, 'm.onnx.data'), join(d, 'blobs', 'x.data'));
    symlinkSync(join(d, 'blobs', 'x.data'), join(d, 'm.onnx.data'));
    expect(readModel(join(d, 'm.onnx')).externalData).toEqual([join(d, 'm.onnx.data')]);
  });
});

describe('estimateModelSize', () => {
  it('is within a few KiB of what is written, inline and external', () => {
    const ir = tiny(256);
    const inline = writeModel(ir, join(dir, 'est-inline.onnx'));
    const e1 = estimateModelSize(ir);
    expect(e1.external).toBe(false);
    expect(e1.bytes).toBeGreaterThanOrEqual(inline.bytes);
    expect(e1.bytes - inline.bytes).toBeLessThan(128 * 1024);
    const ext = writeModel(ir, join(dir, 'est-ext.onnx'), { externalData: true, externalThreshold: 16 });
    const e2 = estimateModelSize(ir, { externalData: true, externalThreshold: 16 });
    expect(e2.external).toBe(true);
    expect(e2.dataBytes).toBe(ext.dataBytes);
    expect(e2.bytes).toBeGreaterThanOrEqual(ext.bytes);
    expect(existsSync(join(dir, 'est-ext.onnx.data'))).toBe(true);
  });
});
