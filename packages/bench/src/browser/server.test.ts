import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from './server.js';

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
