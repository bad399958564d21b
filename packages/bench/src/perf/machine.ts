/** What the figures were measured on: machine, runtime and package versions. */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { runtimeVersions } from '@effnet/runtime';

export interface MachineInfo {
  readonly cpu: string;
  /** Logical cores the OS reports. */
  readonly cores: number;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
}

export interface Versions {
  readonly effnet: string;
  readonly node: string;
  readonly 'onnxruntime-node': string;
  readonly 'onnxruntime-web': string;
  readonly tinybench: string;
}

const require = createRequire(import.meta.url);

/** Version of an installed package (found from its entry point: not every package exports package.json). */
function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
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

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() || 'unknown',
    cores: c.length,
    memoryBytes: totalmem(),
    platform: platform(),
    arch: arch(),
    osRelease: release(),
  };
}

export function versions(): Versions {
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    effnet: own.version,
    node: process.versions.node,
    ...runtimeVersions(),
    tinybench: packageVersion('tinybench'),
  };
}
