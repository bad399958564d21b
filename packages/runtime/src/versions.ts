/** Versions of the runtimes this package runs models with, as installed (read from their package.json files). */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Version of an installed package as resolved from the module at `from` (default: this package),
 * found from its entry point: not every package exports its package.json. 'unknown' when not found.
 */
export function packageVersion(name: string, from: string = import.meta.url): string {
  try {
    let dir = dirname(createRequire(from).resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'unknown';
  }
}

export function runtimeVersions(): { readonly 'onnxruntime-node': string; readonly 'onnxruntime-web': string } {
  return { 'onnxruntime-node': packageVersion('onnxruntime-node'), 'onnxruntime-web': packageVersion('onnxruntime-web') };
}
