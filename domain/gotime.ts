// The parts of Go's time package robfig/cron steps with, over a zone: an instant seen on a wall
// clock, time.Date (with its rule for wall times a transition skips or repeats), AddDate, Add
// and Truncate. Instants are whole Unix seconds: cron steps never carry a fraction.
import { daysFromCivil, type Zone } from './tzif.js';

/** An instant and the wall clock fields Go's accessors would report for it in its zone. */
export interface GoTime {
  readonly sec: number;
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 (Sunday) - 6 */
  readonly weekday: number;
}

const DAY = 86_400;

/** Go's t.In(zone) and its field accessors. */
export function inZone(zone: Zone, sec: number): GoTime {
  const wall = sec + zone.offset(sec);
  const days = Math.floor(wall / DAY);
  const clock = wall - days * DAY;
  const { year, month, day } = civil(days);
  return {
    sec,
    year,
    month,
    day,
    hour: Math.floor(clock / 3600),
    minute: Math.floor(clock / 60) % 60,
    second: clock % 60,
    // 1970-01-01 was a Thursday.
    weekday: (((days + 4) % 7) + 7) % 7,
  };
}

/**
 * Go's time.Date: fields may overflow (month 13, day 0, hour 24) and are carried. For a wall time
 * a transition skips or repeats, Go takes the offset at (wall - offset at wall), wall read as
 * UTC: its lookup at `unix`, then again at `unix - offset` when that leaves the first period.
 */
export function goDate(
  zone: Zone,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): GoTime {
  const years = Math.floor((mo - 1) / 12);
  const month = mo - 1 - years * 12 + 1;
  const wall = (daysFromCivil(y + years, month, 1) + d - 1) * DAY + h * 3600 + mi * 60 + s;
  return inZone(zone, wall - zone.offset(wall - zone.offset(wall)));
}

/** Go's t.AddDate: the wall fields plus the deltas, through time.Date. */
export function addDate(zone: Zone, t: GoTime, years: number, months: number, days: number): GoTime {
  return goDate(zone, t.year + years, t.month + months, t.day + days, t.hour, t.minute, t.second);
}

/** Go's t.Add: absolute seconds, whatever the wall clock does. */
export function add(zone: Zone, t: GoTime, seconds: number): GoTime {
  return inZone(zone, t.sec + seconds);
}

/** Go's t.Truncate: down to a multiple of `seconds` since Go's zero time, not on the wall clock. */
export function truncate(zone: Zone, t: GoTime, seconds: number): GoTime {
  // Go's zero time (year 1) lies a whole number of minutes before the Unix epoch.
  const r = ((t.sec % seconds) + seconds) % seconds;
  return r === 0 ? t : inZone(zone, t.sec - r);
}

/** The proleptic Gregorian date `days` after 1970-01-01. */
function civil(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
  };
}
