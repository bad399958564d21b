/**
 * Hardening through the real binary: FIFOs and devices as inputs, a model beside another export's
 * data file, external data symlinked out of the model folder, a disk too small for the export,
 * control characters from files, and `effnet serve`'s signals, Host check, methods and warnings.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { conv, Graph, relu } from '@effnet/graph-builder';
import { writeModel } from '@effnet/onnx-export';
import { BIN, binFinished, startBin, binScratch, expectError, lines, mkfifo } from './test-utils/bin.js';
import { MOUNT_HOW, need, requires } from '../../../test-utils/requires.js';

const { fresh, effnet } = binScratch('effnet-harden-cli-');

/** A w×h RGB PNG (no image library needed). */
function png(path: string, w = 40, h = 30): string {
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(h * (1 + 3 * w));
  for (let y = 0; y < h; y++) for (let x = 0; x < 3 * w; x++) raw[y * (1 + 3 * w) + 1 + x] = (x * 7 + y * 13) & 255;
  writeFileSync(path, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
  return path;
}

function tiny(name = 'tiny') {
  const g = new Graph(name);
  const x = g.input('input', 'float32', ['N', 3, 8, 8]);
  const w = g.initializer(
    'conv.weight',
    'float32',
    [64, 3, 3, 3],
    Float32Array.from({ length: 64 * 27 }, (_, i) => i / 100),
  );
  g.output(relu(conv(x, w, { pads: [1, 1, 1, 1], label: 'conv' })), 'out');
  return g.build();
}

describe.concurrent('FIFOs and devices are refused at once (exit 1, one line), never read', () => {
  it('a FIFO as --weights', async () => {
    const d = fresh();
    const fifo = mkfifo(join(d, 'w.safetensors'));
    const r = await effnet(['export', 'b0', '--weights', fifo, '-o', join(d, 'b0.onnx')], d);
    expectError(r, 1, /w\.safetensors: weights file is a FIFO \(named pipe\), expected a regular file/);
    expect(readdirSync(d)).toEqual(['w.safetensors']);
  });

  it('a FIFO to inspect', async () => {
    const d = fresh();
    const r = await effnet(['inspect', mkfifo(join(d, 'm.onnx'))], d);
    expectError(r, 1, /m\.onnx: model is a FIFO \(named pipe\), expected a regular file/);
  });

  it('/dev/zero to inspect', async () => {
    const r = await effnet(['inspect', '/dev/zero']);
    expectError(r, 1, '/dev/zero: model is a character device, expected a regular file');
  });
});

describe.concurrent('external data from another export is never used', () => {
  it('an old model beside a new .data (as a kill between the two renames leaves): refused naming both files', async () => {
    const d = fresh();
    // Same architecture and size, different weights (BN calibrated at another resolution).
    const a = await effnet(['export', 'b0', '--resolution', '32', '--external-data', '-o', 'a.onnx'], d);
    const b = await effnet(['export', 'b0', '--resolution', '64', '--external-data', '-o', 'b.onnx'], d);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect((await effnet(['inspect', join(d, 'a.onnx')])).code).toBe(0);
    copyFileSync(join(d, 'b.onnx.data'), join(d, 'a.onnx.data'));
    const msg = /a\.onnx: external data file '.*a\.onnx\.data' is not the one this model was written with \(expected \d+ bytes, sha256 [0-9a-f]{16}…; found sha256 [0-9a-f]{16}…\)/;
    expectError(await effnet(['inspect', join(d, 'a.onnx')]), 1, msg);
    expectError(await effnet(['classify', join(d, 'a.onnx'), png(join(d, 'x.png'))]), 1, msg);
  });

  it('external data symlinked out of the model folder: refused, as onnxruntime does', async () => {
    const d = fresh();
    mkdirSync(join(d, 'in'));
    writeModel(tiny(), join(d, 'm.onnx'), { externalData: true, externalThreshold: 16 });
    renameSync(join(d, 'm.onnx'), join(d, 'in', 'm.onnx'));
    symlinkSync(join(d, 'm.onnx.data'), join(d, 'in', 'm.onnx.data'));
    expectError(await effnet(['inspect', join(d, 'in', 'm.onnx')]), 1, /resolves to '.*\/m\.onnx\.data', outside the model's directory/);
  });
});

describe('free space is checked before writing', () => {
  it('effnet info shows the size an export will take (human and --json)', async () => {
    const j = await effnet(['info', 'b0', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const file = JSON.parse(j.stdout).file;
    expect(file.externalData).toBe(false);
    const exp = await effnet(['export', 'b0', '--json', '-o', 'b0.onnx']);
    const written = JSON.parse(exp.stdout).bytes;
    expect(file.bytes).toBeGreaterThanOrEqual(written);
    expect(file.bytes).toBeLessThan(written * 1.02);
    const h = await effnet(['info', 'b0']);
    expect(h.stdout).toMatch(/^ {2}file {8}about 2\d\.\d MB exported \(one \.onnx file, weights inline\)$/m);
    const big = await effnet(['info', 'efficientnet', '--phi', '14', '--json']);
    expect(big.code, big.stderr).toBe(0);
    expect(JSON.parse(big.stdout).file).toMatchObject({ externalData: true });
  });

  // A 4 MiB tmpfs seen by the effnet process only (a private mount namespace).
  const d = fresh();
  const unshare = process.getuid?.() === 0 ? ['unshare', '-m'] : ['unshare', '-rm'];
  const mount = 'mount -t tmpfs -o size=4m tmpfs "$0"';
  const probe = spawnSync(unshare[0]!, [...unshare.slice(1), 'sh', '-c', `${mount} && echo mounted`, d], { encoding: 'utf8' });
  const can = need(probe.stdout.trim() === 'mounted', `a private mount namespace (${unshare.join(' ')}: ${probe.stderr.trim() || probe.error?.message})`, MOUNT_HOW);
  requires(can).it('a model larger than the free space: one line saying how much is needed and free, nothing written', async () => {
    const command = [...unshare, 'sh', '-c', `${mount} && "$@"; echo "exit $? left: $(ls -A "$0")" >&2`, d, process.execPath, BIN];
    const r = await binFinished(startBin(['export', 'b0', '-o', join(d, 'b0.onnx')], d, command));
    expect(r.code, r.stderr).toBe(0); // sh's status: that of echo
    const [error, left] = lines(r.stderr);
    expect(error).toMatch(/^effnet: error: .*b0\.onnx: the model needs 2\d\.\d MiB but only [0-4]\.\d MiB is free there$/);
    expect(left).toBe('exit 1 left: ');
  });
});

describe.concurrent('text from files reaches the terminal escaped', () => {
  const OSC = '\x1b]0;pwned\x07';
  const CLEAR = '\x1b[2J\x1b[H';
  it('inspect: producer, graph name and metadata with control characters', async () => {
    const d = fresh();
    const path = join(d, 'evil.onnx');
    writeModel(tiny(`g${CLEAR}`), path, { producerName: `p${OSC}`, docString: 'line1\nline2', metadata: { [`k${CLEAR}`]: `v${OSC}`, c1: 'x\u009b31my', bidi: 'a\u202eb' } });
    const r = await effnet(['inspect', path], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(r.stdout).toContain('producer   p\\e]0;pwned\\x07');
    expect(r.stdout).toContain('graph      g\\e[2J\\e[H: line1\\nline2');
    expect(r.stdout).toContain('k\\e[2J\\e[H = v\\e]0;pwned\\x07');
    expect(r.stdout).toContain('c1 = x\\x9b31my');
    expect(r.stdout).toContain('bidi = a\\u202eb');
    const j = await effnet(['inspect', path, '--json'], d);
    expect(j.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    // Still the same JSON: the escapes decode to the original text.
    expect(JSON.parse(j.stdout).metadata).toMatchObject({ c1: 'x\u009b31my', bidi: 'a\u202eb', [`k${CLEAR}`]: `v${OSC}` });
  });

  it('classify: class names from a labels file, and errors naming file contents', async () => {
    const d = fresh();
    const labels = join(d, 'labels.txt');
    writeFileSync(labels, Array.from({ length: 1000 }, (_, i) => `class${i}${OSC}${CLEAR}`).join('\n'));
    const r = await effnet(['classify', 'b0', '--resolution', '32', '--labels', labels, '--top', '2', png(join(d, 'x.png'))], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(r.stdout).toMatch(/class\d+\\e\]0;pwned\\x07\\e\[2J\\e\[H {2}\[\d+\]/);
  });
});

/** GET/other method against the server with a chosen Host header. */
function http(port: number, o: { method?: string; host?: string; path?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/', headers: o.host === undefined ? {} : { host: o.host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts `effnet serve …`, waits for its URL line; returns the child, its port and its output so far. */
async function serve(args: readonly string[]) {
  const child = startBin(['serve', ...args, '--port', '0'], fresh());
  const done = binFinished(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const until = Date.now() + 60_000;
  while (!/http:\/\/[^ ]+:(\d+)\//.test(out)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`serve did not start: ${JSON.stringify(await Promise.race([done, Promise.resolve(out)]))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/http:\/\/[^ ]+:(\d+)\//.exec(out)![1]);
  return { child, done, port };
}

describe.concurrent('effnet serve', () => {
  it('GET/HEAD only, Host checked; SIGTERM ends it with 143 (killed by SIGTERM)', async () => {
    const s = await serve(['b0', '--resolution', '32']);
    try {
      expect((await http(s.port, { path: '/effnet-config.json' })).status).toBe(200);
      expect((await http(s.port, { path: '/effnet-config.json', host: `localhost:${s.port}` })).status).toBe(200);
      expect((await http(s.port, { path: '/effnet-config.json', host: `[::1]:${s.port}` })).status).toBe(200);
      expect((await http(s.port, { method: 'HEAD', path: '/model.onnx' })).status).toBe(200);
      const rebound = await http(s.port, { path: '/model.onnx', host: `attacker.example:${s.port}` });
      expect(rebound.status).toBe(403);
      expect(rebound.body).toMatch(/Host 'attacker\.example:\d+' does not name this server/);
      expect((await http(s.port, { path: '/model.onnx', host: `localhost:${s.port + 1}` })).status).toBe(403);
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) expect((await http(s.port, { method, path: '/model.onnx' })).status).toBe(405);
    } finally {
      s.child.kill('SIGTERM');
    }
    const r = await s.done;
    expect(r.signal ?? r.code).toBe(r.signal ? 'SIGTERM' : 143);
  });

  it('SIGINT (Ctrl-C) ends it with 130 (killed by SIGINT)', async () => {
    const s = await serve(['b0', '--resolution', '32']);
    s.child.kill('SIGINT');
    const r = await s.done;
    expect(r.signal ?? r.code).toBe(r.signal ? 'SIGINT' : 130);
    expect(r.stderr).toBe('');
  });

  it('--host 0.0.0.0: a one-line warning that the model is reachable from the network', async () => {
    const s = await serve(['b0', '--resolution', '32', '--host', '0.0.0.0']);
    s.child.kill('SIGTERM');
    const r = await s.done;
    expect(lines(r.stderr)).toEqual(['effnet: warning: listening on 0.0.0.0: the page and the model are reachable from the network, over plain http']);
  });

  it('a model with external data: refused at startup (the page loads one file)', async () => {
    const d = fresh();
    writeModel(tiny(), join(d, 'm.onnx'), { externalData: true, externalThreshold: 16 });
    const r = await effnet(['serve', join(d, 'm.onnx'), '--port', '0'], d);
    expectError(r, 1, /m\.onnx: its weights are in external data \(m\.onnx\.data\), which the browser demo does not load/);
  });
});
