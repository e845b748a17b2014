// `make bench-scale`: one namespace grown to 1,000, then 10,000, then 100,000 QinlingJobs
// (--sizes; make's SIZES_SCALE), with one operator and one facade serving it all along. Per stage: how fast the jobs
// were created (32 in flight, straight to the apiserver), how long until the operator had made
// every CronJob and written every status, the resident memory of etcd, kube-apiserver, the
// operator and the facade once settled (and the operator's V8 heap, the floor of its working set),
// the bytes per job that adds up to, and a GET by id and a page of 100 through the facade (p50 /
// p99). Patterns are spread over the year's minutes but none is due today or tomorrow, so nothing
// fires while it runs. At the end the jobs are deleted through the operator (each one's finalizer
// released) and that is timed, or with --keep (as make runs it) left to `make cluster-down`.
// Prints figures, asserts nothing.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { makeInformers } from '../../operator/informers.js';
import { loadKube } from '../../kube/client.js';
import { FUNCTION_ID, startOperator } from '../journeys/operator.js';
import { labelProject, startFacade } from '../journeys/facade.js';
import { clusterDir, recorder, testNamespace } from '../journeys/support.js';
import { closeConnections, deleteAllJobs, facadeRequest, pct, rssOf, timed } from './measure.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    inflight: { type: 'string', default: '32' },
    'operator-args': { type: 'string', default: '' },
    // At 100,000 the cleanup takes longer than the measurement: `--keep` leaves the namespace to
    // `make cluster-down`.
    keep: { type: 'boolean', default: false },
  },
});
const sizes = (values.sizes ?? '').split(',').map(Number);
const inflight = Number(values.inflight);
const kube = loadKube(process.env.KUBECONFIG ?? '');
const TOKEN = 'bench-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Minute, hour, day and month spread over the year, skipping today and tomorrow (UTC). */
function patterns(): (i: number) => string {
  const skip = [0, 1].map((d) => {
    const t = new Date(Date.now() + d * 86_400_000);
    return `${t.getUTCDate()}/${t.getUTCMonth() + 1}`;
  });
  const days: [number, number][] = [];
  for (let m = 1; m <= 12; m++)
    for (let d = 1; d <= 28; d++) if (!skip.includes(`${d}/${m}`)) days.push([d, m]);
  return (i) => {
    const [d, m] = days[Math.floor(i / 1440) % days.length] ?? [1, 1];
    return `${i % 60} ${Math.floor(i / 60) % 24} ${d} ${m} *`;
  };
}

/**
 * The operator's live V8 heap: through its inspector, a full garbage collection and then the heap
 * in use (what the process holds, without the garbage a sample of its metrics would include).
 */
async function liveHeapOf(logFile: string): Promise<number> {
  const url = /Debugger listening on (ws:\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1] ?? '';
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const replies = new Map<number, (r: unknown) => void>();
  ws.onmessage = (m) => {
    const r = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (r.id !== undefined) replies.get(r.id)?.(r.result);
  };
  const call = (id: number, method: string) =>
    new Promise<unknown>((resolve) => {
      replies.set(id, resolve);
      ws.send(JSON.stringify({ id, method }));
    });
  await call(1, 'HeapProfiler.collectGarbage');
  const { usedSize } = (await call(2, 'Runtime.getHeapUsage')) as { usedSize: number };
  ws.close();
  return usedSize;
}

const state = JSON.parse(readFileSync(`${clusterDir}/state.json`, 'utf8')) as {
  pids: Record<string, number>;
};
const ns = await testNamespace('bench-scale');
const project = `bench-${ns.name}`;
await labelProject(ns.name, project);
const runtime = await recorder();
const args = (values['operator-args'] ?? '').split(' ').filter(Boolean);
// Its inspector on a loopback port of its own: how the live heap is read (liveHeapOf).
process.env.QJ_OPERATOR_NODE_OPTIONS = '--inspect=127.0.0.1:0';
const op = await startOperator(ns.name, runtime.url, { identity: 'scale', args });
await op.port();
const facade = await startFacade(ns.name, `${TOKEN},bench,${project},member\n`, [
  '--rate-limit=0',
  '--max-jobs-per-project=0', // far more than a project's default quota
  '--max-input-bytes-per-project=0',
  '--create-namespaces=false',
]);
const pidOf = {
  etcd: state.pids.etcd,
  'kube-apiserver': state.pids['kube-apiserver'],
  operator: op.child.pid,
  facade: facade.process.pid,
};

/** The operator's live heap, and each component's RSS: the lowest of 10 samples a second apart. */
async function settled(): Promise<Record<string, number>> {
  const low: Record<string, number> = { 'operator heap': await liveHeapOf(op.logFile) };
  for (let i = 0; i < 10; i++) {
    const now: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pidOf)) now[k] = rssOf(pid);
    for (const [k, v] of Object.entries(now)) low[k] = Math.min(low[k] ?? Infinity, v);
    await sleep(1000);
  }
  return low;
}

