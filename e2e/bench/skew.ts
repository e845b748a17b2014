// `make bench-skew`: how late runs start, and whether any is lost, when many are due at once.
// Two paths, one after the other, in one namespace with one operator and the test runtime:
//  - CronJob-fired: N QinlingJobs on `* * * * *`, measured over several minute ticks;
//  - operator-fired: N one-shots due on the same second, over several rounds.
// For every expected (job, slot): the time the Job appeared (a watch in this process) and the
// time the runtime was called (the recorder, keyed by the invoker's job id and scheduled-time
// headers), both minus the scheduled time. A slot with no call by the end is lost. Prints
// figures, the Events the operator and the controller wrote, and asserts nothing.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { V1Job } from '@kubernetes/client-node';
import { loadKube } from '../../kube/client.js';
import { BoundedWatch, listWatch } from '../../kube/watch.js';
import { ANNOTATION_SCHEDULED, LABEL_JOB_UID } from '../../domain/types.js';
import { FUNCTION_ID, startOperator } from '../journeys/operator.js';
import { clients, clusterDir, recorder, testNamespace } from '../journeys/support.js';
import { pct } from './measure.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200' },
    ticks: { type: 'string', default: '3' },
    oneshots: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    // Seconds from making a round's one-shots to their time: past the operator's lead (30 s),
    // so each is made early as in steady use, not claimed the moment it is seen.
    ahead: { type: 'string', default: '60' },
    'operator-args': { type: 'string', default: '' },
  },
});
const N = Number(values.jobs);
const TICKS = Number(values.ticks);
const ONESHOTS = Number(values.oneshots);
const ROUNDS = Number(values.rounds);
const AHEAD_MS = Number(values.ahead) * 1000;
const { kc, core } = clients();
const { custom, batch } = loadKube(process.env.KUBECONFIG ?? '');
const q = { group: 'qinling.io', version: 'v1', plural: 'qinlingjobs' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONTROLLER_SCHEDULED = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

async function pool(n: number, inflight: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < n) await make(next++);
    }),
  );
}

/** A call of the benchmark's own, retried: under load the apiserver may reset a kept-alive connection. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(1000);
    }
  }
}

const ns = await testNamespace('bench-skew');
const runtime = await recorder();
const op = await startOperator(ns.name, runtime.url, {
  identity: 'bench-skew',
  args: (values['operator-args'] ?? '').split(' ').filter(Boolean),
});
await op.port();

/** First sight of each Job in this process: `<job uid> <scheduled ms>` → wall-clock ms. */
const jobSeen = new Map<string, number>();
// A list and watch that outlives the apiserver's watch timeouts across the run's ticks.
const jobsWatch = listWatch(`/apis/batch/v1/namespaces/${ns.name}/jobs`, new BoundedWatch(kc), () =>
  batch.listNamespacedJob({ namespace: ns.name }),
);
const seeJob = (obj: unknown) => {
  const j = obj as V1Job;
  const a = j.metadata?.annotations ?? {};
  const at = a[ANNOTATION_SCHEDULED] ?? a[CONTROLLER_SCHEDULED];
  const uid = j.metadata?.labels?.[LABEL_JOB_UID];
  if (!at || !uid) return;
  const key = `${uid} ${new Date(at).getTime()}`;
  if (!jobSeen.has(key)) jobSeen.set(key, Date.now());
};
jobsWatch.on('add', seeJob);
jobsWatch.on('update', seeJob);
jobsWatch.on('error', (err) => console.error('bench-skew: the Job watch failed:', err));
await jobsWatch.start();

async function createAll(prefix: string, n: number, spec: (i: number) => Record<string, unknown>) {
  const uids: string[] = [];
  await pool(n, 32, async (i) => {
    const made = (await custom.createNamespacedCustomObject({
      ...q,
      namespace: ns.name,
      body: {
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: `${prefix}-${i}` },
        spec: { functionId: FUNCTION_ID, ...spec(i) },
      },
    })) as { metadata: { uid: string } };
    uids.push(made.metadata.uid);
  });
  return uids;
}

/** Until every job of `uids` has a status phase (the operator has seen and planned it). */
async function converged(uids: Set<string>): Promise<void> {
  for (;;) {
    const list = (await retried(() => custom.listNamespacedCustomObject({ ...q, namespace: ns.name }))) as {
      items: { metadata: { uid: string }; status?: { phase?: string } }[];
    };
    if (list.items.filter((j) => uids.has(j.metadata.uid) && j.status?.phase).length === uids.size) return;
    await sleep(500);
  }
}

async function deleteAll(): Promise<void> {
  await retried(() => custom.deleteCollectionNamespacedCustomObject({ ...q, namespace: ns.name }));
  for (;;) {
    const list = (await retried(() => custom.listNamespacedCustomObject({ ...q, namespace: ns.name }))) as {
      items: unknown[];
    };
    if (list.items.length === 0) return;
    await sleep(500);
  }
}

interface PathFigures {
  expected: number;
  jobLate: number[];
  callLate: number[];
  noJob: number;
  lost: number;
  extra: number;
}

