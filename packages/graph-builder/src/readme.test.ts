/**
 * The README's opening example runs as written for someone who installed the published packages:
 * `npm pack` the three library packages (and every workspace package they depend on), install the
 * tarballs into a fresh folder, run the ```js block with node, and read model.onnx back with the
 * installed @effnet/onnx-export. Also checks that every shipped source map resolves. Slow (npm
 * install): EFFNET_SLOW only. Needs the packages built (`npx turbo run build`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SLOW = !!process.env.EFFNET_SLOW;
const here = dirname(fileURLToPath(import.meta.url));
const packagesDir = resolve(here, '../..');
const LIBRARIES = ['@effnet/graph-builder', '@effnet/onnx-export', '@effnet/efficientnet'];

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}

/** Workspace packages by name. */
function workspace(): Map<string, { dir: string; manifest: Manifest }> {
  const m = new Map<string, { dir: string; manifest: Manifest }>();
  for (const d of readdirSync(packagesDir)) {
    const p = join(packagesDir, d, 'package.json');
    if (!existsSync(p)) continue;
    const manifest = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
    m.set(manifest.name, { dir: join(packagesDir, d), manifest });
  }
  return m;
}

/** `names` and every workspace package they depend on, recursively, dependencies first. */
function withWorkspaceDeps(names: readonly string[]): string[] {
  const ws = workspace();
  const out: string[] = [];
  const visit = (n: string) => {
    if (out.includes(n)) return;
    const p = ws.get(n);
    if (!p) throw new Error(`${n} is not a workspace package`);
    for (const dep of Object.keys(p.manifest.dependencies ?? {})) if (ws.has(dep)) visit(dep);
    out.push(n);
  };
  names.forEach(visit);
  return out;
}

function jsBlock(readme: string): string {
  const m = /^```js\n([\s\S]*?)^```/m.exec(readme);
  if (!m) throw new Error('README has no ```js block');
  return m[1]!;
}

describe.skipIf(!SLOW)('graph-builder README example, from npm pack tarballs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'effnet-readme-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the README opens with the example', () => {
    const readme = readFileSync(join(here, '../README.md'), 'utf8');
    expect(readme.split('\n').slice(0, 7).join('\n')).toMatch(/^# @effnet\/graph-builder\n\n```sh\nnpm install @effnet\/graph-builder @effnet\/onnx-export\n```\n\n```js$/);
  });

  it('packs, installs into a fresh folder, runs as written and writes a model that loads', () => {
    const ws = workspace();
    const names = withWorkspaceDeps(LIBRARIES);
    const packs = join(tmp, 'packs');
    mkdirSync(packs);
    const tarballs = names.map((n) => {
      const p = ws.get(n)!;
      expect(p.manifest.private, `${n} must be publishable`).not.toBe(true);
      const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packs], { cwd: p.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
      const files = info!.files.map((f) => f.path);
      for (const f of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']) expect(files, `${n} tarball`).toContain(f);
      expect(
        files.filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.js')),
        `${n} ships no tests`,
      ).toEqual([]);
      return join(packs, info!.filename);
    });

    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-check', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });

    writeFileSync(join(app, 'example.mjs'), jsBlock(readFileSync(join(here, '../README.md'), 'utf8')));
    const printed = execFileSync('node', ['example.mjs'], { cwd: app, encoding: 'utf8' });
    expect(printed).toContain('params: 634');
    expect(existsSync(join(app, 'model.onnx'))).toBe(true);

    writeFileSync(
      join(app, 'check.mjs'),
      `import { readModel } from '@effnet/onnx-export';
import { buildModel } from '@effnet/efficientnet';
const m = readModel('model.onnx');
const b0 = buildModel('efficientnet-b0');
console.log(JSON.stringify({ ops: m.ir.nodes.map((n) => n.op), outputs: m.ir.outputs, opset: m.opset, b0: b0.ir.outputs[0].shape }));`,
    );
    const loaded = JSON.parse(execFileSync('node', ['check.mjs'], { cwd: app, encoding: 'utf8' })) as Record<string, unknown>;
    expect(loaded).toEqual({
      ops: ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Identity'],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', 10] }],
      opset: 17,
      b0: ['N', 1000],
    });

    // Source maps resolve: every map's sources exist in the installed package.
    for (const n of names) {
      const dist = join(app, 'node_modules', n, 'dist');
      const maps = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.map'));
      expect(maps.length, n).toBeGreaterThan(0);
      for (const f of maps) {
        const map = JSON.parse(readFileSync(join(dist, f), 'utf8')) as { sources: string[] };
        for (const s of map.sources) expect(existsSync(resolve(dirname(join(dist, f)), s)), `${n}/dist/${f} → ${s}`).toBe(true);
      }
    }
  });
});
