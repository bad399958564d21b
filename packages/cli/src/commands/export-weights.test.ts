/**
 * `effnet export --weights`: good files export with the classes of the file; bad files and weights
 * that do not fit fail with one line naming the file and tensor, exit 1, and write nothing.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildModel, fill, writeSafetensors, type TensorToWrite } from '@effnet/efficientnet';
import { readModel } from '@effnet/onnx-export';
import { runCli as run } from '../test-utils/run.js';

const dir = mkdtempSync(join(tmpdir(), 'effnet-export-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** A tiny EfficientNet: width 0.25, depth 0.25, 32 px, 7 classes in the file. */
const MODEL = ['efficientnet', '--width', '0.25', '--depth', '0.25', '--resolution', '32'];
const params = buildModel('efficientnet', { width: 0.25, depth: 0.25, resolution: 32, numClasses: 7 }).ir.initializers.map((i) => [i.name, i.shape] as const);

function weightsFile(name: string, tensors: Iterable<readonly [string, TensorToWrite]>): string {
  const p = join(dir, name);
  const fd = openSync(p, 'w');
  try {
    writeSafetensors({ write: (b) => void writeSync(fd, b) }, tensors);
  } finally {
    closeSync(fd);
  }
  return p;
}

const good = weightsFile(
  'good.safetensors',
  params.map(([n, s]) => [n, { dtype: 'F32', shape: s, data: () => fill(n, s) }]),
);

async function expectFailure(args: string[], message: RegExp | string, code = 1): Promise<void> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.onnx`);
  const r = await run(['export', ...args, '--out', out]);
  expect(r.code).toBe(code);
  expect(r.err.endsWith('\n')).toBe(true);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err.startsWith('effnet: error: ')).toBe(true);
  if (typeof message === 'string') expect(r.err).toContain(message);
  else expect(r.err).toMatch(message);
  expect(existsSync(out)).toBe(false);
}

describe('effnet export --weights', () => {
  it('exports with the weights and the number of classes of the file', async () => {
    const out = join(dir, 'good.onnx');
    const r = await run(['export', ...MODEL, '--weights', good, '--out', out]);
    expect(r.code, r.err).toBe(0);
    const m = readModel(out);
    expect(m.ir.outputs[0]!.shape).toEqual(['N', 7]);
    expect(m.metadata['effnet.weights_naming']).toBe('timm-efficientnet');
    const w = m.ir.initializers.find((i) => i.name === 'blocks.0.0.conv_dw.weight')!;
    const data = typeof w.data === 'function' ? w.data() : w.data;
    expect([...(data as Float32Array)]).toEqual([...fill('blocks.0.0.conv_dw.weight', w.shape)]);
  });

  it('refuses non-finite weights (NaN, Inf), naming the tensor', async () => {
    for (const [bad, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
    ] as const) {
      const file = weightsFile(
        `nan-${shown}.safetensors`,
        params.map(([n, s]) => [
          n,
          {
            dtype: 'F32',
            shape: s,
            data: () => {
              const d = fill(n, s);
              if (n === 'conv_stem.weight') d[5] = bad;
              return d;
            },
          },
        ]),
      );
      await expectFailure([...MODEL, '--weights', file], `nan-${shown}.safetensors: tensor 'conv_stem.weight' holds a non-finite value (${shown}) at element 5; weights must be finite numbers`);
    }
  });

  it('info --weights reports the classes of the file', async () => {
    const r = await run(['info', ...MODEL, '--weights', good, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.stringify(JSON.parse(r.out))).toContain('"numClasses":7');
  });

  it('missing weights file', () => expectFailure([...MODEL, '--weights', join(dir, 'absent.safetensors')], /absent\.safetensors: cannot open weights file \(no such file\)$/m));

  it('truncated weights file', async () => {
    const bytes = readFileSync(good);
    const p = join(dir, 'truncated.safetensors');
    writeFileSync(p, bytes.subarray(0, bytes.length - 100));
    await expectFailure([...MODEL, '--weights', p], new RegExp(`${p.replace(/[.\\/]/g, '\\$&')}: tensor '[^']+': data_offsets \\[\\d+, \\d+\\] run past the end of the data .*truncated`));
  });

  it('header length beyond the file', async () => {
    const p = join(dir, 'header.safetensors');
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(4096n);
    writeFileSync(p, b);
    await expectFailure([...MODEL, '--weights', p], `${p}: header length 4096 runs past the end of the file (16 bytes; truncated?)`);
  });

  it('__proto__ key in the header', async () => {
    const h = Buffer.from('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const p = join(dir, 'proto.safetensors');
    const b = Buffer.alloc(8 + h.length + 4);
    b.writeBigUInt64LE(BigInt(h.length));
    h.copy(b, 8);
    writeFileSync(p, b);
    await expectFailure([...MODEL, '--weights', p], `${p}: key '__proto__' is not allowed in a header`);
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  });

  it('wrong shape, unsupported dtype, missing and extra tensors: one line listing them', async () => {
    const p = weightsFile(
      'unfit.safetensors',
      params
        .filter(([n]) => n !== 'conv_stem.weight')
        .map(([n, s]): [string, TensorToWrite] =>
          n === 'bn1.running_var'
            ? [n, { dtype: 'I64', shape: s, data: new BigInt64Array(s[0]!) }]
            : n === 'conv_head.weight'
              ? [n, { dtype: 'F32', shape: [s[0]!, s[1]! + 1, 1, 1], data: () => new Float32Array(s[0]! * (s[1]! + 1)) }]
              : [n, { dtype: 'F32', shape: s, data: () => fill(n, s) }],
        )
        .concat([['aux.fc.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) }]]),
    );
    await expectFailure(
      [...MODEL, '--weights', p],
      new RegExp(
        `^effnet: error: ${p.replace(/[.\\/]/g, '\\$&')}: weights \\(timm EfficientNet naming\\) do not fit efficientnet with 7 classes: ` +
          `1 missing: conv_stem\\.weight \\[8,3,3,3\\]; 1 with the wrong shape: conv_head\\.weight is \\[\\d+,\\d+,1,1\\], model needs \\[\\d+,\\d+,1,1\\]; ` +
          `1 with an unsupported dtype \\(supported: F32, F16, BF16\\): bn1\\.running_var is I64; 1 unexpected: aux\\.fc\\.weight$`,
        'm',
      ),
    );
  });

  it('--num-classes that disagrees with the file is a usage error (exit 2)', () =>
    expectFailure([...MODEL, '--weights', good, '--num-classes', '10'], `--num-classes 10 disagrees with ${good}: its classifier 'classifier.weight' has 7 outputs`, 2));
});
