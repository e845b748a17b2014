// The next run a job intends, from its spec and the status the operator last wrote. One pure
// function for the operator (before it settles what ran and what was missed) and for the REST
// facade (which shows it), so both show the same time for a job the operator has not yet seen,
// a PUT it has not yet applied, a resume, or a pattern change.
import { firstRun, nextTick } from './schedule.js';
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

/** Counted pattern jobs have every run started by the operator: the name is the lock, so none is extra. */
export function operatorRunsAll(job: QinlingJob): boolean {
  return !job.spec.pattern || job.spec.count !== undefined;
}

/** Whether the override in the spec is one the operator has not applied yet. */
export function pendingOverride(job: QinlingJob): string | undefined {
  const want = job.spec.nextExecutionTime;
  return want && want !== job.status?.appliedNextExecutionTime ? want : undefined;
}

/** Whether the pattern or zone changed since status.nextExecutionTime was computed. */
export function scheduleChanged(job: QinlingJob, tz: string): boolean {
  const w = job.status?.scheduledWith;
  return !!w && !!job.spec.pattern && (w.pattern !== job.spec.pattern || w.timeZone !== tz);
}

/**
 * The run planned when a job is first seen: from its creation, as Qinling planned at create time,
 * so the facade shows the first run before the operator has seen the job.
 */
function planFirst(job: QinlingJob, tz: string, now: Date): Intended {
  const s = job.spec;
  const created = date(job.metadata.creationTimestamp) ?? now;
  const firstTime = date(s.firstExecutionTime);
  const first = s.pattern ? firstRun(s.pattern, tz, created, firstTime) : firstTime;
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
    return { next: nextTick(s.pattern, tz, now), byOperator: operatorRunsAll(job), single: false };
  }
  return {
    next: kept,
    byOperator: isOverride || operatorRunsAll(job) || (st.nextRunByOperator ?? false),
    single: isOverride,
  };
}
