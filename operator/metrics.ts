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
    help: 'Reconcile passes by result (success, error, conflict; waited: the caches had not shown our own last write yet).',
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
  const runsFinished = new Counter({
    name: 'qinling_jobs_runs_finished_total',
    help: 'Runs that ended, by result (Succeeded, Failed), each counted once (as status.succeeded/failed).',
    labelNames: ['result'] as const,
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
  perJobSeries(registry, jobs, async () => (await leader.get()).values[0]?.value === 1);
  return {
    registry,
    reconcileTotal,
    reconcileDuration,
    executionsStarted,
    scheduleSkew,
    missedRuns,
    runsFinished,
    leader,
  };
}

export type Metrics = ReturnType<typeof makeMetrics>;

const seconds = (t: string | undefined) => (t ? Date.parse(t) / 1000 : undefined);

/**
 * One series per QinlingJob and fact, read from the cache at scrape time, from the leader only
 * (every replica's cache is the same): 4 series a job, 40,000 at 10,000 jobs. Labels are the
 * job's namespace and name, never ids or times.
 */
function perJobSeries(registry: Registry, jobs: () => QinlingJob[], leading: () => Promise<boolean>) {
  const facts: [name: string, help: string, value: (j: QinlingJob) => number | undefined][] = [
    [
      'qinling_jobs_job_next_run_timestamp_seconds',
      "When the job's next run is due (Unix seconds); absent when none will come.",
      (j) => seconds(j.status?.nextExecutionTime),
    ],
    [
      'qinling_jobs_job_last_success_timestamp_seconds',
      "When the job's last successful run ended (Unix seconds).",
      (j) => seconds(j.status?.lastSuccessTime),
    ],
    [
      'qinling_jobs_job_missed_runs',
      'Runs of the job that did not start in time, in all.',
      (j) => j.status?.missedRuns ?? 0,
    ],
    [
      'qinling_jobs_job_consecutive_failures',
      'Failed runs of the job since its last success.',
      (j) => j.status?.consecutiveFailures ?? 0,
    ],
  ];
  for (const [name, help, value] of facts) {
    new Gauge({
      name,
      help,
      labelNames: ['namespace', 'qinlingjob'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        if (!(await leading())) return;
        for (const j of jobs()) {
          const v = value(j);
          if (v !== undefined) this.set({ namespace: j.metadata.namespace, qinlingjob: j.metadata.name }, v);
        }
      },
    });
  }
}
