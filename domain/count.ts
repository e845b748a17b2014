// Counting runs: each scheduled time once, from the set of times already counted (not one mark,
// so a run observed out of order still counts, and a counted run's Job going away loses nothing).
import type { PlannedEvent } from './events.js';
import type { ObservedRun } from './observe.js';
import type { PlannerConfig } from './config.js';
import type { LastExecution, QinlingJobStatus } from './types.js';

/** Counted times kept beyond those whose Jobs are still seen: enough for any late-arriving event. */
export const KEEP_COUNTED = 20;

export interface Counted {
  executions: number;
  countedTimes: string[];
  /** Runs counted by this pass (for the skew metric). */
  fresh: ObservedRun[];
  /** Claims (operator runs being started) still waiting for their Job. */
  claimedTimes: string[];
  /** Misses that turned out to have run after all (a late watch event): no longer misses. */
  unmissed: string[];
  lastExecution?: LastExecution;
  events: PlannedEvent[];
}

const ms = (s: string) => new Date(s).getTime();

/** The times to keep: every one whose Job is still seen, and the newest few others. */
function keep(times: Set<number>, seen: Set<number>): string[] {
  const sorted = [...times].sort((a, b) => a - b);
  const recent = new Set(sorted.slice(-KEEP_COUNTED));
  return sorted.filter((t) => seen.has(t) || recent.has(t)).map((t) => new Date(t).toISOString());
}

export function countRuns(prev: QinlingJobStatus, runs: ObservedRun[]): Counted {
  const counted = new Set((prev.countedTimes ?? []).map(ms));
  // Status written before counted times existed: everything up to its one mark was counted.
  const legacyMark =
    prev.countedTimes === undefined && prev.lastScheduledTime ? ms(prev.lastScheduledTime) : -Infinity;
  const seen = new Set(runs.map((r) => r.scheduledTime.getTime()));
  const fresh: ObservedRun[] = [];
  for (const r of runs) {
    const t = r.scheduledTime.getTime();
    if (t <= legacyMark) counted.add(t);
    if (counted.has(t)) continue;
    counted.add(t);
    fresh.push(r);
  }
  const misses = new Set((prev.recentMisses ?? []).map(ms));
  const unmissed = fresh
    .filter((r) => misses.has(r.scheduledTime.getTime()))
    .map((r) => r.scheduledTime.toISOString());
  const { lastExecution, events } = latest(prev.lastExecution, runs);
  return {
    executions: (prev.executions ?? 0) + fresh.length,
    countedTimes: keep(counted, seen),
    fresh,
    claimedTimes: (prev.claimedTimes ?? []).filter((c) => !seen.has(ms(c))),
    unmissed,
    ...(lastExecution ? { lastExecution } : {}),
    events,
  };
}

/** The latest run as status shows it, and the events its change calls for. */
function latest(
  before: LastExecution | undefined,
  runs: ObservedRun[],
): { lastExecution?: LastExecution; events: PlannedEvent[] } {
  const r = [...runs].sort((a, b) => b.scheduledTime.getTime() - a.scheduledTime.getTime())[0];
  if (!r) return before ? { lastExecution: before, events: [] } : { events: [] };
  const last: LastExecution = {
    scheduledTime: r.scheduledTime.toISOString(),
    jobName: r.jobName,
    result: r.result,
    ...(r.startTime ? { startTime: r.startTime.toISOString() } : {}),
    ...(r.completionTime ? { completionTime: r.completionTime.toISOString() } : {}),
    ...(r.message ? { message: r.message } : {}),
  };
  const events: PlannedEvent[] = [];
  const changed = before?.jobName !== last.jobName;
  if (changed) {
    events.push({
      type: 'Normal',
      reason: 'RunStarted',
      message: `run for ${last.scheduledTime} is Job ${last.jobName}`,
    });
  }
  if (last.result === 'Failed' && (changed || before?.result !== 'Failed')) {
    events.push({
      type: 'Warning',
      reason: 'RunFailed',
      message: `Job ${last.jobName}: ${last.message ?? 'failed'}`,
    });
  }
  return { lastExecution: last, events };
}

/**
 * The operator's own finished runs beyond the history limits (the newest kept, as the CronJob
 * controller keeps its own), and only those a written status has counted already: deleting one
 * can never make it count again, nor leave a claim waiting for a Job that is gone.
 */
export function expiredRuns(
  runs: ObservedRun[],
  countedTimes: string[] | undefined,
  cfg: Pick<PlannerConfig, 'successfulJobsHistoryLimit' | 'failedJobsHistoryLimit'>,
): string[] {
  const counted = new Set((countedTimes ?? []).map(ms));
  const expired: string[] = [];
  const limits: [ObservedRun['result'], number][] = [
    ['Succeeded', cfg.successfulJobsHistoryLimit],
    ['Failed', cfg.failedJobsHistoryLimit],
  ];
  for (const [result, limit] of limits) {
    const mine = runs
      .filter((r) => r.byOperator && r.result === result)
      .sort((a, b) => b.scheduledTime.getTime() - a.scheduledTime.getTime());
    for (const r of mine.slice(Math.max(limit, 1)))
      if (counted.has(r.scheduledTime.getTime())) expired.push(r.jobName);
  }
  return expired;
}
