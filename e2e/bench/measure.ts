// What the benchmarks share: one keep-alive HTTP client for the facade (fetch adds its own
// cost), a closed-loop load generator, percentiles, and what a run cost each process (memory,
// CPU) and the apiserver (its request counters).
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { clusterDir } from '../journeys/support.js';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One request to a facade with `token`; resolves to its status and body. */
export function facadeRequest(
  url: string,
  token: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method,
        agent,
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Closes the kept-alive connections, so the benchmark process can end. */
export function closeConnections(): void {
  agent.destroy();
}

/** `total` calls of `op`, `concurrency` at a time; sorted latencies in ms. A 4xx/5xx aborts. */
export async function timed(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<number>,
): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        const status = await op(i);
        if (status >= 400) throw new Error(`request ${i} answered ${status}`);
        lat.push(performance.now() - t);
      }
    }),
  );
  return lat.sort((a, b) => a - b);
}

/** The p-th percentile of sorted samples. */
export const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** A process's resident memory in bytes, from /proc. */
export function rssOf(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid ?? 0}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The custom-objects API's address of the QinlingJobs in `namespace`. */
const jobsIn = (namespace: string) => ({
  group: 'qinling.io',
  version: 'v1',
  plural: 'qinlingjobs',
  namespace,
});

/**
 * Deletes every QinlingJob in `namespace` and waits until none is left; the operator must still
 * run, as it releases each one's finalizer.
 */
export async function deleteAllJobs(custom: Kube['custom'], namespace: string): Promise<void> {
  const q = jobsIn(namespace);
  for (;;) {
    // A large collection outlasts the apiserver's 60 s request timeout (504): ask again.
    await custom.deleteCollectionNamespacedCustomObject(q).catch(() => undefined);
    for (let i = 0; i < 30; i++) {
      const left = (await custom.listNamespacedCustomObject({ ...q, limit: 1 })) as { items: unknown[] };
      if (left.items.length === 0) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Requests the apiserver has served, from its `apiserver_request_total`, as
 * "VERB resource[/subresource] code" -> count; the difference of two reads counts a run's.
 */
export async function apiserverRequests(): Promise<Map<string, number>> {
  const kubeconfig = process.env.KUBECONFIG ?? `${clusterDir}/kubeconfig`;
  const { stdout: text } = await promisify(execFile)(
    `${clusterDir}/bin/kubectl`,
    ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'],
    { maxBuffer: 256 * 2 ** 20 },
  );
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const l = new Map([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const sub = l.get('subresource');
    const k = `${l.get('verb')} ${l.get('resource')}${sub ? `/${sub}` : ''} ${l.get('code')}`;
    counts.set(k, (counts.get(k) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** The writes (POST, PUT, PATCH) and the 409s between two reads of apiserverRequests, per key. */
export function writesBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0 && (/^(POST|PUT|PATCH) /.test(k) || / 409$/.test(k))) out.set(k, d);
  }
  return out;
}

/** A process's counter by label, summed: `qinling_jobs_reconcile_total{result="..."}` -> {result: n}. */
export async function counterByLabel(
  port: number,
  name: string,
  label: string,
): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*${label}="([^"]*)"[^}]*\\} (\\S+)$`, 'gm')))
    out[m[1] ?? ''] = (out[m[1] ?? ''] ?? 0) + Number(m[2]);
  return out;
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number | undefined): number {
  const fields =
    readFileSync(`/proc/${pid ?? 0}/stat`, 'utf8')
      .split(') ')[1]
      ?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid of the one running process whose command name is `name` (e.g. kube-apiserver). */
export function pidOf(name: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * Takes the finalizers off every QinlingJob in `namespace`, 32 patches in flight. Where no operator
 * runs (the facade's benchmark), the jobs the facade made with the operator's finalizer would
 * otherwise hold their namespace in Terminating for good, and load every later measurement.
 */
export async function releaseAll(custom: Kube['custom'], namespace: string): Promise<void> {
  const q = jobsIn(namespace);
  const list = (await custom.listNamespacedCustomObject(q)) as {
    items: { metadata: { name: string; finalizers?: string[] } }[];
  };
  const held = list.items.filter((j) => (j.metadata.finalizers ?? []).length > 0).map((j) => j.metadata.name);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < held.length) {
        const name = held[next++] ?? '';
        await custom.patchNamespacedCustomObject(
          { ...q, name, body: { metadata: { finalizers: null } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
    }),
  );
}
