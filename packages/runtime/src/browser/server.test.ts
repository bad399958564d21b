import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostAllowed, isLoopbackHost, startServer } from './server.js';

const root = mkdtempSync(join(tmpdir(), 'effnet-server-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('startServer with hostile requests', () => {
  it('answers malformed and traversing URLs with 4xx and keeps serving', async () => {
    const site = join(root, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), 'hello');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    const server = await startServer({ mounts: { '/': site }, routes: new Map([['/model.onnx', { body: new Uint8Array(3), type: 'application/octet-stream' }]]) });
    try {
      const get = async (p: string) => {
        const r = await fetch(new URL(p, server.url), { signal: AbortSignal.timeout(10_000) });
        return { status: r.status, text: await r.text() };
      };
      expect(await get('/%')).toMatchObject({ status: 400 });
      expect(await get('/%E0%A4%A')).toMatchObject({ status: 400 });
      for (const p of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/..%5csecret.txt']) {
        const r = await get(p);
        expect(r.status, p).toBeGreaterThanOrEqual(400);
        expect(r.text).not.toContain('secret');
      }
      expect(await get('/index.html')).toEqual({ status: 200, text: 'hello' });
      expect(await get('/?ep=wasm')).toEqual({ status: 200, text: 'hello' }); // a directory serves its index.html
      expect((await get('/model.onnx')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('file descriptors', () => {
  it('400 page loads leave no file open (index.html was leaked once per load)', async () => {
    const site = join(root, 'fd-site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), 'x'.repeat(200_000));
    const server = await startServer({ mounts: { '/': site } });
    const openIndex = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith('fd-site/index.html');
        } catch {
          return false;
        }
      }).length;
    try {
      for (let i = 0; i < 400; i++) {
        // Half the clients hang up before the body is read (the case that leaked).
        const ac = new AbortController();
        const r = await fetch(server.url, { signal: ac.signal });
        if (i % 2) ac.abort();
        else await r.text();
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(openIndex()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('Host header check (DNS rebinding)', () => {
  it('accepts IP literals, localhost and the host it listens on, with its port', () => {
    for (const h of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST:8080', '[::1]:8080', '192.168.1.5:8080']) expect(hostAllowed(h, '127.0.0.1', 8080), h).toBe(true);
    expect(hostAllowed('demo.lan:8080', 'demo.lan', 8080)).toBe(true);
    expect(hostAllowed('localhost', '127.0.0.1', 80)).toBe(true);
  });

  it('refuses other names, other ports, a missing or malformed header', () => {
    for (const h of ['attacker.example:8080', 'localhost:8081', 'localhost', 'a:b:c', '', undefined]) expect(hostAllowed(h, '127.0.0.1', 8080), String(h)).toBe(false);
    expect(hostAllowed(`${hostname()}:8080`, '127.0.0.1', 8080)).toBe(isLoopbackHost(hostname()) || hostname() === 'localhost');
  });

  it("on every interface, also this machine's own name", () => {
    expect(hostAllowed(`${hostname()}:8080`, '0.0.0.0', 8080)).toBe(true);
    expect(hostAllowed('attacker.example:8080', '0.0.0.0', 8080)).toBe(false);
  });

  it('isLoopbackHost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