// The caches that say when a job is converged (its CronJob exists and its status is written):
// the operator's own informers, which watch again when the apiserver ends a watch (every 5-10
// minutes) and relist when they must; a single watch would miss the end of a long stage.
const cronSeen = new Set<string>();
const statusSeen = new Set<string>();
const seen = makeInformers(kube, [ns.name], pino({ level: 'warn' }));
seen.cronJobs.on((verb, cj) => {
  if (verb !== 'delete') cronSeen.add(cj.metadata?.ownerReferences?.[0]?.name ?? '');
});
seen.jobs.on((verb, j) => {
  if (verb !== 'delete' && j.status?.phase) statusSeen.add(j.metadata.name);
});
await Promise.all([seen.jobs.start(), seen.cronJobs.start()]);

const before = await settled();
const pattern = patterns();
const names: string[] = [];
const uids: string[] = [];
const rows: string[] = [];
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const msf = (x: number) => `${x.toFixed(1)} ms`;
for (const target of sizes) {
  const from = names.length;
  const t0 = performance.now();
  const created = await timed(target - from, inflight, async (k) => {
    const i = from + k;
    const r = await kube.request({
      method: 'POST',
      path: `/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs`,
      body: {
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: `job-${i}` },
        spec: { functionId: FUNCTION_ID, pattern: pattern(i) },
      },
    });
    const m = (r.body as { metadata?: { uid?: string; name?: string } }).metadata;
    names[i] = m?.name ?? '';
    uids[i] = m?.uid ?? '';
    return r.status;
  });
  const createS = (performance.now() - t0) / 1000;
  while (cronSeen.size < target || statusSeen.size < target) await sleep(200);
  const convergeS = (performance.now() - t0) / 1000;
  // The facade serves from its cache: wait until it holds the newest job.
  const last = uids[target - 1] ?? '';
  while ((await facadeRequest(facade.url, TOKEN, 'GET', `/v1/jobs/${last}`)).status !== 200) await sleep(200);
  const mem = await settled();
  const pick = (i: number) => uids[(i * 7919) % target] ?? '';
  const get = await timed(
    2000,
    10,
    async (i) => (await facadeRequest(facade.url, TOKEN, 'GET', `/v1/jobs/${pick(i)}`)).status,
  );
  // A page of 100 after a marker anywhere in the list (the first page would flatter a scan).
  const page = await timed(
    500,
    10,
    async (i) =>
      (await facadeRequest(facade.url, TOKEN, 'GET', `/v1/jobs?limit=100&marker=${pick(i)}`)).status,
  );
  const perJob = (k: string) => ((mem[k] ?? NaN) - (before[k] ?? NaN)) / target;
  rows.push(
    `| ${target} | ${((target - from) / createS).toFixed(0)} /s (p99 ${msf(pct(created, 99))}) | ${convergeS.toFixed(1)} s | ` +
      `${mib(mem.etcd ?? NaN)} | ${mib(mem['kube-apiserver'] ?? NaN)} | ${mib(mem.operator ?? NaN)} (${kib(perJob('operator'))}) | ` +
      `${mib(mem['operator heap'] ?? NaN)} (${kib(perJob('operator heap'))}) | ${mib(mem.facade ?? NaN)} (${kib(perJob('facade'))}) | ` +
      `${msf(pct(get, 50))} / ${msf(pct(get, 99))} | ${msf(pct(page, 50))} / ${msf(pct(page, 99))} |`,
  );
  console.log(rows.at(-1));
}
await Promise.all([seen.jobs.stop(), seen.cronJobs.stop(), seen.runs.stop()]);
const header =
  '| jobs | creation rate (create p99) | converged after | etcd RSS | apiserver RSS | operator RSS (per job) | operator heap (per job) | facade RSS (per job) | facade GET p50 / p99 | facade page of 100 p50 / p99 |';
console.log(
  `\nbefore any job: ${Object.entries(before)
    .map(([k, v]) => `${k} ${mib(v)}`)
    .join(', ')}`,
);
console.log(`\n${header}\n|---|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) console.log(r);

if (values.keep) {
  console.log(`\nkept namespace ${ns.name} with its jobs: \`make cluster-down\` wipes it`);
  facade.stop();
  await op.stop('SIGKILL');
  process.exit(0);
}
// Cleanup through the operator: every job's finalizer is released by it, so it must still run.
const t1 = performance.now();
await deleteAllJobs(kube.custom, ns.name);
console.log(
  `\ndeleted ${names.length} jobs through the operator in ${((performance.now() - t1) / 1000).toFixed(0)} s`,
);
facade.stop();
await op.stop();
await ns.remove();
await runtime.close();
closeConnections();
process.exit(0);
