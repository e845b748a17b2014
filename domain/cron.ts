// robfig/cron v3.0.1, the parser and stepper inside the Kubernetes CronJob controller, redone
// so our ticks are the controller's ticks, quirks included: the same grammar (and refusals) in
// `compile`, and in `next` the same walk as SpecSchedule.Next over Go's time arithmetic,
// including where that walk skips or repeats wall times around DST transitions.
import { add, addDate, goDate, inZone, truncate, type GoTime } from './gotime.js';
import type { Zone } from './tzif.js';

export class ScheduleError extends Error {}

/** One field as robfig keeps it: the values it matches, and whether it was written as `*` or `?`. */
export interface FieldSet {
  readonly has: readonly boolean[];
  /** robfig's star bit: set by a `*` or `?` item without a step above 1. */
  readonly star: boolean;
}

/** A parsed pattern; robfig's standard parser always sets the second to 0. */
export interface Spec {
  readonly minute: FieldSet;
  readonly hour: FieldSet;
  readonly dom: FieldSet;
  readonly month: FieldSet;
  readonly dow: FieldSet;
}

interface Bounds {
  name: string;
  min: number;
  max: number;
  names?: Map<string, number>;
}

const MONTHS = 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' ');
const DAYS = 'sun mon tue wed thu fri sat'.split(' ');
const BOUNDS: Bounds[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: new Map(MONTHS.map((m, i) => [m, i + 1])) },
  { name: 'day of week', min: 0, max: 6, names: new Map(DAYS.map((d, i) => [d, i])) },
];

/**
 * robfig's descriptors, matched case-sensitively as robfig does, and the five fields giving the
 * same sets and star bits. (`@every` is robfig's too, but not a pattern: it is refused.)
 */
export const DESCRIPTORS = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);

/**
 * robfig's ParseStandard without a TZ= prefix: five fields (or a descriptor) to a Spec, refusing
 * what it refuses. Descriptors give the same sets (and star bits) as their five fields.
 */
export function compile(text: string): Spec {
  if (text.startsWith('@') && !DESCRIPTORS.has(text)) {
    throw new ScheduleError(
      `"${text}" is not a supported descriptor (${[...DESCRIPTORS.keys()].join(', ')})`,
    );
  }
  const fields = (DESCRIPTORS.get(text) ?? text).split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) {
    throw new ScheduleError(
      `a pattern has 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}`,
    );
  }
  const [minute, hour, dom, month, dow] = fields.map((f, i) => field(f, BOUNDS[i] as Bounds));
  return { minute, hour, dom, month, dow } as Spec;
}

/** getField: a comma list of ranges; empty items are dropped, as strings.FieldsFunc drops them. */
function field(text: string, b: Bounds): FieldSet {
  const has: boolean[] = new Array<boolean>(b.max + 1).fill(false);
  let star = false;
  for (const item of text.split(',').filter((i) => i !== '')) {
    star = range(item, b, has) || star;
  }
  return { has, star };
}

/** getRange: `*`, `?`, a, a-b, each with an optional /step; `a/step` runs to the maximum. */
function range(expr: string, b: Bounds, has: boolean[]): boolean {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] as string).split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    // robfig looks no further: `*-5` is `*`.
    [start, end, star] = [b.min, b.max, true];
  } else {
    start = intOrName(lowAndHigh[0] as string, b);
    if (lowAndHigh.length > 2) throw new ScheduleError(`${b.name}: "${expr}" has too many hyphens`);
    end = lowAndHigh.length === 2 ? intOrName(lowAndHigh[1] as string, b) : start;
  }
  let step = 1;
  if (rangeAndStep.length > 2) throw new ScheduleError(`${b.name}: "${expr}" has too many slashes`);
  if (rangeAndStep.length === 2) {
    step = integer(rangeAndStep[1] as string, b);
    if (lowAndHigh.length === 1) end = b.max;
    if (step > 1) star = false;
  }
  if (start < b.min || end > b.max) {
    throw new ScheduleError(`${b.name}: ${start < b.min ? start : end} is outside ${b.min}-${b.max}`);
  }
  if (start > end) throw new ScheduleError(`${b.name}: range "${expr}" runs backwards`);
  if (step === 0) throw new ScheduleError(`${b.name}: step 0 is not valid`);
  for (let i = start; i <= end; i += step) has[i] = true;
  return star;
}

