// `make bench-operator`: how fast the operator turns QinlingJobs into CronJobs, against the
// baseline of creating the same number of plain CronJobs straight through the apiserver.
// For each N: create N objects (32 in flight), and measure per object the time from its create
// request until it is done (baseline: the CronJob is seen by a watch; operator: its CronJob is
// seen and its status written), the total, and the operator's peak RSS. Also N status writes
// alone, and the floor: the operator's three write streams (QinlingJob, CronJob, status) summed.
// Prints figures, asserts nothing: this is a measurement, not a test.
import { parseArgs } from 'node:util';
import { PatchStrategy, setHeaderOptions, type V1CronJob } from '@kubernetes/client-node';
import { BoundedWatch } from '../../kube/watch.js';
import { loadKube } from '../../kube/client.js';
import { FUNCTION_ID, startOperator } from '../journeys/operator.js';
import { clients, recorder, testNamespace } from '../journeys/support.js';
import {
  apiserverRequests,
  counterByLabel,
  cpuSecondsOf,
  deleteAllJobs,
  pidOf,
  rssOf,
  writesBetween,
} from './measure.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    inflight: { type: 'string', default: '32' },
    'operator-args': { type: 'string', default: '' },
  },
});
const sizes = (values.sizes ?? '').split(',').map(Number);
const inflight = Number(values.inflight);
const { kc } = clients();
// Both sides create through the same keep-alive client, so the comparison is of the servers.
const { batch, custom } = loadKube(process.env.KUBECONFIG ?? '');
const NEVER = '0 0 1 1 *'; // nothing fires during the measurement

interface Result {
  totalMs: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pool(n: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < n) await make(next++);
    }),
  );
}

