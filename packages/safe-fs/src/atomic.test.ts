import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicFile, checkOutputDir, checkOutputFile, makeTempDir, OutputExistsError, writeFileAtomic } from './atomic.js';

const root = mkdtempSync(join(tmpdir(), 'effnet-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const temps = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('.effnet-tmp-'));

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('AtomicFile', () => {
  it('writes through a temporary file in the same directory and leaves only the target', () => {
    const dir = fresh();
    const path = join(dir, 'a.txt');
    const f = new AtomicFile(path);
    f.write(Buffer.from('hello '));
    expect(existsSync(path)).toBe(false);
    expect(temps(dir)).toEqual([f.tempPath.slice(dir.length + 1)]);
    f.write(Buffer.from('world'));
    f.commit();
    expect(readFileSync(path, 'utf8')).toBe('hello world');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  it('refuses an existing file unless overwrite, and leaves it untouched', () => {
    const dir = fresh();
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'old');
    expect(() => writeFileAtomic(path, 'new')).toThrow(OutputExistsError);
    expect(() => writeFileAtomic(path, 'new')).toThrow(`${path}: already exists; pass overwrite: true to replace it`);
    try {
      writeFileAtomic(path, 'new');
    } catch (e) {
      expect((e as OutputExistsError).path).toBe(path);
    }
    expect(readFileSync(path, 'utf8')).toBe('old');
    writeFileAtomic(path, 'new', { overwrite: true });
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(temps(dir)).toEqual([]);
  });

  it('never replaces a file that appeared while it was writing (without overwrite)', () => {
    const dir = fresh();
    const path = join(dir, 'race.txt');
    const f = new AtomicFile(path);
    f.write(Buffer.from('mine'));
    writeFileSync(path, 'theirs');
    expect(() => f.commit()).toThrow(OutputExistsError);
    expect(readFileSync(path, 'utf8')).toBe('theirs');
    expect(temps(dir)).toEqual([]);
  });

  it('abort removes the temporary file', () => {
    const dir = fresh();
    const f = new AtomicFile(join(dir, 'x.bin'));
    f.write(new Uint8Array(1000));
    f.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says which part of the path is wrong: missing directory, file used as directory, directory as target', () => {
    const dir = fresh();
    const missing = join(dir, 'no', 'such', 'x.onnx');
    expect(() => new AtomicFile(missing)).toThrow(`${missing}: cannot write output: directory '${join(dir, 'no')}' does not exist`);
    writeFileSync(join(dir, 'file'), 'x');
    const underFile = join(dir, 'file', 'x.onnx');
    expect(() => new AtomicFile(underFile)).toThrow(`${underFile}: cannot write output: '${join(dir, 'file')}' is not a directory`);
    expect(() => new AtomicFile(dir, { overwrite: true })).toThrow(`${dir}: is a directory`);
    expect(() => new AtomicFile('/dev/null', { overwrite: true })).toThrow('/dev/null: exists and is not a regular file');
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('installs signal handlers only while a file is pending', async () => {
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    await turns(3); // earlier tests' files are gone: their handlers go within two turns
    const before = process.listenerCount('SIGINT');
    const dir = fresh();
    const a = new AtomicFile(join(dir, 'a'));
    const b = new AtomicFile(join(dir, 'b'));
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    a.commit();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    b.abort();
    await turns(3); // removed two event-loop turns later (see 'a signal that arrived while…')
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it("removes a dead process's stale temporary file of the same target, and nothing else", () => {
    const dir = fresh();
    const dead = deadPid();
    const old = (Date.now() - 5 * 60_000) / 1000;
    const stale = `.effnet-tmp-${dead}-abc1-m.onnx`;
    const recent = `.effnet-tmp-${dead}-abc2-m.onnx`; // may still be in use by a process we cannot see
    const other = `.effnet-tmp-${dead}-abc3-n.onnx`; // another target
    const alive = `.effnet-tmp-${process.ppid}-abc4-m.onnx`; // a live process
    for (const f of [stale, recent, other, alive]) writeFileSync(join(dir, f), 'partial');
    for (const f of [stale, other, alive]) utimesSync(join(dir, f), old, old);
    writeFileAtomic(join(dir, 'm.onnx'), 'model');
    expect(readdirSync(dir).sort()).toEqual([recent, other, alive, 'm.onnx'].sort());
  });
});

describe('checking outputs before a long run', () => {
  it('checkOutputFile: what AtomicFile would refuse, without creating anything', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'taken.json'), 'x');
    expect(() => checkOutputFile(join(dir, 'new.json'))).not.toThrow();
    expect(() => checkOutputFile(join(dir, 'taken.json'))).toThrow(OutputExistsError);
    expect(() => checkOutputFile(join(dir, 'taken.json'), { overwrite: true })).not.toThrow();
    expect(() => checkOutputFile(join(dir, 'no', 'x.json'))).toThrow(`cannot write output: directory '${join(dir, 'no')}' does not exist`);
    expect(() => checkOutputFile(join(dir, 'taken.json', 'x.json'))).toThrow(`'${join(dir, 'taken.json')}' is not a directory`);
    expect(() => checkOutputFile(dir, { overwrite: true })).toThrow('is a directory');
    expect(readdirSync(dir)).toEqual(['taken.json']);
  });

  it('checkOutputDir: a missing report directory is fine (made later), one under a file is not', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => checkOutputDir(join(dir, 'reports', 'today'))).not.toThrow();
    expect(() => checkOutputDir(dir)).not.toThrow();
    expect(() => checkOutputDir(join(dir, 'file'))).toThrow(`${join(dir, 'file')}: cannot write output: '${join(dir, 'file')}' is not a directory`);
    expect(() => checkOutputDir(join(dir, 'file', 'reports'))).toThrow(`'${join(dir, 'file')}' is not a directory`);
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('checkOutputDir with file names: a directory in the place of a report file is refused', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'results.json'));
    expect(() => checkOutputDir(dir, ['results.md'])).not.toThrow();
    expect(() => checkOutputDir(dir, ['results.json'])).toThrow(`${join(dir, 'results.json')}: is a directory`);
  });

  it('checkOutputFile: an empty path and a dangling symlink are refused', () => {
    const dir = fresh();
    symlinkSync(join(dir, 'nowhere', 'x'), join(dir, 'link'));
    expect(() => checkOutputFile('')).toThrow('output file: empty path');
    expect(() => checkOutputFile(join(dir, 'link'), { overwrite: true })).toThrow(`${join(dir, 'link')}: is a symbolic link to a missing file`);
  });
});

describe('makeTempDir', () => {
  it('remove() deletes the directory and its contents', () => {
    const parent = fresh();
    const t = makeTempDir('effnet-x-', parent);
    writeFileSync(join(t.path, 'model.onnx.data'), new Uint8Array(1000));
    t.remove();
    t.remove();
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('cleanup in a real process (built dist)', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  /** A process holding a temp dir and a pending output in `dir`; prints "ready" then idles, or throws. */
  function holder(dir: string, then: 'idle' | 'throw' | 'signal-then-abort') {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build (npm test does)`);
    const script = `
      import { writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      import { AtomicFile, makeTempDir } from ${JSON.stringify(pathToFileURL(dist).href)};
      const dir = process.argv[1];
      const t = makeTempDir('effnet-scratch-', dir);
      writeFileSync(join(t.path, 'big.onnx.data'), new Uint8Array(1 << 20));
      const f = new AtomicFile(join(dir, 'out.onnx'));
      f.write(new Uint8Array(1 << 20));
      ${
        then === 'throw'
          ? "throw new Error('boom');"
          : then === 'idle'
            ? "console.log('ready'); setInterval(() => {}, 1000);"
            : // Ctrl-C arrives during synchronous work, which then fails and cleans up by itself.
              "process.kill(process.pid, 'SIGINT'); f.abort(); t.remove(); process.exitCode = 1;"
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    return { child, ready, exited };
  }

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: temp dir and temp file removed, process dies of the signal', async (sig) => {
    const dir = fresh();
    const h = holder(dir, 'idle');
    await h.ready;
    expect(readdirSync(dir)).toHaveLength(2);
    h.child.kill(sig);
    expect(await h.exited).toEqual({ code: null, signal: sig });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a signal that arrived while files were pending still ends the process after they were cleaned up', async () => {
    const dir = fresh();
    const h = holder(dir, 'signal-then-abort');
    expect(await h.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an uncaught error: removed at exit', async () => {
    const dir = fresh();
    const h = holder(dir, 'throw');
    expect((await h.exited).code).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('makeTempDir: leftovers of killed processes', () => {
  it('removes <prefix><pid>-XXXXXX directories of dead processes, keeps live ones and other names', () => {
    const parent = fresh();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const old = new Date(Date.now() - 5 * 60_000);
    const make = (name: string) => {
      mkdirSync(join(parent, name, 'sub'), { recursive: true });
      writeFileSync(join(parent, name, 'sub', 'batch-stats.onnx.data'), 'x');
      utimesSync(join(parent, name), old, old);
      return name;
    };
    const stale = make(`effnet-calibrate-${dead}-abc123`);
    const live = make(`effnet-calibrate-${process.ppid}-def456`);
    const other = make(`effnet-other-${dead}-abc123`);
    const fresh2 = `effnet-calibrate-${dead}-xyz789`;
    mkdirSync(join(parent, fresh2)); // recent: may still be in use by a pid that was reused
    const t = makeTempDir('effnet-calibrate-', parent);
    expect(t.path).toMatch(new RegExp(`effnet-calibrate-${process.pid}-[0-9A-Za-z]{6}$`));
    expect(readdirSync(parent).sort()).toEqual([live, fresh2, other, t.path.slice(parent.length + 1)].sort());
    expect(readdirSync(parent)).not.toContain(stale);
    t.remove();
  });
});
