// What will run: a job's next N run times, by the same function that gives nextExecutionTime
// (intendedNext), then the pattern's ticks as the CronJob controller steps them; and, for zones
// with daylight saving time, which runs share their wall-clock time with another (the clocks went
// back) and which times the pattern names that never come (the clocks jumped over them). Pure.
import { intendedNext } from './next.js';
import { nextTick, ScheduleError } from './schedule.js';
import { stepper, timingOf } from './timing.js';
import type { QinlingJob } from './types.js';
import { badRequest } from './errors.js';
import { LATEST_TIME, wireTime } from './wire.js';
import { loadZone, type Zone } from './zone.js';

/** At most this many times are asked for at once (REST `count`). */
export const MAX_UPCOMING = 1000;
/** How many `GET /v1/jobs/{id}/schedule` lists when no count is given, and status.upcoming holds. */
export const DEFAULT_UPCOMING = 5;

export interface UpcomingRun {
  time: Date;
  /** The wall clock in the job's zone, with its offset: `2026-10-25T02:30:00+01:00`. */
  local: string;
  /** This wall-clock time happens twice that day (the clocks went back), and so does the run. */
  overlap: boolean;
}

export interface Schedule {
  runs: UpcomingRun[];
  /** Wall-clock times the pattern names, up to the last run listed, that never come (a DST gap). */
  skipped: string[];
}

/**
 * The next `n` runs the job will really have, from now: none for a paused, cancelled or done job
 * (resuming recomputes from then), at most the runs its count has left, none after 2100.
 */
export function upcomingTimes(job: QinlingJob, tz: string, now: Date, n: number): Date[] {
  const s = job.spec;
  if (s.suspend || n <= 0) return [];
  const first = intendedNext(job, tz, now).next;
  if (!first) return [];
  const left = job.status?.remaining ?? (s.pattern ? (s.count ?? Infinity) : 1);
  return runsFrom(first, stepper(timingOf(job, tz)), Math.min(n, left));
}

/**
 * `first`, then the job's runs after it (timing.ts: a one-shot or an override is followed by the
 * pattern, as Qinling did), `n` times in all at most, none after 2100 nor after its end bound.
 */
export function runsFrom(first: Date, after: ((t: Date) => Date | undefined) | undefined, n: number): Date[] {
  if (n <= 0) return [];
  const times = [first];
  try {
    for (let t: Date | undefined = first; after && times.length < n;) {
      t = after(t);
      if (!t || t.getTime() >= LATEST_TIME) break;
      times.push(t);
    }
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err; // no tick within five years: the list ends
  }
  return times;
}

export function schedule(job: QinlingJob, tz: string, now: Date, n: number): Schedule {
  const times = upcomingTimes(job, tz, now, n);
  const z = loadZone(tz);
  if (!z)
    return { runs: times.map((time) => ({ time, local: time.toISOString(), overlap: false })), skipped: [] };
  const runs = times.map((time) => {
    const wall = wallOf(z, time);
    return { time, local: localText(z, time), overlap: instantsAt(z, wall).length > 1 };
  });
  const pattern = job.spec.pattern;
  const last = times.at(-1);
  const skipped = pattern && last ? gapTimes(pattern, z, wallOf(z, now), wallOf(z, last), n) : [];
  return { runs, skipped };
}

const secOf = (d: Date) => Math.floor(d.getTime() / 1000);
/** The wall clock of an instant, as seconds of a UTC calendar. */
const wallOf = (z: Zone, d: Date) => secOf(d) + z.offset(secOf(d));

/** The instants whose wall clock is `wall`: none in a gap, two in an overlap. */
function instantsAt(z: Zone, wall: number): number[] {
  const out = new Set<number>();
  // Offsets in force half a day either side: two transitions are never closer than that.
  for (const o of [z.offset(wall - 43_200), z.offset(wall + 43_200)]) {
    const u = wall - o;
    if (u + z.offset(u) === wall) out.add(u);
  }
  return [...out];
}

function localText(z: Zone, d: Date): string {
  const o = z.offset(secOf(d));
  const wall = new Date((secOf(d) + o) * 1000).toISOString().slice(0, 19);
  const abs = Math.abs(o);
  const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
  return `${wall}${o < 0 ? '-' : '+'}${hh}:${mm}`;
}

/**
 * The pattern's wall-clock matches after `fromWall` up to `toWall` that no instant has: the
 * controller never runs them. Walked as the pattern on a clock without DST (Etc/UTC).
 */
function gapTimes(pattern: string, z: Zone, fromWall: number, toWall: number, max: number): string[] {
  const out: string[] = [];
  for (let w = fromWall; out.length < max;) {
    w = secOf(nextTick(pattern, 'Etc/UTC', new Date(w * 1000)));
    if (w > toWall) break;
    if (instantsAt(z, w).length === 0) out.push(new Date(w * 1000).toISOString().slice(0, 19));
  }
  return out;
}

/** `GET /v1/jobs/{id}/schedule`: a compatible addition, times in Qinling's form. */
export interface WireSchedule {
  job_id: string;
  time_zone: string;
  runs: { time: string; local: string; overlap: boolean }[];
  skipped: string[];
}

/** The `count` query parameter: 1 to MAX_UPCOMING, DEFAULT_UPCOMING when absent. */
export function upcomingCount(raw: unknown): number {
  if (raw === undefined) return DEFAULT_UPCOMING;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_UPCOMING))
    throw badRequest(`Invalid count: must be an integer from 1 to ${MAX_UPCOMING}.`);
  return n;
}

export function wireSchedule(job: QinlingJob, tz: string, now: Date, n: number): WireSchedule {
  const s = schedule(job, tz, now, n);
  return {
    job_id: job.metadata.uid,
    time_zone: tz,
    runs: s.runs.map((r) => ({ time: wireTime(r.time) ?? '', local: r.local, overlap: r.overlap })),
    skipped: s.skipped,
  };
}
