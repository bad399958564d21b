/**
 * Numerical parity with the reference libraries (../shared/fixtures, ../shared/fixtures-families
 * for EfficientNetV2 and EfficientNet-Lite, ../shared/fixtures-mobilenet for MobileNetV1/V2/V3 and
 * MnasNet): for every fixture, the full
 * weight file (formula tensors + bn.safetensors, in the library's own naming) is written as
 * .safetensors, imported through `--weights`, exported as ONNX, run in onnxruntime-node on the
 * formula input (batch 2) and compared with the float64 logits timm / torchvision computed.
 * Three fixtures go through the real `effnet` binary; the rest call prepareModel, which is what
 * the CLI calls. A few also run with --fold-bn. Plus the real trained Imagenette checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import sharp from 'sharp';
import { findModel, fixtureTensors, formulaInput, IMAGENET_MEAN, IMAGENET_STD, readFixture, writeSafetensors } from '@effnet/efficientnet';
import { openModel, prepareModel } from '@effnet/pipeline';
import { need as needOf, requires, SHARED, sharedData } from '../../../test-utils/requires.js';

/** At least one fixture with a manifest in `root`. */
const needSome = (list: readonly string[], root: string) => needOf(list.length > 0, `fixtures (folders with manifest.json) in ${root}`, 'copy the complete reference data folder');

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(SHARED, 'fixtures');
const FAMILY_FIXTURES = join(SHARED, 'fixtures-families');
const MOBILE_FIXTURES = join(SHARED, 'fixtures-mobilenet');
const IMAGENETTE = join(SHARED, 'imagenette');
const CLI = join(REPO, 'packages/cli/bin/effnet.js');
const TOLERANCE = 2e-4;

