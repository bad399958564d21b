/**
 * Atomic output files: everything is written to a temporary file in the target's directory and
 * renamed over the target only when complete. An error, Ctrl-C or SIGTERM leaves no partial file.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const pending = new Set<string>();
let hooked = false;

function cleanup(): void {
  for (const p of pending) rmSync(p, { force: true });
  pending.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      cleanup();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
}

export interface AtomicOptions {
  /** Replace an existing file at the target path (default false). */
  readonly overwrite?: boolean;
}

export class AtomicFile {
  readonly tempPath: string;
  private fd: number | undefined;
  private position = 0;

  constructor(readonly path: string, o: AtomicOptions = {}) {
    if (!o.overwrite && existsSync(path)) throw new OutputExistsError(`${path}: already exists (use --force to overwrite)`);
    hook();
    this.tempPath = join(dirname(path), `.effnet-tmp-${process.pid}-${Date.now().toString(36)}-${basename(path)}`);
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o644);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'directory does not exist' : err.code === 'EACCES' || err.code === 'EROFS' ? 'directory is not writable' : err.message;
      throw new Error(`${path}: cannot write output (${why})`);
    }
    pending.add(this.tempPath);
  }

  get bytesWritten(): number {
    return this.position;
  }

  write(data: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.path}: write after close`);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.position += data.length;
  }

  /** Flush, close and rename onto the target. */
  commit(): void {
    if (this.fd === undefined) throw new Error(`${this.path}: already closed`);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    renameSync(this.tempPath, this.path);
    pending.delete(this.tempPath);
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tempPath, { force: true });
    pending.delete(this.tempPath);
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