/** Lateness of every expected (job, slot) of `uids` × `slots`, from the Jobs seen and the calls made. */
function figures(uids: string[], slots: number[]): PathFigures {
  const calls = new Map<string, number>();
  let extra = 0;
  for (const c of runtime.calls) {
    const key = `${String(c.headers['x-qinling-job-id'])} ${new Date(String(c.headers['x-qinling-scheduled-time'])).getTime()}`;
    if (calls.has(key)) extra++;
    else calls.set(key, c.at.getTime());
  }
  const f: PathFigures = { expected: 0, jobLate: [], callLate: [], noJob: 0, lost: 0, extra };
  for (const uid of uids) {
    for (const s of slots) {
      f.expected++;
      const key = `${uid} ${s}`;
      const seen = jobSeen.get(key);
      const called = calls.get(key);
      if (seen === undefined) f.noJob++;
      else f.jobLate.push(seen - s);
      if (called === undefined) f.lost++;
      else f.callLate.push(called - s);
    }
  }
  f.jobLate.sort((a, b) => a - b);
  f.callLate.sort((a, b) => a - b);
  return f;
}

/** Events in the namespace by reason (the operator's and the controllers'). */
async function eventReasons(): Promise<string> {
  const ev = await retried(() => core.listNamespacedEvent({ namespace: ns.name }));
  const by = new Map<string, number>();
  for (const e of ev.items) {
    const k = `${e.type ?? ''}/${e.reason ?? ''}`;
    by.set(k, (by.get(k) ?? 0) + (e.count ?? 1));
  }
  return [...by.entries()].map(([k, v]) => `${k}=${v}`).join(', ') || 'none';
}

// 1. CronJob-fired: created, converged, then TICKS minute ticks from the first whole minute at
// least 15 s away; measured until 90 s after the last tick.
const cronUids = await createAll('cron', N, () => ({ pattern: '* * * * *' }));
await converged(new Set(cronUids));
const firstTick = Math.ceil((Date.now() + 15_000) / 60_000) * 60_000;
const ticks = Array.from({ length: TICKS }, (_, i) => firstTick + i * 60_000);
console.log(
  `cronjob path: ${N} jobs converged; ticks ${ticks.map((t) => new Date(t).toISOString()).join(', ')}`,
);
await sleep((ticks.at(-1) ?? 0) + 90_000 - Date.now());
const cron = figures(cronUids, ticks);
const cronEvents = await eventReasons();
await deleteAll();

// 2. Operator-fired: each round, ONESHOTS one-shots due on one second, AHEAD_MS after they are
// made, measured for 60 s after it.
runtime.calls.length = 0;
const once: PathFigures[] = [];
let onceEvents = '';
for (let r = 0; r < ROUNDS; r++) {
  await retried(() => core.deleteCollectionNamespacedEvent({ namespace: ns.name }));
  const due = Math.ceil((Date.now() + AHEAD_MS) / 1000) * 1000;
  const uids = await createAll(`once${r}`, ONESHOTS, () => ({
    firstExecutionTime: new Date(due).toISOString(),
  }));
  console.log(`operator path, round ${r + 1}: ${ONESHOTS} one-shots due at ${new Date(due).toISOString()}`);
  await sleep(due + 60_000 - Date.now());
  once.push(figures(uids, [due]));
  onceEvents = await eventReasons();
  await deleteAll();
}
await jobsWatch.stop();

function cmArgs(): string {
  try {
    const pid = (
      JSON.parse(readFileSync(`${clusterDir}/state.json`, 'utf8')) as { pids: Record<string, number> }
    ).pids['kube-controller-manager'];
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.filter((a) => /qps|burst|concurrent-(cron-)?job/.test(a)).join(' ') || '(defaults)';
  } catch {
    return '(unknown)';
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const spread = (xs: number[]) =>
  xs.length ? `${s(pct(xs, 50))} / ${s(pct(xs, 99))} / ${s(xs.at(-1) ?? NaN)}` : 'n/a';
function row(name: string, f: PathFigures): string {
  const early = f.callLate.filter((d) => d < 0).length;
  return `| ${name} | ${f.expected} | ${spread(f.jobLate)} | ${spread(f.callLate)} | ${f.noJob} | ${f.lost} | ${f.extra} | ${early} |`;
}
const merged: PathFigures = {
  expected: once.reduce((a, f) => a + f.expected, 0),
  jobLate: once.flatMap((f) => f.jobLate).sort((a, b) => a - b),
  callLate: once.flatMap((f) => f.callLate).sort((a, b) => a - b),
  noJob: once.reduce((a, f) => a + f.noJob, 0),
  lost: once.reduce((a, f) => a + f.lost, 0),
  extra: once.reduce((a, f) => a + f.extra, 0),
};
console.log(`\ncontroller-manager: ${cmArgs()}; operator args: ${values['operator-args'] || '(defaults)'}`);
console.log(
  '| path | runs expected | Job seen − scheduled p50 / p99 / max | runtime call − scheduled p50 / p99 / max | no Job | lost (no call) | extra calls | calls before their time |',
);
console.log('|---|---|---|---|---|---|---|---|');
console.log(row(`CronJob-fired: ${N} jobs × ${TICKS} ticks`, cron));
console.log(row(`operator-fired: ${ONESHOTS} one-shots × ${ROUNDS} rounds`, merged));
console.log(`\nEvents, CronJob path: ${cronEvents}`);
console.log(`Events, operator path (last round): ${onceEvents}`);
await op.stop();
await runtime.close();
await ns.remove();
process.exit(0);
