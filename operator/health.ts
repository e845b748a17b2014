// /metrics, /healthz and /readyz on one small HTTP server.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export function startHealthServer(
  bind: string,
  port: number,
  registry: Registry,
  ready: () => boolean,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') return ready() ? send(200, 'ok\n') : send(503, 'caches not synced\n');
    if (path === '/metrics') {
      registry.metrics().then(
        (m) => send(200, m, registry.contentType),
        (err: unknown) => send(500, `${String(err)}\n`),
      );
      return;
    }
    send(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}
