/**
 * Backbone parity with timm (../shared/fixtures-features): for every folder, the fixture's weights
 * are written as .safetensors and exported through the real `effnet` binary ONCE per mode with
 * `--dynamic-size` (features: `--features --head none`; logits: plain), then run in
 * onnxruntime-node on the fixture's formula input at the fixture's (often non-square) size, and
 * every tensor — features.0..4, the pre-logits embedding, the logits — is compared with timm's
 * float64 result (max |Δ| ≤ 2e-4). The metadata's feature_info must equal timm's.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import { findModel, fixtureTensors, formulaInput, readFixture, Safetensors, writeSafetensors } from '@effnet/efficientnet';
import { readModel } from '@effnet/onnx-export';
import { requires, SHARED, sharedData } from '../../../test-utils/requires.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const ROOT = join(SHARED, 'fixtures-features');
const CLI = join(REPO, 'packages/cli/bin/effnet.js');
const TOLERANCE = 2e-4;
/**
 * ResNet-50's deep, un-normalized maps (absmax 12 and 7) cannot be held to 2e-4 in float32 by any
 * runtime: timm itself in float32 is 3.5e-4 and 4.3e-4 off its own float64 result on features.3/.4
 * (bench/features-float32-timm.py; 0 in float64, so the weights and input are the fixture's).
 * onnxruntime lands at 2.2e-4 and 3.5e-4 (also at a fixed --resolution 96, with --fold-bn, at every
 * graph optimization level), and the same file evaluated in float64 (bench/features-float64.py,
 * onnx's reference evaluator) is within 5e-7 of timm on every tensor. These two keep a bound at
 * timm's float32 floor, which still fails on any real difference (a wrong tap or padding is off by
 * whole units).
 */
const FLOAT32_BOUND: Readonly<Record<string, Readonly<Record<string, number>>>> = { 'timm-resnet50': { 'features.3': 3e-4, 'features.4': 5e-4 } };
const dir = mkdtempSync(join(tmpdir(), 'effnet-features-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const folders = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((d) => existsSync(join(ROOT, d, 'manifest.json')))
      .sort()
  : [];

function effnet(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { status: r.status, stderr: r.stderr };
}

interface Expected {
  readonly model: string;
  readonly input: { readonly shape: readonly number[] };
  readonly feature_info: readonly { index: number; num_chs: number; reduction: number; module: string }[];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

requires(sharedData('fixtures-features/README.md', 'fixtures-features/timm-efficientnet_b0/manifest.json')).describe(
  'features, embedding and logits parity with timm at other input sizes (--dynamic-size, through the CLI)',
  () => {
    for (const folder of folders) {
      it(`${folder}: every tensor within ${TOLERANCE}`, async () => {
        const e = JSON.parse(readFileSync(join(ROOT, folder, 'expected.json'), 'utf8')) as Expected;
        const id = findModel(folder.split(/-(.*)/)[1]!).id;
        const f = readFixture(join(ROOT, folder));
        const weights = join(dir, `${folder}.safetensors`);
        const fd = openSync(weights, 'w');
        try {
          writeSafetensors({ write: (b) => void writeSync(fd, b) }, fixtureTensors(f));
        } finally {
          closeSync(fd);
        }
        const want = Safetensors.open(join(ROOT, folder, 'features.safetensors'));
        const shape = e.input.shape;
        const x = formulaInput(shape);
        const report: string[] = [];
        for (const mode of [['--features', '--head', 'none'], []]) {
          const out = join(dir, `${folder}-${mode.length ? 'features' : 'logits'}.onnx`);
          const r = effnet(['export', id, '--weights', weights, '--dynamic-size', ...mode, '--out', out]);
          expect(r.stderr).toMatch(/^wrote /);
          expect(r.status).toBe(0);
          const { ir, metadata } = readModel(out);
          expect(
            ir.inputs[0]!.shape.slice(2).every((d) => typeof d === 'string'),
            'H and W symbolic',
          ).toBe(true);
          expect(metadata['effnet.dynamic_size']).toBe('true');
          if (mode.length) expect(JSON.parse(metadata['effnet.feature_info']!)).toEqual(e.feature_info);
          const s = await openSession(out);
          try {
            const y = await s.run({ [s.inputs[0]!.name]: tensor('float32', x, shape) });
            const names = mode.length ? [...e.feature_info.map((t) => `features.${t.index}`), 'embedding'] : ['logits'];
            expect(Object.keys(y).sort()).toEqual([...names].sort());
            for (const name of names) {
              const ref = want.readFloat32(name === 'embedding' ? 'pre_logits' : name);
              const got = y[name]!;
              expect([...got.dims]).toEqual([...want.info(name === 'embedding' ? 'pre_logits' : name)!.shape]);
              const d = maxAbsDiff(got.data as Float32Array, ref);
              report.push(`${name} ${d.toExponential(1)}`);
              expect(d, `${folder} ${name}: max |Δ| ${d.toExponential(2)}`).toBeLessThanOrEqual(FLOAT32_BOUND[folder]?.[name] ?? TOLERANCE);
            }
          } finally {
            await s.release();
          }
        }
        rmSync(weights, { force: true });
        console.log(`${folder} (${shape.slice(2).join('x')}): max |Δ| ${report.join(', ')}`);
      });
    }
  },
);
