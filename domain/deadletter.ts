// Dead letters (issue 16): when a run has failed for good (every attempt made), and the job names
// a deadLetterUrl, a record of it goes to that sink as CloudEvents JSON, and to an Event. The
// record is sent by a Job of its own (`qinling-jobs deliver`), never by the operator, so the sink
// is called from the job's namespace under its pod security and NetworkPolicy, with the
// namespace's dead-letter Secret the operator cannot read; a sink that is down is retried by that
// Job (in the pod, then by the Job controller) and never holds up the schedule: the delivery is
// no run, so no overlap policy or count sees it. It is claimed in status first and its Job is
// named for the run, so each failed run has one delivery, made once. Pure.
import { createHash } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';
import { cronJobName, deliveryJobTemplate } from './children.js';
import type { PlannerConfig } from './config.js';
import type { PlannedEvent } from './events.js';
import { keyOf } from './ledger.js';
import type { DeadLetter, QinlingJob, RunRecord } from './types.js';

/** Delivered dead letters kept in status after their Jobs were seen (pending ones always are). */
export const KEEP_DEAD_LETTERS = 10;

/** `<cronjob>-d<9 hex of the run's id>`: never a run's name, at most 63 characters. */
export function deadLetterJobName(jobName: string, run: string): string {
  return `${cronJobName(jobName)}-d${createHash('sha256').update(run, 'utf8').digest('hex').slice(0, 9)}`;
}

/** The CloudEvents 1.0 record of a failed run (structured mode: the whole event is the body). */
export function deadLetterEvent(job: QinlingJob, r: RunRecord, now: Date): Record<string, unknown> {
  const m = job.metadata;
  return {
    specversion: '1.0',
    type: 'io.qinling.job.run.failed',
    source: `/namespaces/${m.namespace}/qinlingjobs/${m.name}`,
    id: `${m.uid}/${keyOf(r)}`,
    time: now.toISOString(),
    subject: keyOf(r),
    datacontenttype: 'application/json',
    data: {
      job_id: m.uid,
      job_name: job.spec.name ?? null,
      namespace: m.namespace,
      function_id: job.spec.functionId ?? null,
      function_alias: job.spec.functionAlias ?? null,
      scheduled_time: r.scheduledTime,
      trigger: r.trigger,
      run_request: r.runRequest ?? null,
      attempts: r.attempt,
      http_status: r.httpStatus ?? null,
      error: r.message ?? null,
      kubernetes_job: r.jobName ?? null,
    },
  };
}

export interface DeadLetterPlan {
  deadLetters: DeadLetter[];
  startRuns: V1Job[];
  events: PlannedEvent[];
}

/**
 * `failedNow`: the ledger's records that turned Failed this pass (counted once, so claimed once).
 * `seen`: names of the job's delivery Jobs that exist.
 */
export function planDeadLetters(
  job: QinlingJob,
  kept: DeadLetter[],
  failedNow: RunRecord[],
  ledger: RunRecord[],
  seen: ReadonlySet<string>,
  now: Date,
  cfg: PlannerConfig,
): DeadLetterPlan {
  const url = job.spec.deadLetterUrl;
  const letters = kept.map((d) => ({ ...d }));
  const events: PlannedEvent[] = [];
  const known = new Set(letters.map((d) => d.run));
  for (const r of url ? failedNow : []) {
    const run = keyOf(r);
    if (known.has(run)) continue;
    letters.push({ run, jobName: deadLetterJobName(job.metadata.name, run) });
    known.add(run);
    const origin = safeOrigin(url ?? '');
    events.push({
      type: 'Warning',
      reason: 'DeadLetter',
      message: `the run for ${run} failed for good after ${r.attempt} attempt(s); a dead letter goes to ${origin}`,
    });
  }
  const byKey = new Map(ledger.map((r) => [keyOf(r), r]));
  const startRuns: V1Job[] = [];
  for (const d of letters) {
    if (d.started) continue;
    if (seen.has(d.jobName)) d.started = true;
    else {
      const r = byKey.get(d.run);
      // A record that fell out of the ledger before its letter's Job was made: nothing left to send.
      if (r && url) startRuns.push(deadLetterJob(job, cfg, d, deadLetterEvent(job, r, now), url));
      else d.started = true;
    }
  }
  const done = letters.filter((d) => d.started);
  const drop = new Set(done.slice(0, Math.max(done.length - KEEP_DEAD_LETTERS, 0)));
  return { deadLetters: letters.filter((d) => !drop.has(d)), startRuns, events };
}

/** The sink's origin, for Events and logs: never its path or query, which may carry a secret. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the sink';
  }
}

function deadLetterJob(
  job: QinlingJob,
  cfg: PlannerConfig,
  d: DeadLetter,
  event: Record<string, unknown>,
  url: string,
): V1Job {
  return deliveryJobTemplate(job, cfg, { name: d.jobName, run: d.run, url, event: JSON.stringify(event) });
}
