/**
 * The part of the ZIP format that PyTorch's checkpoints use (`torch.save` since 1.6 writes a zip
 * archive, entries stored uncompressed and 64-byte aligned, ZIP64 past 4 GiB): the central directory
 * is read once, then each entry's bytes are read on demand by random access, so a 2 GB checkpoint is
 * never held in memory at once. Deflated entries (a checkpoint re-zipped by hand) are inflated whole.
 *
 * Hand-written rather than a library because the weight readers are synchronous and read ranges
 * of single entries (npm's zip readers are asynchronous or read the whole archive into memory).
 * Everything in the file is untrusted: every offset and size is checked against the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export class ZipError extends Error {
  override name = 'ZipError';
}

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** More entries than any checkpoint has (one per storage): a bound on what a hostile directory makes us allocate. */
const MAX_ENTRIES = 1_000_000;

/** True when the file starts like a zip archive (a local file header). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export class ZipReader {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly dataStart = new Map<string, number>();

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly fileBytes: number,
  ) {
    this.entries = this.readDirectory();
  }

  static open(path: string): ZipReader {
    const fd = openSync(path, 'r');
    try {
      return new ZipReader(path, fd, fstatSync(fd).size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private fail(msg: string): never {
    throw new ZipError(`${this.path}: not a readable zip archive: ${msg}`);
  }

  private read(position: number, length: number): Buffer {
    if (position < 0 || length < 0 || position + length > this.fileBytes) this.fail(`a record at byte ${position} (+${length}) lies outside the ${this.fileBytes}-byte file (truncated?)`);
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n === 0) this.fail(`unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return buf;
  }

  private readDirectory(): Map<string, ZipEntry> {
    // The end-of-central-directory record is 22 bytes plus a comment of at most 65,535.
    const tailLength = Math.min(this.fileBytes, 22 + 65_535);
    const tail = this.read(this.fileBytes - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    if (eocd < 0) this.fail('no end-of-central-directory record (truncated?)');
    let count = tail.readUInt16LE(eocd + 10);
    let dirSize = tail.readUInt32LE(eocd + 12);
    let dirOffset = tail.readUInt32LE(eocd + 16);
    const eocdAbs = this.fileBytes - tailLength + eocd;
    if (eocdAbs >= 20 && this.read(eocdAbs - 20, 4).readUInt32LE(0) === ZIP64_LOCATOR) {
      const locator = this.read(eocdAbs - 20, 20);
      const z64 = Number(locator.readBigUInt64LE(8));
      const rec = this.read(z64, 56);
      if (rec.readUInt32LE(0) !== ZIP64_EOCD) this.fail('the ZIP64 locator points to no ZIP64 end record');
      count = Number(rec.readBigUInt64LE(32));
      dirSize = Number(rec.readBigUInt64LE(40));
      dirOffset = Number(rec.readBigUInt64LE(48));
    }
    if (count > MAX_ENTRIES) this.fail(`${count} entries (at most ${MAX_ENTRIES})`);
    const dir = this.read(dirOffset, dirSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) this.fail(`central directory entry ${i} is malformed`);
      const flags = dir.readUInt16LE(p + 8);
      const method = dir.readUInt16LE(p + 10);
      let compressedSize = dir.readUInt32LE(p + 20);
      let size = dir.readUInt32LE(p + 24);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      let localHeaderOffset = dir.readUInt32LE(p + 42);
      if (p + 46 + nameLength + extraLength + commentLength > dir.length) this.fail(`central directory entry ${i} runs past the directory`);
      const name = dir.toString('utf8', p + 46, p + 46 + nameLength);
      // ZIP64 extended information: the 0xFFFFFFFF fields, in order, as 8-byte values.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = dir.readUInt16LE(e);
        const len = dir.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const next = (): number => {
            if (q + 8 > e + 4 + len) this.fail(`entry '${name}': short ZIP64 field`);
            const v = Number(dir.readBigUInt64LE(q));
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        e += 4 + len;
      }
      if (flags & 0x1) this.fail(`entry '${name}' is encrypted`);
      if (method !== 0 && method !== 8) this.fail(`entry '${name}' uses compression method ${method} (only stored and deflated entries are read)`);
      if (method === 0 && compressedSize !== size) this.fail(`entry '${name}' is stored but its sizes differ (${compressedSize} vs ${size})`);
      if (localHeaderOffset + 30 + compressedSize > this.fileBytes) this.fail(`entry '${name}' lies outside the file (truncated?)`);
      if (entries.has(name)) this.fail(`entry '${name}' appears twice`);
      entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  private start(entry: ZipEntry): number {
    let s = this.dataStart.get(entry.name);
    if (s === undefined) {
      const local = this.read(entry.localHeaderOffset, 30);
      if (local.readUInt32LE(0) !== LOCAL) this.fail(`entry '${entry.name}' has no local header at byte ${entry.localHeaderOffset}`);
      s = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      if (s + entry.compressedSize > this.fileBytes) this.fail(`entry '${entry.name}' runs past the end of the file (truncated?)`);
      this.dataStart.set(entry.name, s);
    }
    return s;
  }

  /** `length` bytes of entry `name` from `offset` (uncompressed positions). */
  readRange(name: string, offset: number, length: number): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) this.fail(`no entry '${name}'`);
    if (offset < 0 || length < 0 || offset + length > entry.size) this.fail(`entry '${name}' holds ${entry.size} bytes, asked for ${length} at ${offset}`);
    if (entry.method === 0) return this.read(this.start(entry) + offset, length);
    return this.readAll(name).subarray(offset, offset + length);
  }

  /** The whole entry, uncompressed. */
  readAll(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) this.fail(`no entry '${name}'`);
    const raw = this.read(this.start(entry), entry.compressedSize);
    if (entry.method === 0) return raw;
    let out: Buffer;
    try {
      out = inflateRawSync(raw, { maxOutputLength: entry.size });
    } catch (e) {
      this.fail(`entry '${name}' does not inflate: ${(e as Error).message}`);
    }
    if (out.length !== entry.size) this.fail(`entry '${name}' inflates to ${out.length} bytes, the directory says ${entry.size}`);
    return out;
  }
}
