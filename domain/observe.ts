// What the planner reads from the world: the Jobs of a QinlingJob, reduced to runs.
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import {
  ANNOTATION_CRONJOB_SCHEDULED,
  ANNOTATION_GENERATION,
  ANNOTATION_RUN_REQUEST,
  ANNOTATION_SCHEDULED,
  ANNOTATION_TRIGGER,
  type RunAttempt,
  type RunResult,
} from './types.js';

/** What a run's pod said when it ended (read by the operator, once per Job). */
export interface PodReport {
  /** "exit code N" and the reason, as the pod told it. */
  message?: string;
  /** Each call it made, when it reported them (retry.ts). */
  attempts?: RunAttempt[];
}

export interface ObservedRun {
  jobName: string;
  /** Started by the operator (controlled by the QinlingJob): its history is the operator's to keep. */
  byOperator?: boolean;
  scheduledTime: Date;
  result: RunResult;
  startTime?: Date;
  completionTime?: Date;
  /** Why it failed: the Job's condition and the container's termination message. */
  message?: string;
  /** The QinlingJob generation an operator run was made from. */
  generation?: number;
  /** Being deleted (its pods first: a withdrawn early run). */
  deleting?: boolean;
  /** The calls its pod made, when it reported them. */
  attempts?: RunAttempt[];
  /** A missed run started late after an outage (catch-up). */
  catchup?: boolean;
}

/** Set by `kubectl create job --from=cronjob/…` on the Jobs it makes: never a scheduled run. */
const ANNOTATION_MANUAL = 'cronjob.kubernetes.io/instantiate';

/**
 * The scheduled time of a Job if it is one of our runs, else undefined. A run is named for its
 * time after our CronJob, and controlled either by that CronJob (its uid, so a look-alike in
 * another CronJob's name does not count): `<cronjob>-<unix minutes>` with the CronJob
 * controller's timestamp annotation (or `<cronjob>-<unix seconds>` with ours, as the operator
 * made its runs before they were the QinlingJob's); or by the QinlingJob (`ownerUid`):
 * `<cronjob>-<unix seconds>` with ours. A Job made by hand or by `kubectl create job --from` is
 * not a run, so it can neither count nor push the count's marks into the future.
 */
export function scheduledTimeOf(
  job: V1Job,
  cronJob: V1CronJob | undefined,
  ownerUid?: string,
): Date | undefined {
  const uid = cronJob?.metadata?.uid;
  const name = cronJob?.metadata?.name;
  const meta = job.metadata ?? {};
  if (!uid || !name || !meta.name?.startsWith(`${name}-`)) return undefined;
  const controller = meta.ownerReferences?.find((o) => o.controller)?.uid;
  const byJob = ownerUid !== undefined && controller === ownerUid;
  if (controller !== uid && !byJob) return undefined;
  const a = meta.annotations ?? {};
  if (a[ANNOTATION_MANUAL] !== undefined) return undefined;
  const suffix = meta.name.slice(name.length + 1);
  const ours = a[ANNOTATION_SCHEDULED];
  if (byJob && ours === undefined) return undefined;
  const controllers = a[ANNOTATION_CRONJOB_SCHEDULED];
  const stamp = ours ?? controllers;
  const d = stamp ? new Date(stamp) : undefined;
  if (!d || Number.isNaN(d.getTime())) return undefined;
  const unit = ours !== undefined ? 1000 : 60_000;
  return suffix === String(Math.floor(d.getTime() / unit)) ? d : undefined;
}

export function observeRun(
  job: V1Job,
  cronJob: V1CronJob | undefined,
  pod?: PodReport,
  ownerUid?: string,
): ObservedRun | undefined {
  const scheduledTime = scheduledTimeOf(job, cronJob, ownerUid);
  if (!scheduledTime) return undefined;
  const byOperator =
    ownerUid !== undefined && job.metadata?.ownerReferences?.some((o) => o.controller && o.uid === ownerUid);
  return { ...runOf(job, scheduledTime, pod), ...(byOperator ? { byOperator: true } : {}) };
}

/** A run by hand's Job (manual.ts), with its request id; undefined for any other Job. */
export function observeManualRun(
  job: V1Job,
  ownerUid: string,
  pod?: PodReport,
): (ObservedRun & { requestId: string }) | undefined {
  const a = job.metadata?.annotations ?? {};
  const requestId = a[ANNOTATION_RUN_REQUEST];
  const at = new Date(a[ANNOTATION_SCHEDULED] ?? '');
  const ours = job.metadata?.ownerReferences?.some((o) => o.controller && o.uid === ownerUid);
  if (requestId === undefined || !ours || Number.isNaN(at.getTime())) return undefined;
  return { ...runOf(job, at, pod), byOperator: true, requestId };
}

function runOf(job: V1Job, scheduledTime: Date, pod: PodReport | undefined): ObservedRun {
  const conds = job.status?.conditions ?? [];
  const has = (type: string) => conds.find((c) => c.type === type && c.status === 'True');
  const failed = has('Failed');
  const result: RunResult = has('Complete') ? 'Succeeded' : failed ? 'Failed' : 'Running';
  const parts = [failed?.message, failed ? pod?.message?.trim() : undefined].filter((x): x is string => !!x);
  const generation = Number(job.metadata?.annotations?.[ANNOTATION_GENERATION] ?? NaN);
  return {
    jobName: job.metadata?.name ?? '',
    scheduledTime,
    result,
    ...(job.status?.startTime ? { startTime: new Date(job.status.startTime) } : {}),
    ...(job.status?.completionTime ? { completionTime: new Date(job.status.completionTime) } : {}),
    ...(failed?.lastTransitionTime ? { completionTime: new Date(failed.lastTransitionTime) } : {}),
    ...(parts.length > 0 ? { message: parts.join(': ') } : {}),
    ...(Number.isInteger(generation) ? { generation } : {}),
    ...(job.metadata?.deletionTimestamp ? { deleting: true } : {}),
    ...(pod?.attempts && pod.attempts.length > 0 ? { attempts: pod.attempts } : {}),
    ...(job.metadata?.annotations?.[ANNOTATION_TRIGGER] === 'catch-up' ? { catchup: true } : {}),
  };
}
