#!/usr/bin/env node
// Packs every publishable workspace package (all but the private demo page, whose built files ship
// inside effnet) into dist-packages/ (or the folder given), for installing effnet without the
// registry: npm install -g --ignore-scripts dist-packages/*.tgz
// Needs the packages built (npm ci / npm run build).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'dist-packages'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const dirs = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
for (const d of dirs) {
  const dir = join(root, 'packages', d);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.private) continue;
  if (!existsSync(join(dir, 'dist', 'index.js'))) throw new Error(`${manifest.name}: not built (run npm run build first)`);
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  console.log(`${info.filename}  ${(info.size / 1e6).toFixed(2)} MB, ${info.entryCount} files`);
}
console.log(`packed into ${out}`);
