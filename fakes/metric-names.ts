// Prometheus's conventions, checked on one of our registries: the default process and Node.js
// series under their standard names (stock dashboards and alerts read them), and every series of
// our own under qinling_jobs_.
import { expect } from 'chai';
import type { Registry } from 'prom-client';

export async function expectConventionalNames(registry: Registry): Promise<void> {
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  expect(names).to.include.members([
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_heap_size_used_bytes',
  ]);
  const ours = names.filter((n) => !/^(process|nodejs)_/.test(n));
  expect(ours.length).to.be.above(0);
  for (const n of ours) expect(n).to.match(/^qinling_jobs_/);
}
