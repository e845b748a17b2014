// Schedule math that is the Kubernetes CronJob controller's: patterns are parsed and stepped as
// robfig/cron v3.0.1 does it inside kube-controller-manager (cron.ts), in zones read as Go reads
// them (zone.ts), so `status.nextExecutionTime` is the time the CronJob really fires, DST quirks
// included. On top of robfig's grammar the product refuses a few things it accepts. Every
// function takes `now` (or a reference time) explicitly.
import { compile, dayMatches, DESCRIPTORS, next, ScheduleError, type Spec } from './cron.js';
import { memo } from '../lib/memo.js';
import { loadZone, type Zone } from './zone.js';

export { ScheduleError } from './cron.js';

/** The longest day each month can have (February in a leap year). */
const LONGEST = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether no date at all matches (`0 0 30 2 *`): the controller would accept it and never run. */
function neverFires(s: Spec): boolean {
  if (!s.minute.has.includes(true) || !s.hour.has.includes(true)) return true;
  for (let month = 1; month <= 12; month++) {
    if (!s.month.has[month]) continue;
    // Every date falls on every weekday in some year (Feb 29 too, over 28 years).
    for (let day = 1; day <= (LONGEST[month] as number); day++) {
      for (let weekday = 0; weekday < 7; weekday++) if (dayMatches(s, { day, weekday })) return false;
    }
  }
  return true;
}

function check(pattern: string): { fields: string; spec: Spec } {
  // Go's Unicode rules (spaces, case folding) are not ours; no pattern needs more than ASCII.
  if (/[^\p{ASCII}]/u.test(pattern)) throw new ScheduleError('a pattern is plain ASCII text');
  const p = pattern.trim();
  if (p === '') throw new ScheduleError('the pattern is empty');
  if (/^(CRON_)?TZ=/i.test(p)) throw new ScheduleError('time zone prefixes are not supported; use timeZone');
  const spec = compile(p);
  if (neverFires(spec)) throw new ScheduleError('the pattern never matches a real date');
  return { fields: DESCRIPTORS.get(p) ?? p.split(/\s+/).join(' '), spec };
}

const checked = memo(4096, (p: string) => p, check);

/**
 * Validates a pattern and returns its five fields (a descriptor as the fields it stands for).
 * Accepts exactly what the controller's parser accepts, except: `@every`, `CRON_TZ=`/`TZ=`
 * prefixes, patterns that can never fire (`0 0 30 2 *`) and non-ASCII text. The parser itself
 * refuses six fields, L/W/#/H, day-of-week 7, upper-case descriptors and the like.
 */
export function parsePattern(pattern: string): string {
  return checked(pattern).fields;
}

/**
 * Whether `tz` passes the API server's checks for a CronJob's `timeZone` and loads as the
 * controller would load it; UTC offsets spelled as names (`+02:00`, `UTC+2`) are refused too.
 */
export function validTimeZone(tz: string): boolean {
  if (/^[+-]|^(UTC|GMT)[+-]/i.test(tz) || tz.toLowerCase() === 'local') return false;
  const parts = tz.split('/');
  const named = (p: string) =>
    p !== '.' && p !== '..' && !p.startsWith('-') && /^[A-Za-z._\-0-9+]{1,14}$/.test(p);
  return parts.every(named) && loadZone(tz) !== undefined;
}

function zone(tz: string): Zone {
  const z = loadZone(tz);
  if (!z) throw new ScheduleError(`unknown time zone ${tz}`);
  return z;
}

/**
 * robfig's Next from the instant before second `start` (its first candidate), as Unix ms; null
 * where robfig gives up (nothing within five years).
 */
const tickFrom = memo(
  16_384,
  (pattern: string, tz: string, start: number) => `${pattern}|${tz}|${start}`,
  (pattern: string, tz: string, start: number) =>
    next(checked(pattern).spec, zone(tz), (start - 1) * 1000) ?? null,
);

/**
 * The memo key for a walk starting at second `start`. A walk from a minute's first second may
 * fire at once, so that second is its own key; from any later second of the minute robfig
 * depends on the start only through its wall clock fields and minute, so those share one key,
 * provided the wall clock keeps whole minutes through it. Keying by minute lets thousands of
 * jobs share.
 */
function startKey(z: Zone, start: number): number {
  const minute = Math.floor(start / 60) * 60;
  if (start === minute) return start;
  const offset = z.offset(minute + 1);
  return offset % 60 === 0 && z.offset(minute + 59) === offset ? minute + 1 : start;
}

/** robfig's Next after `ms`, in Unix ms; null where robfig gives up. */
function tickAfter(pattern: string, tz: string, ms: number): number | null {
  // An Invalid Date would walk forever: its fields match nothing and never wrap.
  if (!Number.isFinite(ms)) throw new ScheduleError('not a valid time');
  const start = Math.floor(ms / 1000) + 1;
  return tickFrom(pattern, tz, startKey(zone(tz), start));
}

/** The first tick strictly after `after`, as the CronJob controller computes it. */
export function nextTick(pattern: string, tz: string, after: Date): Date {
  const tick = tickAfter(pattern, tz, after.getTime());
  if (tick === null) {
    throw new ScheduleError(
      `"${pattern}" has no tick in ${tz} within five years after ${after.toISOString()}`,
    );
  }
  return new Date(tick);
}

/** Windows for prevTick: from a minute, four times wider each try, up to about 32 years. */
const WINDOWS = Array.from({ length: 13 }, (_, i) => 60_000 * 4 ** i);

/**
 * The last tick strictly before `before` in the controller's chain of Next calls: the chain is
 * started a window before `before` and followed up to it, the window widening until it holds
 * a tick. (Ticks are whole seconds, so `before` is keyed by its second.)
 */
const prevTickAt = memo(
  16_384,
  (pattern: string, tz: string, beforeSec: number) => `${pattern}|${tz}|${beforeSec}`,
  (pattern: string, tz: string, beforeSec: number) => {
    const before = beforeSec * 1000;
    for (const window of WINDOWS) {
      let tick = tickAfter(pattern, tz, before - window);
      if (tick === null || tick >= before) continue;
      for (let t: number | null = tick; t !== null && t < before; t = tickAfter(pattern, tz, t)) tick = t;
      return tick;
    }
    const when = new Date(before).toISOString();
    throw new ScheduleError(`"${pattern}" has no tick in ${tz} within 32 years before ${when}`);
  },
);

/** The last tick strictly before `before`, in the controller's chain of ticks. */
export function prevTick(pattern: string, tz: string, before: Date): Date {
  return new Date(prevTickAt(pattern, tz, Math.ceil(before.getTime() / 1000)));
}

/**
 * Qinling's first run of a recurring job: with a first execution time, the first tick found
 * searching from one minute before it; without one, the first tick after now.
 */
export function firstRun(pattern: string, tz: string, now: Date, firstExecutionTime?: Date): Date {
  if (!firstExecutionTime) return nextTick(pattern, tz, now);
  return nextTick(pattern, tz, new Date(firstExecutionTime.getTime() - 60_000));
}
