import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conv, Graph, graphStats, materialize, relu } from '@effnet/graph-builder';
import { readModel, decodeModel } from './read.js';
import { serializeModel, writeModel } from './export.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tiny(c = 4) {
  const g = new Graph('tiny');
  const x = g.input('input', 'float32', ['N', 3, 8, 8]);
  const w = g.initializer(
    'conv.weight',
    'float32',
    [c, 3, 3, 3],
    Float32Array.from({ length: c * 27 }, (_, i) => i / 100),
  );
  g.output(relu(conv(x, w, { pads: [1, 1, 1, 1], label: 'conv' })), 'out');
  return g.build();
}

describe('readModel', () => {
  it('round-trips an exported graph: io, nodes, attrs, data, metadata, stats', () => {
    const ir = tiny();
    const m = decodeModel(serializeModel(ir, { opset: 15, metadata: { b: '2', a: '1' } }));
    expect(m.opset).toBe(15);
    expect(m.irVersion).toBe(8);
    expect(m.metadata).toEqual({ a: '1', b: '2' });
    expect(m.ir.inputs).toEqual(ir.inputs);
    expect(m.ir.outputs).toEqual(ir.outputs);
    expect(m.ir.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'Identity']);
    expect(m.ir.nodes[0]!.attrs.pads).toEqual({ kind: 'ints', value: [1, 1, 1, 1] });
    expect(Array.from(materialize(m.ir.initializers[0]!.data) as Float32Array)).toEqual(Array.from(materialize(ir.initializers[0]!.data) as Float32Array));
    expect(graphStats(m.ir)).toEqual(graphStats(ir));
  });

  it('reads external data written beside the model and refuses to overwrite without overwrite', () => {
    const path = join(dir, 'ext.onnx');
    const r = writeModel(tiny(64), path, { externalData: true, externalThreshold: 16 });
    expect(r.dataPath).toBe(`${path}.data`);
    const m = readModel(path);
    expect(m.externalData).toEqual([`${path}.data`]);
    expect((materialize(m.ir.initializers[0]!.data) as Float32Array)[5]).toBeCloseTo(0.05, 6);
    expect(() => writeModel(tiny(), path)).toThrow(/already exists/);
    expect(readdirSync(dir).filter((f) => f.startsWith('.effnet-tmp'))).toEqual([]);
  });

  it('rejects external data outside the model directory or beyond the data file', () => {
    const path = join(dir, 'ext2.onnx');
    writeModel(tiny(64), path, { externalData: true, externalThreshold: 16 });
    const bytes = readFileSync(path);
    const evil = Buffer.from(bytes.toString('latin1').replace('ext2.onnx.data', '../../x/passwd'), 'latin1');
    writeFileSync(join(dir, 'evil.onnx'), evil);
    expect(() => readModel(join(dir, 'evil.onnx'))).toThrow(/must be a relative path inside the model's directory/);
    writeFileSync(`${path}.data`, Buffer.alloc(10));
    expect(() => readModel(path)).toThrow(/beyond the end of/);
  });

  it('names the file when it is not ONNX or missing', () => {
    const p = join(dir, 'junk.onnx');
    writeFileSync(p, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(() => readModel(p)).toThrow(/junk.onnx: not a valid ONNX model/);
    expect(() => readModel(join(dir, 'missing.onnx'))).toThrow(/missing.onnx: cannot open \(no such file\)/);
    expect(existsSync(join(dir, 'missing.onnx'))).toBe(false);
  });
});
