/**
 * Opening untrusted input paths safely: only regular files are read. A FIFO would block open()
 * or read() for ever, a character device such as /dev/zero never ends, a directory is no file.
 * The file is opened with O_NONBLOCK (so a FIFO cannot block the open itself) and its type is
 * checked on the open descriptor (no race between the check and the read).
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export class FileTypeError extends Error {
  override name = 'FileTypeError';
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function openError(path: string, e: unknown): FileTypeError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code === 'ELOOP' ? 'symlink loop' : (code ?? String(e));
  return new FileTypeError(`${path}: cannot open (${why})`);
}

/** Throws unless `path` is a regular file (following symlinks); returns its stats. Never blocks. */
export function assertRegularFile(path: string, what = 'file'): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw openError(path, e);
  }
  if (!st.isFile()) throw new FileTypeError(`${path}: ${what} is ${kind(st)}, expected a regular file`);
  return st;
}

/** Opens a regular file for reading: returns the descriptor and its size. The caller closes it. */
export function openRegularFile(path: string, what = 'file'): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileTypeError(`${path}: ${what} is ${kind(st)}, expected a regular file`);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes (its size is checked before reading,
 * and the read stops at the size seen then even if the file grows).
 */
export function readRegularFile(path: string, what = 'file', maxBytes = 2 ** 31): Uint8Array {
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size > maxBytes) throw new FileTypeError(`${path}: ${what} of ${size} bytes is over the limit of ${maxBytes} bytes`);
    const buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * readRegularFile without blocking the event loop (many images decode at once): opened with
 * O_NONBLOCK, type and size checked on the descriptor, at most `maxBytes` read.
 */
export async function readRegularFileAsync(path: string, what = 'file', maxBytes = 2 ** 31): Promise<Uint8Array> {
  let h: import('node:fs/promises').FileHandle;
  try {
    h = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new FileTypeError(`${path}: ${what} is ${kind(st)}, expected a regular file`);
    if (st.size > maxBytes) throw new FileTypeError(`${path}: ${what} of ${st.size} bytes is over the limit of ${maxBytes} bytes`);
    const buf = new Uint8Array(st.size);
    let got = 0;
    while (got < st.size) {
      const { bytesRead } = await h.read(buf, got, st.size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === st.size ? buf : buf.subarray(0, got);
  } finally {
    await h.close();
  }
}
