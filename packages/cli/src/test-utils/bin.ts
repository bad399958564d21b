/**
 * The real `effnet` binary (node packages/cli/bin/effnet.js over the built dist/) as a child process,
 * for tests of what only a process shows: exit codes and signals, what reaches the terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const BIN = join(REPO, 'packages/cli/bin/effnet.js');

export interface BinResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `effnet args` (NO_COLOR, FORCE_COLOR=0); `command` replaces `node BIN` (e.g. a wrapper). */
export function startBin(args: readonly string[], cwd: string, command: readonly string[] = [process.execPath, BIN]): ChildProcess {
  if (!existsSync(join(REPO, 'packages/cli/dist/main.js'))) throw new Error('packages/cli/dist is missing: run `npm run build` (npm test does) before these tests');
  const [exe, ...pre] = command;
  return spawn(exe!, [...pre, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a started child's output until it ends. */
export function binFinished(child: ChildProcess): Promise<BinResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runBin = (args: readonly string[], cwd: string, command?: readonly string[]): Promise<BinResult> => binFinished(startBin(args, cwd, command));
