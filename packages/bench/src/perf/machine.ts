/** What the figures were measured on: machine, runtime and package versions. */
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { packageVersion, runtimeVersions } from '@effnet/runtime';

export interface MachineInfo {
  readonly cpu: string;
  /** Logical cores the OS reports. */
  readonly cores: number;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
  /** 1-, 5- and 15-minute load averages when the run ended (a busy machine inflates every latency). */
  readonly loadAverage: readonly [number, number, number];
}

export interface Versions {
  readonly effnet: string;
  readonly node: string;
  readonly 'onnxruntime-node': string;
  readonly 'onnxruntime-web': string;
  readonly tinybench: string;
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
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) as unknown as [number, number, number],
  };
}

export function versions(): Versions {
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    effnet: own.version,
    node: process.versions.node,
    ...runtimeVersions(),
    tinybench: packageVersion('tinybench', import.meta.url),
  };
}