function intOrName(text: string, b: Bounds): number {
  return b.names?.get(text.toLowerCase()) ?? integer(text, b);
}

/** strconv.Atoi's grammar (optional sign, decimal digits, fits in int64), then no negatives. */
function integer(text: string, b: Bounds): number {
  const m = /^([+-]?)0*(\d+)$/.exec(text);
  const digits = m?.[2] ?? '';
  const fits = digits.length < 19 || (digits.length === 19 && digits <= '9223372036854775807');
  if (!m || !fits) throw new ScheduleError(`${b.name}: "${text}" is not a number`);
  const n = Number(digits);
  if (m[1] === '-' && n !== 0) throw new ScheduleError(`${b.name}: "${text}" is negative`);
  return n;
}

/** dayMatches: with a star bit on either day field both must match, else either may. */
export function dayMatches(s: Spec, t: Pick<GoTime, 'day' | 'weekday'>): boolean {
  const dom = s.dom.has[t.day] === true;
  const dow = s.dow.has[t.weekday] === true;
  return s.dom.star || s.dow.star ? dom && dow : dom || dow;
}

// ---- SpecSchedule.Next ----

/** The walk's state: the candidate time, and whether a field has moved it yet. */
interface Walk {
  t: GoTime;
  added: boolean;
}

/**
 * SpecSchedule.Next in `zone`: the first tick robfig finds after `fromMs`, or undefined where
 * it gives up (robfig's zero time: nothing within five years of `fromMs`).
 */
export function next(s: Spec, zone: Zone, fromMs: number): number | undefined {
  // "Start at the earliest possible time (the upcoming second)."
  const w: Walk = { t: inZone(zone, Math.floor(fromMs / 1000) + 1), added: false };
  const yearLimit = w.t.year + 5;
  for (;;) {
    if (w.t.year > yearLimit) return undefined;
    // Each step returns true where robfig jumps back to WRAP: re-check every field.
    const wrapped =
      months(s, zone, w) || days(s, zone, w) || hours(s, zone, w) || minutes(s, zone, w) || seconds(zone, w);
    if (!wrapped) return w.t.sec * 1000;
  }
}

/** The first time a field moves the candidate, it starts it at that field's beginning. */
function start(w: Walk, at: () => GoTime): void {
  if (w.added) return;
  w.added = true;
  w.t = at();
}

function months(s: Spec, zone: Zone, w: Walk): boolean {
  while (!s.month.has[w.t.month]) {
    start(w, () => goDate(zone, w.t.year, w.t.month, 1, 0, 0, 0));
    w.t = addDate(zone, w.t, 0, 1, 0);
    if (w.t.month === 1) return true;
  }
  return false;
}

function days(s: Spec, zone: Zone, w: Walk): boolean {
  while (!dayMatches(s, w.t)) {
    start(w, () => goDate(zone, w.t.year, w.t.month, w.t.day, 0, 0, 0));
    w.t = addDate(zone, w.t, 0, 0, 1);
    // robfig's DST correction: a day that does not start at midnight is moved to the nearer
    // midnight by whole hours (forward from 13:00 on, else back), wherever that lands.
    const h = w.t.hour;
    if (h !== 0) w.t = add(zone, w.t, (h > 12 ? 24 - h : -h) * 3600);
    if (w.t.day === 1) return true;
  }
  return false;
}

function hours(s: Spec, zone: Zone, w: Walk): boolean {
  while (!s.hour.has[w.t.hour]) {
    start(w, () => goDate(zone, w.t.year, w.t.month, w.t.day, w.t.hour, 0, 0));
    w.t = add(zone, w.t, 3600);
    if (w.t.hour === 0) return true;
  }
  return false;
}

function minutes(s: Spec, zone: Zone, w: Walk): boolean {
  while (!s.minute.has[w.t.minute]) {
    start(w, () => truncate(zone, w.t, 60));
    w.t = add(zone, w.t, 60);
    if (w.t.minute === 0) return true;
  }
  return false;
}

/** The second field is always 0 in the standard parser. */
function seconds(zone: Zone, w: Walk): boolean {
  while (w.t.second !== 0) {
    start(w, () => truncate(zone, w.t, 1));
    w.t = add(zone, w.t, 1);
    if (w.t.second === 0) return true;
  }
  return false;
}
