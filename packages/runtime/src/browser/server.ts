/**
 * A small localhost HTTP server for pages that run onnxruntime-web: static directories (sirv)
 * mounted under URL prefixes, plus in-memory routes (a model's bytes, a JSON config). Every
 * response is cross-origin isolated (COOP/COEP), which onnxruntime-web's multi-threaded wasm needs
 * (SharedArrayBuffer). Binds 127.0.0.1 by default: a secure context, as WebGPU requires.
 * Only GET and HEAD are answered (405 otherwise), and only for a Host header naming this server
 * (403 otherwise), so that a web page whose DNS name is rebound to 127.0.0.1 cannot read the model.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
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

/** Addresses that listen on every interface. */
export const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

/** Whether `host` (an address or name to listen on) is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Whether a request's Host header names this server: an IP literal (DNS rebinding needs a name),
 * localhost, the host it was started with or, when listening on every interface, this machine's
 * name; with the port it listens on (or none when that is 80).
 */
export function hostAllowed(header: string | undefined, listenHost: string, port: number): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(header.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  const p = m[2] === undefined ? 80 : Number(m[2]);
  if (p !== port) return false;
  const bare = name.replace(/^\[|\]$/g, '');
  if (isIP(bare) || bare === 'localhost') return true;
  const own = listenHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === own) return true;
  return WILDCARD_HOSTS.has(listenHost) && (bare === hostname().toLowerCase() || bare.startsWith(`${hostname().toLowerCase()}.`));
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  let port = 0;
  const listenHost = o.host ?? '127.0.0.1';
  // Longest prefix first, so '/ort/' wins over '/'.
  const mounts = Object.entries(o.mounts ?? {})
    .sort((a, b) => b[0].length - a[0].length)
    .map(([prefix, dir]) => ({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, handler: sirv(dir, { dev: false, etag: true }) }));
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' });
      res.end('method not allowed: GET and HEAD only');
      return;
    }
    if (!hostAllowed(req.headers.host, listenHost, port)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end(`forbidden: Host '${req.headers.host ?? ''}' does not name this server`);
      return;
    }
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
        // sirv pipes a file stream into the response; a plain pipe() leaves the file open when the
        // client hangs up first (a leaked descriptor per page load until GC): close it with the response.
        res.once('pipe', (src: NodeJS.ReadableStream & { destroy?: () => void }) => res.once('close', () => src.destroy?.()));
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
  port = (server.address() as AddressInfo).port;
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
