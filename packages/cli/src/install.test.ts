/**
 * effnet outside its repository: every publishable package is packed (scripts/pack.mjs), the
 * tarballs are installed into an empty folder with no repository around it, and the installed
 * `effnet` runs list, info, export, inspect, classify, eval, bench (cpu and wasm) and serve (the
 * page answers). Every package README's first ```js example runs there as written. Slow (npm
 * install from the registry cache): EFFNET_SLOW only. Needs the packages built.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../../../test-utils/requires.js';

const SLOW = !!process.env.EFFNET_SLOW;

/** Package dir → its README's first ```js block, for every publishable package. */
function readmeExamples(): { name: string; code: string }[] {
  const out: { name: string; code: string }[] = [];
  for (const d of readdirSync(join(REPO, 'packages')).sort()) {
    const manifest = join(REPO, 'packages', d, 'package.json');
    if (!existsSync(manifest)) continue;
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; private?: boolean };
    if (m.private) continue;
    const readme = readFileSync(join(REPO, 'packages', d, 'README.md'), 'utf8');
    const js = /^```js\n([\s\S]*?)^```/m.exec(readme);
    if (js) out.push({ name: m.name, code: js[1]! });
  }
  // The root README's "Use it as a library" example.
  const root = readFileSync(join(REPO, 'README.md'), 'utf8');
  const lib = /^## Use it as a library\n[\s\S]*?^```js\n([\s\S]*?)^```/m.exec(root);
  if (!lib) throw new Error("README.md: no ```js block under '## Use it as a library'");
  out.push({ name: 'README (Use it as a library)', code: lib[1]! });
  return out;
}

describe.skipIf(!SLOW)('installed from packed tarballs, outside the repository', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'effnet-install-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const app = join(tmp, 'app');
  const times: Record<string, number> = {};
  const effnet = (args: string[], o: { ok?: boolean } = {}) => {
    const t0 = performance.now();
    const r = spawnSync(join(app, 'node_modules/.bin/effnet'), args, { cwd: app, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    times[args.slice(0, 2).join(' ')] = (performance.now() - t0) / 1000;
    if (o.ok !== false) expect(r.status, `effnet ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };

  it('every package has a README that starts with how to install, a LICENSE, exports with types and engines', () => {
    for (const d of readdirSync(join(REPO, 'packages'))) {
      const dir = join(REPO, 'packages', d);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown> & { name: string; private?: boolean; exports?: Record<string, { types?: string }> };
      if (d === 'web') {
        expect(m.private, 'the demo page ships inside effnet').toBe(true);
        continue;
      }
      expect(m.private, `${m.name} is publishable`).toBeUndefined();
      expect(m.exports?.['.']?.types, `${m.name} exports types`).toBe('./dist/index.d.ts');
      expect(m.engines, `${m.name} engines`).toEqual({ node: '>=20.19' });
      expect(m.files, `${m.name} files`).toContain('dist');
      expect(existsSync(join(dir, 'LICENSE')), `${m.name} LICENSE`).toBe(true);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(readme.split('\n').slice(0, 4).join('\n'), `${m.name} README starts with the install command`).toMatch(
        new RegExp(`^# ${m.name.replace('/', '\\/')}\\n\\n\`\`\`sh\\nnpm install (-g )?${m.name.replace('/', '\\/')}`),
      );
    }
  });

  it('packs, installs with no repository around, and the installed effnet runs every command', async () => {
    const packs = join(tmp, 'packs');
    const t0 = performance.now();
    execFileSync(process.execPath, [join(REPO, 'scripts/pack.mjs'), packs], { stdio: 'pipe' });
    times.pack = (performance.now() - t0) / 1000;
    const tarballs = readdirSync(packs).map((f) => join(packs, f));
    expect(tarballs.length).toBeGreaterThanOrEqual(9);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'effnet-install-check', private: true, type: 'module' }));
    const t1 = performance.now();
    // --ignore-scripts: onnxruntime-node's install script downloads CUDA binaries (README: Install).
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', ...tarballs], { cwd: app, stdio: 'pipe' });
    times['npm install'] = (performance.now() - t1) / 1000;
    expect(existsSync(join(app, 'node_modules/.bin/effnet'))).toBe(true);
    expect(existsSync(join(tmp, '.git')) || existsSync(join(app, '.git'))).toBe(false);

    expect(effnet(['list']).stdout).toMatch(/efficientnet-b0/);
    expect(effnet(['info', 'efficientnet-b0']).stdout).toMatch(/params\s+5,288,548/);
    effnet(['export', 'efficientnet-b0', '--resolution', '96', '-o', 'b0.onnx']);
    expect(effnet(['inspect', 'b0.onnx']).stdout).toMatch(/inputs\s+input\s+float32 \[N,3,96,96\]/);

    // Images made with the installed sharp: a photo and a 2-class ImageFolder.
    writeFileSync(
      join(app, 'make-images.mjs'),
      `import sharp from 'sharp';
import { mkdirSync } from 'node:fs';
const img = (w, h, c) => sharp({ create: { width: w, height: h, channels: 3, background: c } }).jpeg();
await img(500, 375, '#3080c0').toFile('photo.jpg');
for (const [cls, c] of [['a', '#c03030'], ['b', '#30c030']]) { mkdirSync('data/' + cls, { recursive: true }); for (const i of [0, 1]) await img(120 + i * 40, 100, c).toFile('data/' + cls + '/' + i + '.jpg'); }`,
    );
    execFileSync(process.execPath, ['make-images.mjs'], { cwd: app });
    expect(effnet(['classify', 'b0.onnx', 'photo.jpg']).stdout).toMatch(/photo\.jpg/);
    expect(effnet(['eval', 'b0.onnx', '--data', 'data', '--folder-order']).stdout).toMatch(/n 4\b/);
    for (const ep of ['cpu', 'wasm']) {
      const r = effnet(['bench', 'b0.onnx', '--ep', ep, '--iterations', '2', '--warmup', '1', '--time', '0', '--out', `bench-${ep}`]);
      expect(existsSync(join(app, `bench-${ep}`, 'results.json')), r.stderr).toBe(true);
    }

    // serve: the page answers on localhost.
    const server = spawn(join(app, 'node_modules/.bin/effnet'), ['serve', 'b0.onnx', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`serve printed no URL: ${text}`)), 60_000);
        const on = (b: Buffer) => {
          text += b.toString();
          const m = /http:\/\/127\.0\.0\.1:\d+\/?/.exec(text);
          if (m) {
            clearTimeout(timer);
            resolve(m[0]);
          }
        };
        server.stdout.on('data', on);
        server.stderr.on('data', on);
      });
      const page = await (await fetch(url)).text();
      expect(page).toMatch(/<title>effnet/);
    } finally {
      server.kill();
    }

    // Every package README's example runs as written.
    for (const { name, code } of readmeExamples()) {
      const file = join(app, `readme-${name.replace(/[^a-z0-9-]/gi, '_')}.mjs`);
      writeFileSync(file, code);
      const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8' });
      expect(r.status, `${name} README example: ${r.stderr}`).toBe(0);
    }
    process.stderr.write(`install check, seconds: ${JSON.stringify(times)}\n`);
  });
});
