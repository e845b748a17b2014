// The cost of one unpaged list of many large jobs to everyone else: the facade (the real app,
// service and static auth) over an in-memory store of N jobs with inputs of S bytes, in a child
// process; this process lists them once while it probes /healthz every 10 ms and samples the
// child's RSS. Prints RSS before/peak, /healthz p50/p99/max during the list, and the list's time.
// No cluster: 10,000 x 64 KiB would put 1.3 GB into etcd (the job and its input ConfigMap).
//   node dist/e2e/bench/list.js [--jobs 10000] [--input-bytes 65536]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { makeApp } from '../../api/app.js';
import { StaticTokens } from '../../api/auth.js';
import { InFlight, RecentTokens, TokenBuckets } from '../../api/limits.js';
import { makeApiMetrics } from '../../api/metrics.js';
import { JobService } from '../../api/service.js';
import { FakeStore, NOW } from '../../fakes/store.js';

const FID = '5b2a7c1e-1111-4222-8333-944455556666';
const TOKEN = 'bench-token';

async function serve(jobs: number, inputBytes: number): Promise<void> {
  const store = new FakeStore();
  const input = 'x'.repeat(inputBytes);
  for (let i = 0; i < jobs; i++)
    await store.create('ns-a', {
      functionId: FID,
      pattern: '0 * * * *',
      functionInput: `${i}${input}`.slice(0, inputBytes),
    });
  const dir = mkdtempSync(`${tmpdir()}/qj-bench-list-`);
  writeFileSync(`${dir}/tokens`, `${TOKEN},alice,proj-a,member\n`);
  const app = makeApp({
    service: new JobService(store, { createNamespaces: false }, () => NOW),
    auth: new StaticTokens(`${dir}/tokens`),
    limits: new TokenBuckets(0, 1),
    authLimits: {
      failures: new TokenBuckets(0, 1),
      inFlight: new InFlight(0),
      recent: new RecentTokens(60_000),
    },
    publicBase: '',
    metrics: makeApiMetrics(),
    ready: () => true,
    log: pino({ level: 'silent' }),
    bodyLimit: 262_144,
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 })}\n`);
  });
}

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function get(port: number, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { 'x-auth-token': TOKEN } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '10000' },
      'input-bytes': { type: 'string', default: '65536' },
      serve: { type: 'boolean' },
    },
  });
  const jobs = Number(values.jobs);
  const inputBytes = Number(values['input-bytes']);
  if (values.serve) return serve(jobs, inputBytes);
  const child = spawn(
    process.execPath,
    [import.meta.filename, '--serve', '--jobs', String(jobs), '--input-bytes', String(inputBytes)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port)),
  );
  const pid = child.pid ?? 0;
  for (let i = 0; i < 20; i++) await get(port, '/healthz'); // warm
  const before = rssMiB(pid);
  let peak = before;
  const probes: number[] = [];
  let listing = true;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  const probe = (async () => {
    while (listing) {
      const t = performance.now();
      await get(port, '/healthz');
      probes.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const t0 = performance.now();
  const list = await get(port, '/v1/jobs');
  const listMs = performance.now() - t0;
  listing = false;
  await probe;
  clearInterval(sampler);
  child.kill();
  console.log(
    JSON.stringify({
      jobs,
      inputBytes,
      listStatus: list.status,
      listMiB: +(list.bytes / 2 ** 20).toFixed(1),
      listSeconds: +(listMs / 1000).toFixed(2),
      rssBeforeMiB: Math.round(before),
      rssPeakMiB: Math.round(peak),
      healthzProbes: probes.length,
      healthzP50ms: +pct(probes, 50).toFixed(1),
      healthzP99ms: +pct(probes, 99).toFixed(1),
      healthzMaxMs: +Math.max(...probes).toFixed(1),
    }),
  );
}

await main();
