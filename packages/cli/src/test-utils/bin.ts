/**
 * The real `effnet` binary (node packages/cli/bin/effnet.js over the built dist/) as a child process,
 * for tests of what only a process shows: exit codes and signals, what reaches the terminal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

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

/**
 * A test file's scratch area: `fresh()` gives a new empty folder under one temp root (removed after
 * the file's tests), `effnet(args)` runs the binary in a fresh folder unless given one.
 */
export function binScratch(prefix: string): { fresh: () => string; effnet: (args: readonly string[], cwd?: string) => Promise<BinResult> } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const fresh = (): string => {
    const d = join(root, `d${n++}`);
    mkdirSync(d);
    return d;
  };
  return { fresh, effnet: (args, cwd = fresh()) => runBin(args, cwd) };
}

export const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** The CLI's error contract: exit `code`, one `effnet: error:` line holding every part, no stack trace. */
export function expectError(r: BinResult, code: 1 | 2, ...parts: (string | RegExp)[]): void {
  expect(r.code, r.stderr).toBe(code);
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^effnet: error: /);
  for (const p of parts) expect(r.stderr).toMatch(p);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** A named pipe at `path` (mkfifo). */
export function mkfifo(path: string): string {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
  return path;
}
