// Failure and overlap policies (issue 16), as pure decisions over what a pass observed: which
// runs are active for the overlap policy, and when the job pauses itself after failures in a row
// (pauseAfterFailures) and when a resume clears that. The planner applies them.
import { setCondition } from './conditions.js';
import type { PlannedEvent } from './events.js';
import type { ObservedRun } from './observe.js';
import type { OverlapPolicy, QinlingJob, QinlingJobStatus } from './types.js';

export interface Overlap {
  policy: OverlapPolicy;
  /** The job's runs whose time has come and that have not ended (nor are being deleted). */
  active: ObservedRun[];
}

export function overlapOf(job: QinlingJob, dueRuns: ObservedRun[], manualRuns: ObservedRun[]): Overlap {
  const active = [...dueRuns, ...manualRuns].filter((r) => r.result === 'Running' && !r.deleting);
  return { policy: job.spec.overlapPolicy ?? 'Allow', active };
}

export const CONDITION_AUTO_PAUSED = 'AutoPaused';

export interface AutoPause {
  status: QinlingJobStatus;
  events: PlannedEvent[];
  /** Set spec.suspend now (after status is written): the pause decided is not applied yet. */
  suspend: boolean;
}

/**
 * pauseAfterFailures K: when the failed runs in a row since the last resume reach K, the job
 * pauses: status.autoPaused says when and why (and a condition and an Event), and the operator
 * sets spec.suspend, so kubectl, REST and the CronJob all see a paused job. A resume (spec.suspend
 * false again: REST status=running, or kubectl) clears it, and the count starts again from there.
 */
export function autoPause(
  job: QinlingJob,
  before: QinlingJobStatus,
  st: QinlingJobStatus,
  now: Date,
): AutoPause {
  const out: QinlingJobStatus = { ...st };
  const events: PlannedEvent[] = [];
  const k = job.spec.pauseAfterFailures;
  const gen = job.metadata.generation;
  const suspended = job.spec.suspend === true;
  const failures = st.consecutiveFailures ?? 0;
  if (failures === 0) delete out.failureStreakBase;
  const was = before.autoPaused;
  if (was?.applied && !suspended) {
    delete out.autoPaused;
    out.failureStreakBase = failures;
    out.conditions = setCondition(out.conditions, now, gen, CONDITION_AUTO_PAUSED, 'False', 'Resumed', '');
    events.push({ type: 'Normal', reason: 'Resumed', message: 'resumed after an automatic pause' });
    return { status: out, events, suspend: false };
  }
  if (was) {
    if (suspended) out.autoPaused = { ...was, applied: true };
    return { status: out, events, suspend: !suspended };
  }
  const streak = failures - (out.failureStreakBase ?? 0);
  const grew = failures > (before.consecutiveFailures ?? 0);
  const running = st.phase === 'Running';
  if (!k || suspended || !running || !grew || streak < k) return { status: out, events, suspend: false };
  const why = `paused after ${streak} failed runs in a row (pauseAfterFailures ${k}); resume the job to run it again`;
  out.autoPaused = { at: now.toISOString(), failures: streak };
  out.conditions = setCondition(
    out.conditions,
    now,
    gen,
    CONDITION_AUTO_PAUSED,
    'True',
    'ConsecutiveFailures',
    why,
  );
  events.push({ type: 'Warning', reason: 'AutoPaused', message: why });
  return { status: out, events, suspend: true };
}
