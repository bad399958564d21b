import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { add, conv, Graph, OptionError, reduceMean, relu, type GraphIR } from '@effnet/graph-builder';
import proto from 'onnx-proto';
import { OutputExistsError } from '@effnet/safe-fs';
import { ExportError, serializeModel, writeModel, writeModelAsync } from './export.js';

const { onnx } = proto;
const root = mkdtempSync(join(tmpdir(), 'effnet-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

/** Conv (lazy weight, eager bias), adds of lazy/eager constants, ReduceMean (opset 18 moves its axes into an int64 initializer). */
function model(wrongLength = false): GraphIR {
  const g = new Graph('streamed');
  const x = g.input('input', 'float32', ['N', 3, 8, 8]);
  const w = g.initializer('conv.weight', 'float32', [16, 3, 3, 3], () => Float32Array.from({ length: wrongLength ? 10 : 16 * 27 }, (_, i) => Math.sin(i)));
  const b = g.initializer(
    'conv.bias',
    'float32',
    [16],
    Float32Array.from({ length: 16 }, (_, i) => i / 16),
  );
  const shift = g.initializer('shift', 'float32', [1, 16, 1, 1], () => new Float32Array(16).fill(0.5));
  const y = add(relu(conv(x, w, { bias: b, pads: [1, 1, 1, 1], label: 'conv' })), shift);
  g.output(reduceMean(add(y, g.initializer('one', 'float32', [1], new Float32Array([0]))), [2, 3]), 'logits');
  return g.build();
}

const meta = { opset: 18, metadata: { 'effnet.model': 'x', a: 'é' }, docString: 'streamed test model' };

describe('streamed ONNX encoding', () => {
  it('gives exactly the bytes protobufjs writes for the whole ModelProto', () => {
    const bytes = serializeModel(model(), meta);
    const decoded = onnx.ModelProto.decode(bytes);
    expect(decoded.graph?.initializer?.map((t) => t.name ?? '')).toEqual(['conv.weight', 'conv.bias', 'shift', 'one', expect.stringMatching(/axes$/)]);
    expect(Buffer.from(onnx.ModelProto.encode(decoded).finish()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writeModel and writeModelAsync write those bytes, inline and as external data', async () => {
    const dir = fresh();
    const bytes = Buffer.from(serializeModel(model(), meta));
    writeModel(model(), join(dir, 'sync.onnx'), meta);
    await writeModelAsync(model(), join(dir, 'async.onnx'), meta);
    expect(readFileSync(join(dir, 'sync.onnx')).equals(bytes)).toBe(true);
    expect(readFileSync(join(dir, 'async.onnx')).equals(bytes)).toBe(true);
    const a = writeModel(model(), join(dir, 'a'), { ...meta, externalData: true, externalThreshold: 16 });
    expect(a.dataPath).toBe(join(dir, 'a.data'));
    const aBytes = readFileSync(join(dir, 'a'));
    rmSync(join(dir, 'a'));
    rmSync(join(dir, 'a.data'));
    await writeModelAsync(model(), join(dir, 'a'), { ...meta, externalData: true, externalThreshold: 16 });
    expect(readFileSync(join(dir, 'a')).equals(aBytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['a', 'a.data', 'async.onnx', 'sync.onnx']);
  });

  it('writeModelAsync lets the event loop run while it writes (so signals are handled)', async () => {
    const dir = fresh();
    const path = join(dir, 'm.onnx');
    let during: string[] | undefined;
    const p = writeModelAsync(model(), path, meta);
    setImmediate(() => (during = readdirSync(dir)));
    await p;
    expect(during).toHaveLength(1);
    expect(during![0]).toMatch(/^\.effnet-tmp-\d+-[0-9a-z]+-m\.onnx$/);
    expect(readdirSync(dir)).toEqual(['m.onnx']);
  });

  it('an opset outside the supported range is an OptionError naming opset', () => {
    for (const opset of [12, 22, 17.5]) {
      expect(() => serializeModel(model(), { ...meta, opset })).toThrow(OptionError);
      expect(() => serializeModel(model(), { ...meta, opset })).toThrow(`opset ${opset} is not supported: choose 13..21`);
    }
  });

  it('a tensor whose data does not match its shape fails the write and leaves nothing', async () => {
    const dir = fresh();
    const path = join(dir, 'bad.onnx');
    expect(() => serializeModel(model(true), meta)).toThrow(ExportError);
    expect(() => writeModel(model(true), path, meta)).toThrow(/initializer 'conv.weight': 10 values \(40 bytes\) for float32 shape \[16,3,3,3\], expected 1728 bytes/);
    await expect(writeModelAsync(model(true), path, { ...meta, externalData: true })).rejects.toThrow(/conv.weight/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses before writing anything when the model or its data file exists', () => {
    const dir = fresh();
    const path = join(dir, 'm.onnx');
    writeFileSync(`${path}.data`, 'keep');
    expect(() => writeModel(model(), path, { ...meta, externalData: true })).toThrow(OutputExistsError);
    expect(readFileSync(`${path}.data`, 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['m.onnx.data']);
    expect(existsSync(path)).toBe(false);
    writeModel(model(), path, { ...meta, externalData: true, overwrite: true });
    expect(readFileSync(`${path}.data`).length).toBeGreaterThan(4);
  });
});
