// When a pattern job's runs happen (issue 16): the pattern's ticks, each moved by the job's
// deterministic jitter, kept within its start and end bounds. One function, `runAfter`, gives the
// run after an instant; nextExecutionTime, status.upcoming, the settling of due runs and the
// REST schedule all step through it, so all show the time the call really happens. Pure.
import { createHash } from 'node:crypto';
import { nextTick, ScheduleError } from './schedule.js';
import type { QinlingJob } from './types.js';

export interface Timing {
  pattern: string;
  tz: string;
  /** No run before this instant (ms). */
  startMs?: number;
  /** No run after this instant (ms): past it the job is done. */
  endMs?: number;
  /** The job's jitter: every run this long after its tick (less where the next tick is nearer). */
  offsetMs: number;
}

/**
 * The job's offset: from its uid, so it is the same on every pass, operator and facade, and across
 * restarts; whole seconds from 0 to jitterSeconds.
 */
export function jitterOffsetMs(uid: string, jitterSeconds: number | undefined): number {
  if (!jitterSeconds) return 0;
  const h = createHash('sha256').update(uid, 'utf8').digest().readUInt32BE(0);
  return (h % (jitterSeconds + 1)) * 1000;
}

export function timingOf(job: QinlingJob, tz: string): Timing | undefined {
  const s = job.spec;
  if (!s.pattern) return undefined;
  const ms = (t: string | undefined) => (t ? Date.parse(t) : undefined);
  const startMs = ms(s.startTime);
  const endMs = ms(s.endTime);
  return {
    pattern: s.pattern,
    tz,
    ...(startMs !== undefined ? { startMs } : {}),
    ...(endMs !== undefined ? { endMs } : {}),
    offsetMs: jitterOffsetMs(job.metadata.uid, s.jitterSeconds),
  };
}

/** A tick's run: the offset later, but always a second before the next tick (never past the next slot). */
function runOf(t: Timing, tick: Date): Date {
  if (t.offsetMs === 0) return tick;
  const gap = nextTick(t.pattern, t.tz, tick).getTime() - tick.getTime();
  return new Date(tick.getTime() + Math.max(Math.min(t.offsetMs, gap - 1000), 0));
}

/** The first run strictly after `after`; undefined once the end bound is passed. */
export function runAfter(t: Timing, after: Date): Date | undefined {
  const from = Math.max(after.getTime(), (t.startMs ?? -Infinity) - 1);
  let run: Date;
  try {
    // A tick at or before `from - offset` runs at or before `from`: the search starts there.
    let tick = nextTick(t.pattern, t.tz, new Date(from - t.offsetMs));
    run = runOf(t, tick);
    while (run.getTime() <= from) {
      tick = nextTick(t.pattern, t.tz, tick);
      run = runOf(t, tick);
    }
  } catch (err) {
    // No tick for years: with an end bound that is simply the end.
    if (err instanceof ScheduleError && t.endMs !== undefined) return undefined;
    throw err;
  }
  return t.endMs !== undefined && run.getTime() > t.endMs ? undefined : run;
}

/** Qinling's first run (see schedule.ts firstRun), on the job's timing. */
export function firstRunOf(t: Timing, now: Date, firstExecutionTime?: Date): Date | undefined {
  return runAfter(t, firstExecutionTime ? new Date(firstExecutionTime.getTime() - 60_000) : now);
}

/** The job's runs as a step function (undefined for a one-shot, which has no pattern). */
export function stepper(t: Timing | undefined): ((after: Date) => Date | undefined) | undefined {
  return t ? (after) => runAfter(t, after) : undefined;
}
