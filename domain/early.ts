// Early runs. An operator run's Job is made up to `leadSeconds` before its time and its pod waits
// for the time before it calls, so neither a pod's start-up nor a busy second's queue of creates
// is in the call's delay. Until its time such a run is only staged: it counts for nothing (a
// one-shot is not Done, `next` does not move on), and it can be taken back. A job paused,
// cancelled, made invalid or edited before the time, or whose next time moved, withdraws it:
// its Job is deleted, pods first, while there is time to; its claim goes only once the Job is
// gone, which means its pod is gone too and never called. A run whose time has come while its Job
// is still seen, deleting or not, counts: it may have called, and a count is never exceeded.
import type { ObservedRun } from './observe.js';
import type { QinlingJob, QinlingJobStatus } from './types.js';

/** A run closer than this to its time is not withdrawn: its pod may not be stopped in time. */
export const WITHDRAW_MARGIN_MS = 2000;

export interface Withdrawal {
  /** Early runs' Jobs to delete (pods first). */
  deleteRuns: string[];
  /** Claims of early runs no longer wanted whose Jobs are gone (or were never made). */
  dropClaims: string[];
}

const ms = (s: string) => new Date(s).getTime();

/** The runs whose time has come: only these count or settle a tick. */
export function dueRuns(runs: ObservedRun[], now: Date): ObservedRun[] {
  return runs.filter((r) => r.scheduledTime.getTime() <= now.getTime());
}

/** The times of runs seen before their time. */
export function earlyTimes(runs: ObservedRun[], now: Date): Set<number> {
  return new Set(
    runs.filter((r) => r.scheduledTime.getTime() > now.getTime()).map((r) => r.scheduledTime.getTime()),
  );
}

/**
 * What to take back, given the status this pass writes: an early run is wanted only while the
 * job runs and its time is still the next one, and (for a Job seen) only if it was made from
 * the job's current spec.
 */
export function withdrawals(
  job: QinlingJob,
  runs: ObservedRun[],
  status: QinlingJobStatus,
  now: Date,
): Withdrawal {
  const t0 = now.getTime();
  const next = status.phase === 'Running' && status.nextExecutionTime ? ms(status.nextExecutionTime) : NaN;
  const canTakeBack = (t: number) => t - t0 > WITHDRAW_MARGIN_MS;
  const deleteRuns: string[] = [];
  const seen = earlyTimes(runs, now);
  for (const r of runs) {
    const t = r.scheduledTime.getTime();
    if (t <= t0) continue;
    const current = r.generation === undefined || r.generation === job.metadata.generation;
    if (r.deleting || (t === next && current) || !canTakeBack(t)) continue;
    deleteRuns.push(r.jobName);
  }
  const dropClaims = (status.claimedTimes ?? []).filter((c) => {
    const t = ms(c);
    return t > t0 && t !== next && !seen.has(t) && canTakeBack(t);
  });
  return { deleteRuns, dropClaims };
}
