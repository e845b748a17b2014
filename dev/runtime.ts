// A demo function runtime for `make run`: it answers the invoker like Qinling's execution API and
// prints one readable line per execution it receives, so a newcomer sees each run happen.
// Qinling mode: POST /v1/executions with Qinling's body. http mode: POST the input to any path.
// Usage: node dist/dev/runtime.js [--port 0] [--bind 127.0.0.1]
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { LRUCache } from 'lru-cache';

const BODY_LIMIT = 1024 * 1024;

interface Execution {
  id: string;
  function_id: string | null;
  function_alias: string | null;
  function_version: number;
  description: string;
  input: string;
  result: string;
  status: 'success';
  sync: boolean;
  created_at: string;
  updated_at: string;
}

/** Idempotency keys remembered, so a repeated call is answered with its first execution. */
const seen = new LRUCache<string, Execution>({ max: 1000 });

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > BODY_LIMIT) {
        resolve(undefined);
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The execution a call asks for: Qinling's body in qinling mode, the raw input in http mode. */
function execution(req: IncomingMessage, body: string): Execution {
  const now = new Date().toISOString();
  const qinling = req.url === '/v1/executions';
  let call: { function_id?: string; function_alias?: string; function_version?: number; input?: string } = {};
  let description = '';
  if (qinling) {
    const parsed = JSON.parse(body) as typeof call & { description?: string };
    call = parsed;
    description = parsed.description ?? '';
  }
  const input = qinling ? (call.input ?? '') : body;
  return {
    id: randomUUID(),
    function_id: qinling ? (call.function_id ?? null) : decodeURIComponent(req.url ?? '/').slice(1) || null,
    function_alias: call.function_alias ?? null,
    function_version: call.function_version ?? 0,
    description,
    input,
    result: JSON.stringify({ duration: 0, output: `demo runtime received ${input.length} byte(s)` }),
    status: 'success',
    sync: false,
    created_at: now,
    updated_at: now,
  };
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '-';
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/healthz') return reply(res, 200, { status: 'ok' });
  if (req.method !== 'POST') return reply(res, 405, { faultstring: 'only POST is served' });
  const body = await readBody(req);
  if (body === undefined) return reply(res, 413, { faultstring: 'request body too large' });
  const key = header(req, 'idempotency-key');
  const earlier = seen.get(key);
  if (earlier) {
    console.log(
      `${new Date().toISOString()} duplicate of execution ${earlier.id} (key ${key}); not run again`,
    );
    return reply(res, 201, earlier);
  }
  let e: Execution;
  try {
    e = execution(req, body);
  } catch {
    return reply(res, 400, { faultstring: 'the body is not JSON' });
  }
  if (key !== '-') {
    seen.set(key, e);
  }
  const fn = e.function_id ?? `alias:${e.function_alias ?? '-'}`;
  console.log(
    `${e.created_at} execution ${e.id} job=${header(req, 'x-qinling-job-id')} function=${fn} ` +
      `input=${JSON.stringify(e.input)} scheduled=${header(req, 'x-qinling-scheduled-time')}`,
  );
  reply(res, 201, e);
}

function main(): void {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, bind: { type: 'string', default: '127.0.0.1' } },
  });
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('demo runtime:', err);
      if (!res.headersSent) reply(res, 500, { faultstring: 'demo runtime error' });
    });
  });
  server.listen(Number(values.port), values.bind, () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : values.port;
    console.log(`demo runtime listening on http://${values.bind}:${port}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
