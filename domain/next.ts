// The next run a job intends, from its spec and the status the operator last wrote. One pure
// function for the operator (before it settles what ran and what was missed) and for the REST
// facade (which shows it), so both show the same time for a job the operator has not yet seen,
// a PUT it has not yet applied, a resume, or a pattern change.
import { firstRunOf, runAfter, timingOf, type Timing } from './timing.js';
import type { QinlingJob, QinlingJobStatus } from './types.js';

export interface Intended {
  /** The next run; undefined when none will come (done, cancelled). */
  next?: Date;
  /** The operator starts it as a Job: one-shots, overrides, counted runs, unfireable ticks. */
  byOperator: boolean;
  /** A run that happens late rather than never (one-shots and overrides): no pattern comes after it. */
  single: boolean;
  /** The first run, when this is the job's first plan. */
  first?: Date;
  /** The spec.nextExecutionTime override this plan applies now. */
  applies?: string;
}

const date = (s: string | undefined) => (s ? new Date(s) : undefined);

/** The zone a job's pattern is read in. */
export function zoneOf(job: QinlingJob, defaultTimeZone: string): string {
  return job.spec.timeZone ?? defaultTimeZone;
}

/**
 * Jobs whose every run the operator starts, none the CronJob's schedule: counted pattern jobs (the
 * name is the lock, so none is extra), and jobs with a policy a CronJob cannot keep: runs off the
 * minute (jitter), bounds it would overstep while the operator is slow to suspend it, an overlap
 * policy that must see runs by hand too, and catch-up beyond its one late run.
 */
export function operatorRunsAll(job: Pick<QinlingJob, 'spec'>): boolean {
  const s = job.spec;
  return (
    !s.pattern ||
    s.count !== undefined ||
    !!s.jitterSeconds ||
    s.startTime !== undefined ||
    s.endTime !== undefined ||
    (s.overlapPolicy ?? 'Allow') !== 'Allow' ||
    s.catchupWindowSeconds !== undefined ||
    s.maxCatchupRuns !== undefined
  );
}

/** Whether the override in the spec is one the operator has not applied yet. */
export function pendingOverride(job: QinlingJob): string | undefined {
  const want = job.spec.nextExecutionTime;
  return want && want !== job.status?.appliedNextExecutionTime ? want : undefined;
}

/** Whether the pattern or zone changed since status.nextExecutionTime was computed. */
export function scheduleChanged(job: QinlingJob, tz: string): boolean {
  const w = job.status?.scheduledWith;
  if (!w || !job.spec.pattern) return false;
  const now = scheduledWith(job, tz);
  const keys = new Set([...Object.keys(w), ...Object.keys(now)]) as Set<keyof typeof now>;
  return [...keys].some((k) => w[k] !== now[k]);
}

/** What a pattern job's times are computed from: a change of any is a schedule changed by hand. */
export function scheduledWith(job: QinlingJob, tz: string): NonNullable<QinlingJobStatus['scheduledWith']> {
  const s = job.spec;
  return {
    pattern: s.pattern ?? '',
    timeZone: tz,
    ...(s.jitterSeconds ? { jitterSeconds: s.jitterSeconds } : {}),
    ...(s.startTime ? { startTime: s.startTime } : {}),
    ...(s.endTime ? { endTime: s.endTime } : {}),
  };
}

/**
 * The run planned when a job is first seen: from its creation, as Qinling planned at create time,
 * so the facade shows the first run before the operator has seen the job.
 */
function planFirst(job: QinlingJob, tz: string, now: Date): Intended {
  const s = job.spec;
  const created = date(job.metadata.creationTimestamp) ?? now;
  const firstTime = date(s.firstExecutionTime);
  const timing = timingOf(job, tz);
  const first = timing ? firstRunOf(timing, created, firstTime) : firstTime;
  return { ...(first ? { next: first, first } : {}), byOperator: operatorRunsAll(job), single: !s.pattern };
}

export function intendedNext(job: QinlingJob, tz: string, now: Date): Intended {
  const s = job.spec;
  const st: QinlingJobStatus = job.status ?? {};
  if (s.cancelled || st.phase === 'Done') return { byOperator: false, single: false };
  const override = pendingOverride(job);
  if (override) return { next: new Date(override), byOperator: true, single: true, applies: override };
  const kept = date(st.nextExecutionTime);
  if (!kept && !st.phase) return planFirst(job, tz, now);
  if (!s.pattern) {
    const at = kept ?? date(s.firstExecutionTime);
    return { ...(at ? { next: at } : {}), byOperator: true, single: true };
  }
  const isOverride = !!kept && date(st.appliedNextExecutionTime)?.getTime() === kept.getTime();
  // Qinling: resuming skips what was missed; a pattern or zone changed by hand starts afresh.
  const resumed = st.phase === 'Paused' && !s.suspend;
  if (!kept || resumed || (scheduleChanged(job, tz) && !isOverride)) {
    const next = runAfter(timingOf(job, tz) as Timing, now);
    return { ...(next ? { next } : {}), byOperator: operatorRunsAll(job), single: false };
  }
  return {
    next: kept,
    byOperator: isOverride || operatorRunsAll(job) || (st.nextRunByOperator ?? false),
    single: isOverride,
  };
}
