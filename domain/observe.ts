// What the planner reads from the world: the Jobs of a QinlingJob, reduced to runs.
import type { V1Job } from '@kubernetes/client-node';
import { ANNOTATION_CRONJOB_SCHEDULED, ANNOTATION_SCHEDULED, type RunResult } from './types.js';

export interface ObservedRun {
  jobName: string;
  scheduledTime: Date;
  result: RunResult;
  startTime?: Date;
  completionTime?: Date;
  /** Why it failed: the Job's condition and the container's termination message. */
  message?: string;
}

/**
 * The scheduled time of a Job: the operator's or the CronJob controller's annotation, else the
 * controller's name suffix (Unix minutes). Undefined for Jobs that are not runs (e.g. manual).
 */
export function scheduledTimeOf(job: V1Job): Date | undefined {
  const a = job.metadata?.annotations ?? {};
  const stamp = a[ANNOTATION_SCHEDULED] ?? a[ANNOTATION_CRONJOB_SCHEDULED];
  if (stamp) {
    const d = new Date(stamp);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  const m = /-(\d{1,9})$/.exec(job.metadata?.name ?? '');
  return m ? new Date(Number(m[1]) * 60_000) : undefined;
}

export function observeRun(job: V1Job, podMessage?: string): ObservedRun | undefined {
  const scheduledTime = scheduledTimeOf(job);
  if (!scheduledTime) return undefined;
  const conds = job.status?.conditions ?? [];
  const has = (type: string) => conds.find((c) => c.type === type && c.status === 'True');
  const failed = has('Failed');
  const result: RunResult = has('Complete') ? 'Succeeded' : failed ? 'Failed' : 'Running';
  const parts = [failed?.message, podMessage?.trim()].filter((x): x is string => !!x);
  return {
    jobName: job.metadata?.name ?? '',
    scheduledTime,
    result,
    ...(job.status?.startTime ? { startTime: new Date(job.status.startTime) } : {}),
    ...(job.status?.completionTime ? { completionTime: new Date(job.status.completionTime) } : {}),
    ...(failed?.lastTransitionTime ? { completionTime: new Date(failed.lastTransitionTime) } : {}),
    ...(parts.length > 0 ? { message: parts.join(': ') } : {}),
  };
}
