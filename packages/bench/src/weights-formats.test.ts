/**
 * Weights from where users keep them, through the real `effnet` binary, against the float64 logits
 * of ../shared/fixtures: a torch.save checkpoint (torchvision's EfficientNet-B0 state_dict) and
 * `hf:` references resolved in a Hugging Face cache laid out as huggingface_hub leaves it
 * (refs/main → snapshots/COMMIT/{model.safetensors,config.json} → symlinks into blobs/).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSession, tensor } from '@effnet/runtime';
import { fixtureTensors, formulaInput, IMAGENET_MEAN, IMAGENET_STD, readFixture, writeSafetensors } from '@effnet/efficientnet';
import { readModel, summarizeModel } from '@effnet/onnx-export';
import { REPO, requires, SHARED, sharedData } from '../../../test-utils/requires.js';

const CLI = join(REPO, 'packages/cli/bin/effnet.js');
const TOLERANCE = 2e-4;
const dir = mkdtempSync(join(tmpdir(), 'effnet-wformats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const summary = (path: string) => summarizeModel(readModel(path));

function effnet(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function maxDiffAgainstFixture(model: string, fixture: string): Promise<number> {
  const f = readFixture(join(SHARED, 'fixtures', fixture));
  const s = await openSession(model);
  try {
    const out = await s.run({ [s.inputs[0]!.name]: tensor('float32', formulaInput(f.inputShape), f.inputShape) });
    const y = out[s.outputs[0]!.name]!.data as Float32Array;
    const want = f.logits.flat();
    expect(y.length).toBe(want.length);
    return want.reduce((m, w, i) => Math.max(m, Math.abs(y[i]! - w)), 0);
  } finally {
    await s.release();
  }
}

requires(sharedData('fixtures-pth/torchvision-efficientnet_b0.pth', 'fixtures/torchvision-efficientnet_b0/manifest.json')).describe('a torch.save checkpoint', () => {
  it(`torchvision-efficientnet_b0.pth → effnet export efficientnet-b0 --weights: max |Δlogit| ≤ ${TOLERANCE}`, async () => {
    const out = join(dir, 'tv-b0.onnx');
    const r = effnet(['export', 'efficientnet-b0', '--weights', join(SHARED, 'fixtures-pth/torchvision-efficientnet_b0.pth'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const d = await maxDiffAgainstFixture(out, 'torchvision-efficientnet_b0');
    expect(d, `max |Δ| ${d.toExponential(2)}`).toBeLessThanOrEqual(TOLERANCE);
    expect(summary(out).metadata['effnet.weights_naming']).toBe('torchvision-efficientnet');
  });

  it('the malicious pickle: exit 1, one line naming the refused global, nothing written, nothing run', () => {
    rmSync('/tmp/effnet-pwned', { force: true });
    const out = join(dir, 'bad.onnx');
    const r = effnet(['export', 'efficientnet-b0', '--weights', join(SHARED, 'fixtures-pth/malicious.pth'), '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^effnet: error: .*malicious\.pth.*refused to load global 'posix\.system'/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync('/tmp/effnet-pwned')).toBe(false);
  });
});

/** A Hugging Face cache holding `repo` with the fixture's weights and a timm config.json. */
function hubCache(root: string, repo: string, fixture: string, config: object | undefined): string {
  const folder = join(root, `models--${repo.replace('/', '--')}`);
  const commit = 'a'.repeat(40);
  mkdirSync(join(folder, 'blobs'), { recursive: true });
  mkdirSync(join(folder, 'refs'), { recursive: true });
  mkdirSync(join(folder, 'snapshots', commit), { recursive: true });
  writeFileSync(join(folder, 'refs', 'main'), commit);
  const blob = join(folder, 'blobs', 'b'.repeat(64));
  const fd = openSync(blob, 'w');
  try {
    writeSafetensors({ write: (b) => void writeSync(fd, b) }, fixtureTensors(readFixture(join(SHARED, 'fixtures', fixture))));
  } finally {
    closeSync(fd);
  }
  symlinkSync(`../../blobs/${'b'.repeat(64)}`, join(folder, 'snapshots', commit, 'model.safetensors'));
  if (config) {
    writeFileSync(join(folder, 'blobs', 'c'.repeat(64)), JSON.stringify(config));
    symlinkSync(`../../blobs/${'c'.repeat(64)}`, join(folder, 'snapshots', commit, 'config.json'));
  }
  return folder;
}

const timmConfig = (architecture: string, pre: object) => ({
  architecture,
  num_classes: 1000,
  num_features: 1280,
  pretrained_cfg: { tag: 'ra_in1k', input_size: [3, 224, 224], interpolation: 'bicubic', crop_pct: 0.875, crop_mode: 'center', mean: IMAGENET_MEAN, std: IMAGENET_STD, num_classes: 1000, ...pre },
});

