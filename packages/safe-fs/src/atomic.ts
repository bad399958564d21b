/**
 * Atomic output files: everything is written to a temporary file in the target's directory and
 * renamed over the target only when complete. An error, Ctrl-C, SIGTERM or SIGHUP leaves no partial
 * file and no temporary file; SIGKILL (or a power cut) can leave a `.effnet-tmp-<pid>-…` file but
 * never a partial target, and the next write of the same target removes such leftovers of dead
 * processes.
 *
 * Signals reach JavaScript only between event-loop turns: long writers must yield now and then
 * (see writeModelAsync) or Ctrl-C is handled only after they finish.
 */
import { accessSync, closeSync, constants as fsConstants, fsyncSync, linkSync, lstatSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Temp files (not committed yet) and temp directories of this process. */
const pending = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const TEMP_PREFIX = '.effnet-tmp-';
/** A dead process's temp file is removed only once it has not changed for this long. */
const STALE_MS = 60_000;
let exitHooked = false;

function cleanup(): void {
  for (const p of pending) rmSync(p, { recursive: true, force: true });
  pending.clear();
}

/** Removes the temp files, then dies of the same signal, as a program without handlers would. */
function onSignal(sig: NodeJS.Signals): void {
  cleanup();
  unhookSignals();
  process.kill(process.pid, sig);
  process.exit(128 + (constants.signals[sig] ?? 0)); // only if the signal did not end the process
}

function hookSignals(): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', cleanup);
  }
  // Installed only while a file is pending: at other times the default action (exit at once) applies.
  for (const sig of SIGNALS) if (!process.listeners(sig).includes(onSignal)) process.on(sig, onSignal);
}

function unhookSignals(): void {
  for (const sig of SIGNALS) process.off(sig, onSignal);
}

function track(temp: string): void {
  pending.add(temp);
  hookSignals();
}

function untrack(temp: string): void {
  pending.delete(temp);
  // Not at once: a signal that arrived while the file was pending (e.g. Ctrl-C that also ended a
  // child process, whose failure aborted the file) is read by the event loop only after this
  // synchronous code; it must still end the process by that signal rather than be dropped.
  // Two turns: the first may come before the loop next polls for signals.
  if (pending.size === 0)
    setImmediate(() =>
      setImmediate(() => {
        if (pending.size === 0) unhookSignals();
      }),
    );
}

/**
 * The output path exists and `overwrite: true` was not given. Speaks the library's language; a
 * command line catches it (instanceof) and names its own flag, using `path`.
 */
export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
  constructor(readonly path: string) {
    super(`${path}: already exists; pass overwrite: true to replace it`);
  }
}

export interface AtomicOptions {
  /** Replace an existing file at the target path (default false). */
  readonly overwrite?: boolean;
}

/** stat, or undefined where nothing can be there (missing, or a parent is not a directory). */
function statIfAny(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function lstatIfAny(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The first ancestor of `dir` (as the user spelled it) that is missing or not a directory. */
function blockingAncestor(dir: string): string {
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    const st = statIfAny(d);
    if (!st) return `directory '${d}' does not exist`;
    if (!st.isDirectory()) return `'${d}' is not a directory`;
  }
  return `directory '${dir}' does not exist`;
}

/** One clause saying why a file could not be created or written in `path`'s directory. */
function why(path: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const dir = dirname(path);
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return blockingAncestor(dir);
    case 'EACCES':
    case 'EPERM':
      return `no permission to create files in '${dir}'`;
    case 'EROFS':
      return `'${dir}' is on a read-only file system`;
    case 'ENOSPC':
      return `no space left on the device of '${dir}'`;
    case 'EDQUOT':
      return `disk quota exceeded in '${dir}'`;
    case 'EISDIR':
      return `'${path}' is a directory`;
    default:
      return err.code ? `${err.code}: ${err.message}` : String(err.message ?? err);
  }
}

function checkWritableDir(dir: string, label: string, mayCreate: boolean): void {
  for (let d = dir; ; d = dirname(d)) {
    const st = statIfAny(d);
    if (st) {
      if (!st.isDirectory() || (d !== dir && !mayCreate)) throw new Error(`${label}: cannot write output: ${blockingAncestor(dir)}`);
      try {
        accessSync(d, fsConstants.W_OK);
      } catch (e) {
        throw new Error(`${label}: cannot write output: ${why(join(d, 'x'), e)}`);
      }
      return;
    }
    if (dirname(d) === d) return;
  }
}

/**
 * Fails at once, with one line naming the problem, where the files of a report directory could not
 * be written (it may be missing: it is created later) — so that a long run does not fail at its end.
 */
export function checkOutputDir(dir: string, files: readonly string[] = []): void {
  if (dir === '') throw new Error('output directory: empty path');
  checkWritableDir(dir, dir, true);
  // The files the report will replace: a directory (or a device...) in their place would fail the last step.
  for (const f of files) checkTarget(join(dir, f), true);
}

/** What `new AtomicFile(path, o)` would refuse, checked before a long run that writes `path` at its end. */
export function checkOutputFile(path: string, o: AtomicOptions = {}): void {
  checkTarget(path, !!o.overwrite);
  checkWritableDir(dirname(path), path, false);
}

