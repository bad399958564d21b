/**
 * The house rules of the monorepo's layout, checked on every package's source:
 *  - no import circles within a package (madge walks each package's src, type-only imports included);
 *  - nothing imports "up": a package's source imports (and its package.json depends on) only
 *    packages of lower layers, the layers being README's list under "## Layout";
 *  - onnxruntime is imported only in @effnet/runtime (and the demo page, @effnet/web).
 * Test files are exempt from the layer rule (a graph-builder test may build a model with
 * @effnet/efficientnet), not from the onnxruntime rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** README's layer list: lines `N  name, name …` in the code block after "## Layout". */
export function readmeLayers(readme: string): Map<string, number> {
  const section = readme.slice(readme.indexOf('## Layout'));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const layers = new Map<string, number>();
  for (const line of block.split('\n')) {
    const m = /^(\d+)\s+([a-z-]+(?:,\s*[a-z-]+)*)/.exec(line);
    if (m) for (const name of m[2]!.split(',')) layers.set(name.trim(), Number(m[1]));
  }
  return layers;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

/** Module specifiers a TypeScript file imports: static, type-only, dynamic and `import('x')` types, and re-exports. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm))
    out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

const isTest = (f: string) => f.endsWith('.test.ts');

/**
 * Files that name onnxruntime in an import on purpose, outside runtime and web: the control run of
 * imports.test.ts loads it (in a child script) to prove its recorder would see it; this file tests
 * its own import scanner on such a line.
 */
const ORT_IMPORT_ALLOWED = new Set(['packages/cli/src/commands/imports.test.ts', 'packages/cli/src/architecture.test.ts']);

/** Which layer rule each package's source breaks (empty when it keeps them all). */
export function layerViolations(layers: ReadonlyMap<string, number>, pkg: string, deps: readonly string[], files: ReadonlyMap<string, string>): string[] {
  const own = layers.get(pkg);
  if (own === undefined) return [`${pkg}: not in README's layer list`];
  const bad: string[] = [];
  const check = (where: string, name: string) => {
    const layer = layers.get(name);
    if (layer === undefined) bad.push(`${where}: @effnet/${name} is not in README's layer list`);
    else if (layer >= own) bad.push(`${where}: ${pkg} (layer ${own}) depends on @effnet/${name} (layer ${layer})`);
  };
  for (const d of deps) if (d.startsWith('@effnet/')) check(`packages/${pkg}/package.json`, d.slice('@effnet/'.length));
  for (const [file, source] of files)
    if (!isTest(file))
      for (const spec of importsOf(source)) {
        const m = /^@effnet\/([a-z-]+)/.exec(spec);
        if (m) {
          check(file, m[1]!);
          if (!deps.includes(`@effnet/${m[1]}`)) bad.push(`${file}: imports @effnet/${m[1]}, which packages/${pkg}/package.json does not list`);
        }
      }
  return bad;
}

function sources(pkg: string): Map<string, string> {
  const src = join(packagesDir, pkg, 'src');
  return new Map(walk(src).map((f) => [relative(root, f), readFileSync(f, 'utf8')]));
}

function dependencies(pkg: string): string[] {
  const j = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  return Object.keys({ ...j.dependencies, ...j.devDependencies });
}

/** madge has no type declarations: the part of its API used here. */
interface MadgeResult {
  circular(): string[][];
  obj(): Record<string, string[]>;
}
type Madge = (path: string, config: Record<string, unknown>) => Promise<MadgeResult>;
const madgeModule = 'madge';
const madge = ((await import(madgeModule)) as { default: Madge }).default;

async function circlesIn(dir: string): Promise<{ circles: string[][]; modules: number }> {
  const r = await madge(dir, {
    fileExtensions: ['ts'],
    tsConfig: join(root, 'tsconfig.base.json'),
    excludeRegExp: [/\.test\.ts$/, /node_modules/, /[\\/]dist[\\/]/],
    detectiveOptions: { ts: { skipTypeImports: false, skipAsyncImports: false } },
  });
  return { circles: r.circular(), modules: Object.keys(r.obj()).length };
}

describe('layout: layers, circles, onnxruntime', () => {
  const layers = readmeLayers(readFileSync(join(root, 'README.md'), 'utf8'));

  it("README's layer list names every package, runtime below pipeline and bench", () => {
    expect([...layers.keys()].sort()).toEqual(packages);
    expect(layers.get('runtime')!).toBeLessThan(layers.get('pipeline')!);
    expect(layers.get('pipeline')!).toBeLessThan(layers.get('bench')!);
  });

  it('every package depends only on packages of lower layers', () => {
    const bad = packages.flatMap((p) => layerViolations(layers, p, dependencies(p), sources(p)));
    expect(bad).toEqual([]);
  });

  it('the layer check fails on an upward import and on an undeclared one', () => {
    const files = new Map([['packages/runtime/src/x.ts', "import { prepareModel } from '@effnet/pipeline';\nimport type { GraphIR } from '@effnet/graph-builder';"]]);
    expect(layerViolations(layers, 'runtime', ['@effnet/onnx-export'], files)).toEqual([
      'packages/runtime/src/x.ts: runtime (layer 4) depends on @effnet/pipeline (layer 5)',
      'packages/runtime/src/x.ts: imports @effnet/pipeline, which packages/runtime/package.json does not list',
      'packages/runtime/src/x.ts: imports @effnet/graph-builder, which packages/runtime/package.json does not list',
    ]);
    expect(layerViolations(layers, 'graph-builder', ['@effnet/efficientnet'], new Map())).toEqual([
      'packages/graph-builder/package.json: graph-builder (layer 2) depends on @effnet/efficientnet (layer 3)',
    ]);
  });

  it('onnxruntime is imported only in @effnet/runtime and the demo page (@effnet/web), tests included', () => {
    const bad = packages
      .filter((p) => p !== 'runtime' && p !== 'web')
      .flatMap((p) =>
        [...sources(p)]
          .filter(([file]) => !ORT_IMPORT_ALLOWED.has(file))
          .flatMap(([file, source]) =>
            importsOf(source)
              .filter((s) => /^onnxruntime-(node|web)/.test(s))
              .map((s) => `${file}: ${s}`),
          ),
      );
    expect(bad).toEqual([]);
    expect(importsOf("const ort = (await import('onnxruntime-node')).default;\nimport type { Tensor } from 'onnxruntime-web';").sort()).toEqual(['onnxruntime-node', 'onnxruntime-web']);
  });

  it('no import circles in any package', async () => {
    const found: string[] = [];
    for (const p of packages) {
      const { circles, modules } = await circlesIn(join(packagesDir, p, 'src'));
      expect(modules, `madge found no modules in packages/${p}/src`).toBeGreaterThan(0);
      for (const c of circles) found.push(`packages/${p}/src: ${[...c, c[0]].join(' → ')}`);
    }
    expect(found).toEqual([]);
  });

  it('the circle check finds a circle (a → b → a)', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'effnet-circle-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
      writeFileSync(join(dir, 'b.ts'), "import type { a } from './a.js';\nexport const b = 1 as unknown as typeof a;\n");
      expect((await circlesIn(dir)).circles).toEqual([['a.ts', 'b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
