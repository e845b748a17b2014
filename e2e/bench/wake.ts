// `make bench-wake`: N pods' processes woken on the same second, without a cluster. What the
// process kubelet does at a busy second of operator-fired runs, alone: N processes started early
// wait for one instant, then each calls a loopback runtime in this process once. Three kinds,
// one after the other, on the same cores: the real invoker (`qinling-jobs invoke`, as a run's
// pod starts it), and for reference a bare process posting with fetch and one posting with
// node:http (both warmed up first, as the invoker is). Prints p50/p99/max of (call received −
// the second) per kind; asserts nothing.
//   node dist/e2e/bench/wake.js [--processes 200] [--lead 60]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { repoRoot } from '../journeys/support.js';
import { pct } from './measure.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '200' },
    // Seconds from the first start to the second: every process must be waiting by then.
    lead: { type: 'string', default: '60' },
  },
});
const N = Number(values.processes);
const LEAD_MS = Number(values.lead) * 1000;

/** A bare process: warm its client up on a listener of its own, wait for `at`, post once. */
const BARE = `
const [url, at, kind] = process.argv.slice(1);
const { createServer, request } = await import('node:http');
const post = (u, body) => kind === 'fetch'
  ? fetch(u, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30000) }).then((r) => r.text())
  : new Promise((resolve, reject) => {
      const q = request(u, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (r) => { r.resume(); r.on('end', resolve); });
      q.on('error', reject); q.end(body);
    });
const s = createServer((q, r) => { q.resume(); r.end(); });
await new Promise((r) => s.listen(0, '127.0.0.1', r));
await post('http://127.0.0.1:' + s.address().port + '/', '{}');
s.close();
await new Promise((r) => setTimeout(r, Number(at) - Date.now()));
await post(url, '{"input": ""}');
`;

async function round(kind: 'invoke' | 'fetch' | 'node:http'): Promise<number[]> {
  const received: number[] = [];
  const runtime = createServer((req, res) => {
    const t = Date.now();
    req.resume();
    req.on('end', () => {
      received.push(t);
      res.end('{"id": "execution-1"}');
    });
  });
  await new Promise<void>((r) => runtime.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}`;
  const at = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
  const children = Array.from({ length: N }, (_, i) =>
    kind === 'invoke'
      ? spawn(process.execPath, [`${repoRoot}/dist/cli.js`, 'invoke'], {
          stdio: 'ignore',
          env: {
            PATH: process.env.PATH ?? '',
            QJ_RUNTIME_URL: url,
            QJ_JOB_ID: `job-${i}`,
            QJ_FUNCTION_ID: 'f-1',
            QJ_SCHEDULED_TIME: new Date(at).toISOString(),
          },
        })
      : spawn(
          process.execPath,
          ['--input-type=module', '-e', BARE, `${url}/v1/executions`, String(at), kind],
          {
            stdio: 'ignore',
          },
        ),
  );
  await Promise.all(children.map((c) => new Promise((r) => c.on('exit', r))));
  runtime.close();
  const late = received.map((t) => t - at).sort((a, b) => a - b);
  if (late.length !== N) throw new Error(`${kind}: ${late.length} of ${N} calls`);
  return late;
}

console.log(`| process | processes | call − the second p50 / p99 / max |`);
console.log('|---|---|---|');
for (const kind of ['invoke', 'fetch', 'node:http'] as const) {
  const late = await round(kind);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`| ${kind} | ${N} | ${ms(pct(late, 50))} / ${ms(pct(late, 99))} / ${ms(late.at(-1) ?? NaN)} |`);
}
