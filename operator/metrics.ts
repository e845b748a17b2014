// The operator's metrics, all registered here on a Registry made at start-up.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QinlingJob } from '../domain/types.js';

export function makeMetrics(jobs: () => QinlingJob[], queueDepth: () => number) {
  const registry = new Registry();
  // Node's and the process's own series keep their standard names, so stock dashboards work;
  // the scrape target's job label tells the operator from the facade.
  collectDefaultMetrics({ register: registry });
  const reconcileTotal = new Counter({
    name: 'qinling_jobs_reconcile_total',
    help: 'Reconcile passes by result (success, error, conflict).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const reconcileDuration = new Histogram({
    name: 'qinling_jobs_reconcile_duration_seconds',
    help: 'Time one reconcile pass took.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const executionsStarted = new Counter({
    name: 'qinling_jobs_executions_started_total',
    help: 'Runs started, counted once per scheduled time.',
    registers: [registry],
  });
  const scheduleSkew = new Histogram({
    name: 'qinling_jobs_schedule_skew_seconds',
    help: 'How late a run started after its scheduled time.',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers: [registry],
  });
  const missedRuns = new Counter({
    name: 'qinling_jobs_missed_runs_total',
    help: 'Scheduled runs that did not start within their deadline (each also a MissedRun Event).',
    registers: [registry],
  });
  const leader = new Gauge({
    name: 'qinling_jobs_leader',
    help: '1 while this replica leads.',
    registers: [registry],
  });
  new Gauge({
    name: 'qinling_jobs_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  new Gauge({
    name: 'qinling_jobs_jobs',
    help: 'QinlingJobs by phase.',
    labelNames: ['phase'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const j of jobs()) this.inc({ phase: j.status?.phase ?? 'Pending' });
    },
  });
  return { registry, reconcileTotal, reconcileDuration, executionsStarted, scheduleSkew, missedRuns, leader };
}

export type Metrics = ReturnType<typeof makeMetrics>;
