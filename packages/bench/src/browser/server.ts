/**
 * A small localhost HTTP server for pages that run onnxruntime-web: static directories (sirv)
 * mounted under URL prefixes, plus in-memory routes (a model's bytes, a JSON config). Every
 * response is cross-origin isolated (COOP/COEP), which onnxruntime-web's multi-threaded wasm needs
 * (SharedArrayBuffer). Binds 127.0.0.1 by default: a secure context, as WebGPU requires.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';

export interface StaticRoute {
  readonly body: Uint8Array | string;
  readonly type: string;
}

export interface ServerOptions {
  /** URL prefix ('/' or '/ort/') → directory served under it. */
  readonly mounts?: Readonly<Record<string, string>>;
  /** Exact URL paths answered from memory (checked before the mounts). */
  readonly routes?: ReadonlyMap<string, StaticRoute | (() => StaticRoute)>;
  readonly port?: number;
  readonly host?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  // Longest prefix first, so '/ort/' wins over '/'.
  const mounts = Object.entries(o.mounts ?? {})
    .sort((a, b) => b[0].length - a[0].length)
    .map(([prefix, dir]) => ({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, handler: sirv(dir, { dev: false, etag: true }) }));
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    res.setHeader('Cache-Control', 'no-store');
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    } catch {
      // A malformed escape (GET /%) is the client's error; thrown here it would end the server.
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('bad request: malformed URL');
      return;
    }
    const r = o.routes?.get(path);
    if (r) {
      const { body, type } = typeof r === 'function' ? r() : r;
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    for (const m of mounts) {
      if (path.startsWith(m.prefix)) {
        req.url = `/${(req.url ?? '/').slice(m.prefix.length)}`;
        m.handler(req, res, () => notFound(res));
        return;
      }
    }
    notFound(res);
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `port ${o.port}: already in use (choose another with --port)` : `cannot listen on ${o.host ?? '127.0.0.1'}:${o.port ?? 0}: ${e.message}`)),
    );
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host && o.host !== '0.0.0.0' && o.host !== '::' ? o.host : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
}