function checkTarget(path: string, overwrite: boolean): void {
  if (path === '') throw new Error('output file: empty path');
  // A dangling symlink: the rename would replace the link, not write where it points.
  if (lstatIfAny(path)?.isSymbolicLink() && !statIfAny(path)) throw new Error(`${path}: is a symbolic link to a missing file; remove it or give another output path`);
  const st = statIfAny(path);
  if (st?.isDirectory()) throw new Error(`${path}: is a directory; give a file path for the output`);
  if (st && !st.isFile()) throw new Error(`${path}: exists and is not a regular file; outputs are written by renaming a temporary file, give a file path`);
  if (st && !overwrite) throw new OutputExistsError(path);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.effnet-tmp-<pid>-<id>-<name>` files of processes that no longer run. Best effort. */
function removeStale(dir: string, name: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const e of entries) {
    const m = /^\.effnet-tmp-(\d+)-[0-9a-z]+-(.+)$/.exec(e);
    if (!m || m[2] !== name || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    const p = join(dir, e);
    try {
      const st = statSync(p);
      if (st.isFile() && now - st.mtimeMs > STALE_MS) rmSync(p, { force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

let counter = 0;

export class AtomicFile {
  readonly tempPath: string;
  private fd: number | undefined;
  private position = 0;
  private readonly overwrite: boolean;

  constructor(
    readonly path: string,
    o: AtomicOptions = {},
  ) {
    this.overwrite = !!o.overwrite;
    checkTarget(path, this.overwrite);
    const dir = dirname(path);
    removeStale(dir, basename(path));
    const id = `${Date.now().toString(36)}${(counter++).toString(36)}`;
    this.tempPath = join(dir, `${TEMP_PREFIX}${process.pid}-${id}-${basename(path)}`);
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o644);
    } catch (e) {
      throw new Error(`${path}: cannot write output: ${why(path, e)}`);
    }
    track(this.tempPath);
  }

  get bytesWritten(): number {
    return this.position;
  }

  write(data: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.path}: write after close`);
    let off = 0;
    try {
      while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    } catch (e) {
      throw new Error(`${this.path}: write failed after ${this.position + off} bytes: ${why(this.path, e)}`);
    }
    this.position += data.length;
  }

  /** Flushes to disk and closes the temporary file (commit() does this if it was not done). */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      throw new Error(`${this.path}: write failed: ${why(this.path, e)}`);
    }
    closeSync(fd);
  }

  /**
   * Puts the finished file at the target path. Without `overwrite` this never replaces a file
   * that appeared meanwhile (hard link, which fails if the target exists, where the file system
   * has hard links).
   */
  commit(): void {
    if (!pending.has(this.tempPath)) throw new Error(`${this.path}: already committed or aborted`);
    this.close();
    try {
      if (this.overwrite) renameSync(this.tempPath, this.path);
      else publishNew(this.tempPath, this.path);
    } catch (e) {
      this.abort();
      if (e instanceof OutputExistsError) throw e;
      throw new Error(`${this.path}: cannot write output: ${why(this.path, e)}`);
    }
    untrack(this.tempPath);
    syncDir(dirname(this.path));
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tempPath, { force: true });
    untrack(this.tempPath);
  }
}

function publishNew(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OutputExistsError(path);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
    // No hard links here (FAT, some network file systems): check, then rename.
    if (statIfAny(path)) throw new OutputExistsError(path);
    renameSync(temp, path);
    return;
  }
  rmSync(temp, { force: true });
}

/** Makes the rename durable where the platform allows fsync on a directory. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported (Windows) — the data itself is already flushed
  }
}

/** Writes `data` to `path` atomically. */
export function writeFileAtomic(path: string, data: string | Uint8Array, o: AtomicOptions = {}): void {
  const f = new AtomicFile(path, o);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    f.commit();
  } catch (e) {
    f.abort();
    throw e;
  }
}

export interface TempDir {
  readonly path: string;
  /** Removes the directory and everything in it (idempotent). */
  remove(): void;
}

/**
 * Removes `<prefix><pid>-XXXXXX` directories of processes that no longer run (killed with
 * SIGKILL, or a crash: nothing could remove them then), untouched for a minute. Best effort.
 */
function removeStaleDirs(parent: string, prefix: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  const now = Date.now();
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9A-Za-z]{6}$/.exec(e.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    const p = join(parent, e);
    try {
      const st = lstatSync(p);
      if (st.isDirectory() && st.uid === (process.getuid?.() ?? st.uid) && now - st.mtimeMs > STALE_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/**
 * A fresh temporary directory (`<parent>/<prefix><pid>-XXXXXX`) that is removed with its contents
 * by remove(), at exit, and on SIGINT/SIGTERM/SIGHUP — for large scratch files such as a model over
 * 2 GiB written only so that a runtime can load it. Directories of the same prefix left by a
 * process that was killed (SIGKILL) are removed when the next one is made.
 */
export function makeTempDir(prefix: string, parent: string = tmpdir()): TempDir {
  removeStaleDirs(parent, prefix);
  const path = mkdtempSync(join(parent, `${prefix}${process.pid}-`));
  track(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      untrack(path);
    },
  };
}