const dir = mkdtempSync(join(tmpdir(), 'effnet-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Fixture folder (`LIBRARY-MODEL`) → effnet model id: the library's model name is an alias. */
function modelId(fixture: string): string {
  return findModel(fixture.split(/-(.*)/)[1]!).id;
}

const need = {
  [FIXTURES]: sharedData('fixtures/summary.json', 'fixtures/timm-efficientnet_b0/manifest.json'),
  [FAMILY_FIXTURES]: sharedData('fixtures-families/summary.json'),
  [MOBILE_FIXTURES]: sharedData('fixtures-mobilenet/summary.json'),
};
const listFixtures = (root: string): string[] =>
  existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(join(root, d, 'manifest.json')))
        .sort()
    : [];
const fixtures = listFixtures(FIXTURES);
const familyFixtures = listFixtures(FAMILY_FIXTURES);
const mobileFixtures = listFixtures(MOBILE_FIXTURES);
/** Fixture folder → its root. */
const ROOT = new Map([...fixtures.map((f) => [f, FIXTURES] as const), ...familyFixtures.map((f) => [f, FAMILY_FIXTURES] as const), ...mobileFixtures.map((f) => [f, MOBILE_FIXTURES] as const)]);
const VIA_CLI = new Set(['timm-efficientnet_b0', 'torchvision-efficientnet_b0', 'torchvision-resnet50', 'timm-tf_efficientnetv2_b0', 'timm-efficientnet_lite0', 'timm-mobilenetv1_100']);
const FOLD_BN = new Set(['timm-efficientnet_b0', 'timm-tf_efficientnet_b3', 'torchvision-resnet50', 'timm-tf_efficientnetv2_s', 'timm-tf_efficientnet_lite0', ...mobileFixtures]);

function writeWeights(fixture: string): string {
  const path = join(dir, `${fixture}.safetensors`);
  const fd = openSync(path, 'w');
  try {
    writeSafetensors({ write: (b) => void writeSync(fd, b) }, fixtureTensors(readFixture(join(ROOT.get(fixture)!, fixture))));
  } finally {
    closeSync(fd);
  }
  return path;
}

async function run(model: Uint8Array | string, x: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = typeof model === 'string' ? await openSession(model) : await openSession(model);
  try {
    const out = await s.run({ [s.inputs[0]!.name]: tensor('float32', x, shape) });
    const y = out[s.outputs[0]!.name]!;
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await s.release();
  }
}

function maxAbsDiff(got: Float32Array, want: readonly (readonly number[])[]): number {
  const flat = want.flat();
  expect(got.length).toBe(flat.length);
  let m = 0;
  for (let i = 0; i < flat.length; i++) m = Math.max(m, Math.abs(got[i]! - flat[i]!));
  return m;
}

function effnet(args: string[]): { status: number | null; stdout: string; stderr: string } {
  expect(existsSync(join(REPO, 'packages/cli/dist/main.js')), 'the effnet binary needs the build: npm run build (npm test builds first)').toBe(true);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const [root, list] of [
  [FIXTURES, fixtures],
  [FAMILY_FIXTURES, familyFixtures],
  [MOBILE_FIXTURES, mobileFixtures],
] as const) {
  requires(need[root]!, needSome(list, root)).describe(`logits parity with timm / torchvision fixtures (${root})`, () => {
    for (const fixture of list) {
      const id = modelId(fixture);
      const how = VIA_CLI.has(fixture) ? 'effnet export binary' : 'prepareModel';
      it(`${fixture} → ${id} --weights (${how}${FOLD_BN.has(fixture) ? ', also --fold-bn' : ''}): max |Δlogit| ≤ ${TOLERANCE}`, async () => {
        const f = readFixture(join(root, fixture));
        const weights = writeWeights(fixture);
        const x = formulaInput(f.inputShape);
        const variants: { label: string; foldBn: boolean }[] = [{ label: 'plain', foldBn: false }];
        if (FOLD_BN.has(fixture)) variants.push({ label: 'fold-bn', foldBn: true });
        try {
          for (const v of variants) {
            let model: Uint8Array | string;
            if (VIA_CLI.has(fixture)) {
              const out = join(dir, `${fixture}-${v.label}.onnx`);
              const r = effnet(['export', id, '--weights', weights, '--out', out, ...(v.foldBn ? ['--fold-bn'] : [])]);
              expect(r.stderr).toMatch(/^wrote /);
              expect(r.status).toBe(0);
              model = out;
            } else {
              const p = prepareModel(id, { weightsPath: weights, foldBn: v.foldBn });
              expect(p.resolution).toBe(f.resolution);
              expect(p.numClasses).toBe(1000);
              expect(p.stats.params, 'trainable parameters as the library counts them').toBe(f.params);
              model = p.serialize();
            }
            const y = await run(model, x, f.inputShape);
            expect(y.dims).toEqual([f.inputShape[0], 1000]);
            const diff = maxAbsDiff(y.data, f.logits);
            expect(diff, `${fixture} ${v.label}: max |Δ| ${diff.toExponential(2)}`).toBeLessThanOrEqual(TOLERANCE);
            if (typeof model === 'string') rmSync(model);
          }
        } finally {
          rmSync(weights, { force: true });
        }
      });
    }
  });
}

requires(need[FIXTURES]!).describe('a checkpoint of another family', () => {
  it('V1 B0 weights given to a V2 or Lite id: one line naming the first mismatch', () => {
    const weights = writeWeights('timm-efficientnet_b0');
    try {
      expect(() => prepareModel('tf-efficientnetv2-b0', { weightsPath: weights })).toThrow(
        new RegExp(
          `^${weights.replace(/[.\\/]/g, '\\$&')}: weights \\(timm EfficientNet naming\\) do not fit tf-efficientnetv2-b0 with 1000 classes: \\d+ missing: blocks\\.0\\.0\\.conv\\.weight \\[16,32,3,3\\], [^\\n]*$`,
        ),
      );
      // Lite is B0 without squeeze-excite: everything fits but the SE tensors.
      expect(() => prepareModel('efficientnet-lite0', { weightsPath: weights })).toThrow(/do not fit efficientnet-lite0 with 1000 classes: 64 unexpected: blocks\.0\.0\.se\.conv_reduce\.weight/);
    } finally {
      rmSync(weights, { force: true });
    }
  });
});

requires(need[MOBILE_FIXTURES]!).describe('a mobile checkpoint given to another mobile id', () => {
  it('MobileNetV2 weights for mnasnet-100 or mobilenetv3-large-100: one line naming the first mismatch', () => {
    const weights = writeWeights('timm-mobilenetv2_100');
    try {
      for (const id of ['mnasnet-100', 'mobilenetv3-large-100', 'mobilenetv1-100']) {
        let message = '';
        try {
          prepareModel(id, { weightsPath: weights });
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message.split('\n'), message).toHaveLength(1);
        expect(message).toMatch(new RegExp(`^${weights.replace(/[.\\/]/g, '\\$&')}: weights \\(timm EfficientNet naming\\) do not fit ${id} with 1000 classes: `));
      }
    } finally {
      rmSync(weights, { force: true });
    }
  });
});

requires(sharedData('imagenette/efficientnet_b0-imagenette.safetensors', 'imagenette/val')).describe(`the real Imagenette checkpoint (${IMAGENETTE})`, () => {
  const checkpoint = join(IMAGENETTE, 'efficientnet_b0-imagenette.safetensors');

  it('effnet export efficientnet-b0 --weights <checkpoint> gives 10 outputs and classifies real images', async () => {
    const out = join(dir, 'imagenette.onnx');
    const r = effnet(['export', 'efficientnet-b0', '--weights', checkpoint, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    // 3 images per class (the first by name), preprocessed like the reference: shorter side to
    // floor(224 / 0.875) = 256 bicubic, center crop 224, ImageNet mean/std. Reference top-1 at 224: 0.7376.
    const classes = (JSON.parse(readFileSync(join(IMAGENETTE, 'reference.json'), 'utf8')) as { classes: string[] }).classes;
    const R = 224;
    const images: { label: number; file: string }[] = classes.flatMap((wnid, label) =>
      readdirSync(join(IMAGENETTE, 'val', wnid))
        .sort()
        .slice(0, 3)
        .map((f) => ({ label, file: join(IMAGENETTE, 'val', wnid, f) })),
    );
    const x = new Float32Array(images.length * 3 * R * R);
    for (const [n, img] of images.entries()) {
      const { data, info } = await sharp(img.file).removeAlpha().toColourspace('srgb').resize(256, 256, { fit: 'outside', kernel: 'cubic' }).raw().toBuffer({ resolveWithObject: true });
      const top = Math.floor((info.height - R) / 2);
      const left = Math.floor((info.width - R) / 2);
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) x[((n * 3 + c) * R + i) * R + j] = (data[((top + i) * info.width + left + j) * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
    }
    const y = await run(out, x, [images.length, 3, R, R]);
    expect(y.dims).toEqual([images.length, 10]);
    let correct = 0;
    for (const [n, img] of images.entries()) {
      const row = [...y.data.subarray(n * 10, n * 10 + 10)];
      if (row.indexOf(Math.max(...row)) === img.label) correct++;
    }
    expect(correct / images.length, `${correct}/${images.length} correct`).toBeGreaterThanOrEqual(0.6);
    // An .onnx file has its weights already: --weights with one is refused, not ignored.
    expect(() => openModel(out, { weightsPath: checkpoint })).toThrow(`weightsPath applies to model ids, not to an .onnx file ('${out}' has its weights already)`);
  });

  it('--num-classes that disagrees with the checkpoint is a usage error naming both', () => {
    const r = effnet(['export', 'efficientnet-b0', '--weights', checkpoint, '--num-classes', '1000', '--out', join(dir, 'x.onnx')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`effnet: error: --num-classes 1000 disagrees with ${checkpoint}: its classifier 'classifier.weight' has 10 outputs (leave --num-classes out to take it from the file)\n`);
  });

  it('weights that do not fit the model: exit 1, one line naming file and tensors', () => {
    const r = effnet(['export', 'efficientnet-b1', '--weights', checkpoint, '--out', join(dir, 'y.onnx')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^effnet: error: .*imagenette\.safetensors: weights \(timm EfficientNet naming\) do not fit efficientnet-b1 with 10 classes: \d+ missing: blocks\.0\.1\.conv_dw\.weight \[16,1,3,3\]/,
    );
    expect(existsSync(join(dir, 'y.onnx'))).toBe(false);
  });
});