requires(sharedData('fixtures/timm-efficientnet_b0/manifest.json')).describe('hf: weights from the local Hugging Face cache', () => {
  const cache = join(dir, 'hub');
  hubCache(cache, 'timm/efficientnet_b0.ra_in1k', 'timm-efficientnet_b0', timmConfig('efficientnet_b0', {}));
  hubCache(
    cache,
    'timm/efficientnet_b0.small',
    'timm-efficientnet_b0',
    timmConfig('efficientnet_b0', { input_size: [3, 160, 160], crop_pct: 0.95, interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }),
  );
  hubCache(cache, 'timm/efficientnet_b1.wrong', 'timm-efficientnet_b0', timmConfig('efficientnet_b1', {}));
  const env = { HF_HUB_CACHE: cache };

  it(`hf:timm/efficientnet_b0.ra_in1k (HF_HUB_CACHE): max |Δlogit| ≤ ${TOLERANCE}, the reference recorded in the file`, async () => {
    const out = join(dir, 'hf-b0.onnx');
    const r = effnet(['export', 'efficientnet-b0', '--weights', 'hf:timm/efficientnet_b0.ra_in1k', '-o', out], env);
    expect(r.status, r.stderr).toBe(0);
    const d = await maxDiffAgainstFixture(out, 'timm-efficientnet_b0');
    expect(d, `max |Δ| ${d.toExponential(2)}`).toBeLessThanOrEqual(TOLERANCE);
    expect(summary(out).metadata['effnet.weights']).toBe(`hf:timm/efficientnet_b0.ra_in1k@${'a'.repeat(40)}`);
  });

  it("config.json's pretrained_cfg becomes the file's preprocessing and default resolution (HF_HOME/hub too)", () => {
    const home = join(dir, 'hfhome');
    mkdirSync(home, { recursive: true });
    rmSync(join(home, 'hub'), { force: true, recursive: true });
    symlinkSync(cache, join(home, 'hub'));
    const out = join(dir, 'hf-small.onnx');
    const r = effnet(['export', 'efficientnet-b0', '--weights', 'hf:timm/efficientnet_b0.small', '-o', out], { HF_HOME: home, HF_HUB_CACHE: '' });
    expect(r.status, r.stderr).toBe(0);
    const s = summary(out);
    expect(s.metadata).toMatchObject({ 'effnet.resolution': '160', 'effnet.crop_pct': '0.95', 'effnet.interpolation': 'bilinear', 'effnet.mean': '0.5,0.5,0.5', 'effnet.std': '0.5,0.5,0.5' });
    expect(s.inputs[0]!.shape).toEqual(['N', 3, 160, 160]);
  });

  it('bad references: one line each, exit 2 for a malformed name, 1 otherwise, nothing written', () => {
    const out = join(dir, 'never.onnx');
    const cases: [string, string, number, RegExp][] = [
      ['efficientnet-b0', 'hf:timm', 2, /--weights 'hf:timm': 'timm' is not ORG\/NAME; expected hf:ORG\/NAME\[@REVISION\]/],
      ['efficientnet-b0', 'hf:timm/../../etc', 2, /is not ORG\/NAME|not a valid repository name/],
      [
        'efficientnet-b0',
        'hf:timm/efficientnet_b0.absent',
        1,
        new RegExp(
          `not in the local Hugging Face cache \\(looked for ${cache}/models--timm--efficientnet_b0\\.absent in HF_HUB_CACHE=${cache}\\); effnet never downloads: fetch it on a machine with network access \\(\`hf download timm/efficientnet_b0\\.absent\``,
        ),
      ],
      ['efficientnet-b1', 'hf:timm/efficientnet_b1.wrong', 1, /config\.json says architecture 'efficientnet_b1', which is not efficientnet-b0|weights .* do not fit efficientnet-b1/],
      ['efficientnet-b0', 'hf:timm/efficientnet_b1.wrong', 1, /config\.json says architecture 'efficientnet_b1', which is not efficientnet-b0 \(timm 'efficientnet_b0'\)/],
    ];
    for (const [id, ref, code, msg] of cases) {
      const r = effnet(['export', id, '--weights', ref, '-o', out], env);
      expect(r.status, `${ref}: ${r.stderr}`).toBe(code);
      expect(r.stderr.trimEnd().split('\n'), ref).toHaveLength(1);
      expect(r.stderr, ref).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a snapshot file that points outside the cache is refused', () => {
    const evil = hubCache(join(dir, 'hub2'), 'timm/efficientnet_b0.evil', 'timm-efficientnet_b0', undefined);
    const snap = join(evil, 'snapshots', 'a'.repeat(40), 'model.safetensors');
    rmSync(snap);
    const outside = join(dir, 'outside.safetensors');
    writeFileSync(outside, 'x');
    symlinkSync(outside, snap);
    const r = effnet(['export', 'efficientnet-b0', '--weights', 'hf:timm/efficientnet_b0.evil', '-o', join(dir, 'evil.onnx')], { HF_HUB_CACHE: join(dir, 'hub2') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/model\.safetensors points outside the cache folder .* refusing to read it/);
  });
});