/** Resolves when `done` has a time for all names; `started` holds each create's start. */
async function measure(
  n: number,
  names: string[],
  create: (name: string) => Promise<unknown>,
  watchPaths: { path: string; onEvent: (obj: unknown, at: number) => void }[],
  done: Map<string, number>,
): Promise<Result> {
  const started = new Map<string, number>();
  const watches = await Promise.all(
    watchPaths.map((w) =>
      new BoundedWatch(kc).watch(
        w.path,
        {},
        (_t, obj) => w.onEvent(obj, performance.now()),
        () => undefined,
      ),
    ),
  );
  const t0 = performance.now();
  await pool(n, async (i) => {
    const name = names[i] ?? '';
    started.set(name, performance.now());
    await create(name);
  });
  while (done.size < n) await new Promise((r) => setTimeout(r, 50));
  const end = Math.max(...done.values());
  for (const w of watches) w.abort();
  const lat = names.map((x) => (done.get(x) ?? NaN) - (started.get(x) ?? NaN)).sort((a, b) => a - b);
  return { totalMs: end - t0, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function baseline(n: number): Promise<Result> {
  const ns = await testNamespace(`bench-base-${n}`);
  const names = Array.from({ length: n }, (_, i) => `cj-${i}`);
  const done = new Map<string, number>();
  const r = await measure(
    n,
    names,
    (name) =>
      batch.createNamespacedCronJob({
        namespace: ns.name,
        body: {
          metadata: { name },
          spec: {
            schedule: NEVER,
            timeZone: 'Etc/UTC',
            jobTemplate: {
              spec: {
                template: {
                  spec: {
                    restartPolicy: 'Never',
                    containers: [{ name: 'c', image: 'busybox:1.36', command: ['true'] }],
                  },
                },
              },
            },
          },
        },
      }),
    [
      {
        path: `/apis/batch/v1/namespaces/${ns.name}/cronjobs`,
        onEvent: (o, at) => {
          const name = (o as V1CronJob).metadata?.name ?? '';
          if (!done.has(name)) done.set(name, at);
        },
      },
    ],
    done,
  );
  await drop(ns);
  return r;
}

/** Deletes a namespace and waits until it is gone, so one measurement's cleanup never loads the next. */
async function drop(ns: { name: string; remove: () => Promise<void> }): Promise<void> {
  await ns.remove();
  const { core } = clients();
  for (;;) {
    try {
      await core.readNamespace({ name: ns.name });
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * N QinlingJobs created with no operator running: what the custom resource alone costs. Then one
 * status write on each (as the operator's first), timed alone: the third write stream.
 */
async function resourcesOnly(n: number): Promise<Result & { statusMs: number }> {
  const ns = await testNamespace(`bench-cr-${n}`);
  const names = Array.from({ length: n }, (_, i) => `job-${i}`);
  const done = new Map<string, number>();
  const r = await measure(
    n,
    names,
    (name) => createResource(ns.name, name),
    [
      {
        path: `/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs`,
        onEvent: (o, at) => {
          const name = (o as { metadata: { name: string } }).metadata.name;
          if (!done.has(name)) done.set(name, at);
        },
      },
    ],
    done,
  );
  const t0 = performance.now();
  await pool(n, (i) =>
    custom.patchNamespacedCustomObjectStatus(
      {
        group: 'qinling.io',
        version: 'v1',
        namespace: ns.name,
        plural: 'qinlingjobs',
        name: names[i] ?? '',
        body: { status: { phase: 'Running', nextExecutionTime: '2027-01-01T00:00:00Z' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  const statusMs = performance.now() - t0;
  await drop(ns);
  return { ...r, statusMs };
}

function createResource(namespace: string, name: string) {
  return custom.createNamespacedCustomObject({
    group: 'qinling.io',
    version: 'v1',
    namespace,
    plural: 'qinlingjobs',
    body: {
      apiVersion: 'qinling.io/v1',
      kind: 'QinlingJob',
      metadata: { name },
      spec: { pattern: NEVER, functionId: FUNCTION_ID },
    },
  });
}

async function withOperator(n: number): Promise<Result & { rssMiB: number }> {
  const ns = await testNamespace(`bench-op-${n}`);
  const runtime = await recorder();
  const args = (values['operator-args'] ?? '').split(' ').filter(Boolean);
  const op = await startOperator(ns.name, runtime.url, { identity: `bench-${n}`, args });
  await op.port();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssOf(op.child.pid) || 0)), 250);
  const names = Array.from({ length: n }, (_, i) => `job-${i}`);
  const cronSeen = new Map<string, number>();
  const statusSeen = new Map<string, number>();
  const done = new Map<string, number>();
  const requestsBefore = await apiserverRequests();
  // Where the two cores went while converging: CPU seconds of each process of the control plane.
  const procs = {
    operator: op.child.pid,
    'kube-apiserver': pidOf('kube-apiserver'),
    etcd: pidOf('etcd'),
    'kube-controller-manager': pidOf('kube-controller'),
    benchmark: process.pid,
  };
  const cpu = (o: Record<string, number | undefined>) =>
    Object.fromEntries(Object.entries(o).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  const cpuBefore = cpu(procs);
  const settle = (name: string) => {
    const a = cronSeen.get(name);
    const b = statusSeen.get(name);
    if (a !== undefined && b !== undefined && !done.has(name)) done.set(name, Math.max(a, b));
  };
  const r = await measure(
    n,
    names,
    (name) => createResource(ns.name, name),
    [
      {
        path: `/apis/batch/v1/namespaces/${ns.name}/cronjobs`,
        onEvent: (o, at) => {
          const owner = (o as V1CronJob).metadata?.ownerReferences?.[0]?.name ?? '';
          if (!cronSeen.has(owner)) cronSeen.set(owner, at);
          settle(owner);
        },
      },
      {
        path: `/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs`,
        onEvent: (o, at) => {
          const j = o as { metadata: { name: string }; status?: { phase?: string } };
          if (j.status?.phase && !statusSeen.has(j.metadata.name)) statusSeen.set(j.metadata.name, at);
          settle(j.metadata.name);
        },
      },
    ],
    done,
  );
  clearInterval(sampler);
  const cpuAfter = cpu(procs);
  const spent = Object.entries(cpuAfter).map(([k, v]) => `${k} ${(v - (cpuBefore[k] ?? 0)).toFixed(1)} s`);
  console.log(`CPU while converging ${n} (incl. the creates): ${spent.join(', ')}`);
  // What converging cost: the apiserver's writes and 409s per job, the operator's passes by result.
  const writes = writesBetween(requestsBefore, await apiserverRequests());
  const perJob = [...writes].map(([k, v]) => `${k}: ${(v / n).toFixed(2)}`).sort();
  console.log(`apiserver writes and 409s per job at ${n} (all clients):\n  ${perJob.join('\n  ')}`);
  const passes = await counterByLabel(await op.port(), 'qinling_jobs_reconcile_total', 'result');
  const perJobPasses = Object.entries(passes).map(([k, v]) => `${k} ${(v / n).toFixed(2)}`);
  console.log(`operator passes per job at ${n}: ${perJobPasses.join(', ')}`);
  // The jobs go while the operator runs: it releases each one's finalizer (a job it no longer
  // watches would hold the namespace in Terminating for good). Not the namespace first: its
  // ServiceAccount, the operator's identity, would go with it, and every release with a 401.
  await deleteAllJobs(custom, ns.name);
  await op.stop();
  await drop(ns);
  await runtime.close();
  return { ...r, rssMiB: rss / 2 ** 20 };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rows: string[] = [];
const totals = new Map<number, number>();
for (const n of sizes) {
  const base = await baseline(n);
  const cr = await resourcesOnly(n);
  const op = await withOperator(n);
  totals.set(n, op.totalMs);
  // The floor: the operator's three write streams (QinlingJob, CronJob, status) one after another.
  const floor = base.totalMs + cr.totalMs + cr.statusMs;
  rows.push(
    `| ${n} | ${s(base.totalMs)} | ${s(cr.totalMs)} | ${s(cr.statusMs)} | ${s(floor)} (${(floor / base.totalMs).toFixed(2)}x) | ${s(op.totalMs)} | ${(op.totalMs / base.totalMs).toFixed(2)}x | ` +
      `${s(base.p50)} / ${s(base.p99)} | ${s(op.p50)} / ${s(op.p99)} | ${op.rssMiB.toFixed(0)} MiB |`,
  );
  console.log(rows.at(-1));
}
console.log(
  '\n| N | baseline: N CronJobs | N QinlingJobs, no operator | N status writes alone | floor: the three streams (ratio) | operator: N QinlingJobs converged | ratio to baseline | baseline p50 / p99 | operator p50 / p99 | operator peak RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
const [a, b] = sizes;
if (a !== undefined && b !== undefined && totals.has(a) && totals.has(b)) {
  console.log(
    `\nscaling: N x${b / a} took x${((totals.get(b) ?? 0) / (totals.get(a) ?? 1)).toFixed(2)} the time`,
  );
}
process.exit(0);
