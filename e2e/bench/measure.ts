// What the facade benchmarks share: one keep-alive HTTP client (fetch adds its own cost), a
// closed-loop load generator, and percentiles.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { Kube } from '../../kube/client.js';

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

/**
 * Deletes every QinlingJob in `namespace` and waits until none is left; the operator must still
 * run, as it releases each one's finalizer.
 */
export async function deleteAllJobs(custom: Kube['custom'], namespace: string): Promise<void> {
  const q = { group: 'qinling.io', version: 'v1', plural: 'qinlingjobs', namespace };
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
