// Schedule math over cron-parser that agrees with the Kubernetes CronJob controller's parser
// (robfig/cron's standard parser): what the controller would not run the same way is refused
// here, so `status.nextExecutionTime` is the time the CronJob really fires. Every function takes
// `now` (or a reference time) explicitly.
import { CronExpressionParser } from 'cron-parser';
import { memo } from './memo.js';

export class ScheduleError extends Error {}

/** Descriptors the controller accepts, as the five fields they stand for. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  // The controller's parser knows 0-6 only; 7 (Sunday elsewhere) is refused there.
  { name: 'day of week', min: 0, max: 6, names: DAYS, nameBase: 0 },
];

function value(f: Field, token: string): number {
  const named = f.names?.indexOf(token.toLowerCase()) ?? -1;
  if (named >= 0) return named + (f.nameBase ?? 0);
  if (!/^\d+$/.test(token)) throw new ScheduleError(`${f.name}: "${token}" is not a number`);
  const n = Number(token);
  if (n < f.min || n > f.max) throw new ScheduleError(`${f.name}: ${n} is outside ${f.min}-${f.max}`);
  return n;
}

/** One field in the controller's grammar: `*`, `?`, a, a-b, each with an optional /step, comma lists. */
function checkField(f: Field, text: string): void {
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m?.[1]) throw new ScheduleError(`${f.name}: "${part}" is not valid`);
    if (m[2] !== undefined && Number(m[2]) === 0) throw new ScheduleError(`${f.name}: step 0 is not valid`);
    const range = m[1];
    if (range === '*' || range === '?') continue;
    const [lo, hi, ...rest] = range.split('-');
    if (rest.length > 0 || lo === undefined) throw new ScheduleError(`${f.name}: "${range}" is not valid`);
    const a = value(f, lo);
    if (hi !== undefined && value(f, hi) < a)
      throw new ScheduleError(`${f.name}: range "${range}" runs backwards`);
  }
}

const restricted = (field: string) => field !== '*' && field !== '?';

/**
 * Validates a pattern and returns its five fields. Refuses: six fields (seconds), `@every`,
 * `CRON_TZ=`/`TZ=` prefixes, L/W/#/H extensions, day-of-week 7, day-of-month and day-of-week
 * both restricted where one is a stepped wildcard (the two parsers combine those differently),
 * and patterns that can never fire (`0 0 30 2 *`).
 */
export const parsePattern = memo(4096, (p: string) => p, parsePatternUncached);

function parsePatternUncached(pattern: string): string {
  const p = pattern.trim();
  if (p === '') throw new ScheduleError('the pattern is empty');
  if (/^(CRON_)?TZ=/i.test(p)) throw new ScheduleError('time zone prefixes are not supported; use timeZone');
  if (p.startsWith('@')) {
    const five = MACROS[p.toLowerCase()];
    if (!five)
      throw new ScheduleError(`"${p}" is not a supported descriptor (${Object.keys(MACROS).join(', ')})`);
    return five;
  }
  const fields = p.split(/\s+/);
  if (fields.length !== 5) {
    throw new ScheduleError(
      `a pattern has 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}`,
    );
  }
  fields.forEach((text, i) => checkField(FIELDS[i] as Field, text));
  const [, , dom = '*', , dow = '*'] = fields;
  if (restricted(dom) && restricted(dow) && (dom.startsWith('*') || dow.startsWith('*'))) {
    throw new ScheduleError('day-of-month and day-of-week together with a stepped wildcard are ambiguous');
  }
  const five = fields.join(' ');
  try {
    // Feb 30 and the like never fire; cron-parser refuses them, the controller would just never run.
    CronExpressionParser.parse(five, { currentDate: new Date(0), tz: 'Etc/UTC' }).next();
  } catch {
    throw new ScheduleError('the pattern never matches a real date');
  }
  return five;
}

export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return !/^[+-]|^(UTC|GMT)[+-]/i.test(tz);
  } catch {
    return false;
  }
}

function expr(pattern: string, from: Date, tz: string) {
  return CronExpressionParser.parse(parsePattern(pattern), { currentDate: from, tz });
}

const MINUTE = 60_000;

// Ticks fall on whole minutes, so the first tick after any instant of a minute is the first
// tick after that minute's start, and the last tick before any instant of a minute is the last
// one before its end: keying the memo by minute is exact, and lets thousands of jobs share.
const nextTickAt = memo(
  16_384,
  (pattern: string, tz: string, minute: number) => `${pattern}|${tz}|${minute}`,
  (pattern: string, tz: string, minute: number) => expr(pattern, new Date(minute), tz).next().getTime(),
);
const prevTickAt = memo(
  16_384,
  (pattern: string, tz: string, minute: number) => `${pattern}|${tz}|${minute}`,
  (pattern: string, tz: string, minute: number) => expr(pattern, new Date(minute), tz).prev().getTime(),
);

/** The first tick strictly after `after`. */
export function nextTick(pattern: string, tz: string, after: Date): Date {
  return new Date(nextTickAt(pattern, tz, Math.floor(after.getTime() / MINUTE) * MINUTE));
}

/** The last tick strictly before `before`. */
export function prevTick(pattern: string, tz: string, before: Date): Date {
  return new Date(prevTickAt(pattern, tz, Math.ceil(before.getTime() / MINUTE) * MINUTE));
}

/**
 * Qinling's first run of a recurring job: with a first execution time, the first tick found
 * searching from one minute before it; without one, the first tick after now.
 */
export function firstRun(pattern: string, tz: string, now: Date, firstExecutionTime?: Date): Date {
  if (!firstExecutionTime) return nextTick(pattern, tz, now);
  return nextTick(pattern, tz, new Date(firstExecutionTime.getTime() - 60_000));
}

/** The next `n` ticks after `after`: for previews. */
export function upcoming(pattern: string, tz: string, after: Date, n: number): Date[] {
  const e = expr(pattern, after, tz);
  return Array.from({ length: n }, () => e.next().toDate());
}
