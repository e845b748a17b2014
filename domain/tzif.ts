// A zone read from a TZif file (RFC 8536) the way Go's time package reads and looks it up: the
// CronJob controller is a Go program, so its idea of a zone's offset at an instant is Go's.
// That includes the POSIX TZ rule in the file's footer, which Go applies after the last
// transition (slim files end their transitions early; fat ones in 2037).

/** Seconds east of UTC at an instant (Unix seconds). */
export interface Zone {
  offset(sec: number): number;
}

interface LocalType {
  offset: number;
  isDST: boolean;
}

const DAY = 86_400;
const HOUR = 3600;

/** Parses TZif bytes as Go's LoadLocationFromTZData does; undefined where Go refuses them. */
export function parseTzif(bytes: Uint8Array): Zone | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 44 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'TZif') return undefined;
  const version = bytes[4] === 0 ? 1 : bytes[4] === 0x32 || bytes[4] === 0x33 ? 2 : 0;
  if (version === 0) return undefined;
  const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(at + 4 * i));
  let [isut = 0, isstd = 0, leap = 0, time = 0, type = 0, char = 0] = counts(20);
  let at = 44;
  let size = 4;
  if (version > 1) {
    // Go skips the 32-bit block and reads the 64-bit one, which covers a wider range.
    at += time * 5 + type * 6 + char + leap * 8 + isstd + isut + 20;
    if (bytes.length < at + 24) return undefined;
    [isut = 0, isstd = 0, leap = 0, time = 0, type = 0, char = 0] = counts(at);
    at += 24;
    size = 8;
  }
  const end = at + time * (size + 1) + type * 6 + char + leap * (size + 4) + isstd + isut;
  if (type === 0 || bytes.length < end) return undefined;
  const when: number[] = [];
  const index: number[] = [];
  for (let i = 0; i < time; i++) {
    when.push(size === 8 ? Number(view.getBigInt64(at + 8 * i)) : view.getInt32(at + 4 * i));
    index.push(bytes[at + time * size + i] ?? 0);
  }
  const typesAt = at + time * (size + 1);
  const types: LocalType[] = [];
  for (let i = 0; i < type; i++) {
    types.push({ offset: view.getInt32(typesAt + 6 * i), isDST: bytes[typesAt + 6 * i + 4] !== 0 });
    if ((bytes[typesAt + 6 * i + 5] ?? 0) >= char) return undefined;
  }
  if (index.some((i) => i >= type)) return undefined;
  const footer = new TextDecoder().decode(bytes.subarray(end));
  const extend =
    footer.length > 2 && footer.startsWith('\n') && footer.endsWith('\n') ? footer.slice(1, -1) : '';
  if (when.length === 0) {
    // Go's stand-in transition for fixed zones like Etc/GMT0, so the footer still applies.
    when.push(-Infinity);
    index.push(0);
  }
  return new TzifZone(when, index, types, extend === '' ? undefined : parseRule(extend));
}

class TzifZone implements Zone {
  private readonly first: number;
  // Go keeps one cached period too: walks step through the same period again and again.
  private cacheStart = 0;
  private cacheEnd = -1;
  private cacheOffset = 0;

  constructor(
    private readonly when: number[],
    private readonly index: number[],
    private readonly types: LocalType[],
    private readonly rule: Rule | undefined,
  ) {
    this.first = firstType(when, index, types);
  }

  offset(sec: number): number {
    if (this.cacheStart <= sec && sec < this.cacheEnd) return this.cacheOffset;
    const { when, index, types } = this;
    if (sec < (when[0] as number)) return (types[this.first] as LocalType).offset;
    let lo = 0;
    let hi = when.length;
    while (hi - lo > 1) {
      const m = (lo + hi) >>> 1;
      if (sec < (when[m] as number)) hi = m;
      else lo = m;
    }
    // Past the last transition Go asks the footer's rule (when it parses).
    if (lo === when.length - 1 && this.rule) return ruleOffset(this.rule, sec);
    this.cacheStart = when[lo] as number;
    this.cacheEnd = hi < when.length ? (when[hi] as number) : Infinity;
    this.cacheOffset = (types[index[lo] as number] as LocalType).offset;
    return this.cacheOffset;
  }
}

/** Go's lookupFirstZone: the type in force before the first transition. */
function firstType(when: number[], index: number[], types: LocalType[]): number {
  if (!index.includes(0)) return 0;
  const firstIsDST = types[index[0] as number]?.isDST ?? false;
  if (firstIsDST) {
    for (let i = (index[0] as number) - 1; i >= 0; i--) if (!types[i]?.isDST) return i;
  }
  const std = types.findIndex((t) => !t.isDST);
  return std >= 0 ? std : 0;
}

// ---- The footer's POSIX TZ rule, as Go's tzset reads and applies it ----

interface Transition {
  kind: 'J' | 'n' | 'M';
  day: number;
  week: number;
  mon: number;
  /** Seconds after local midnight (may be negative or past 24h). */
  time: number;
}

export interface Rule {
  std: number;
  dst?: { offset: number; start: Transition; end: Transition };
}

/** A cursor over the rule text; each reader consumes from `s` or returns undefined. */
class Text {
  constructor(public s: string) {}
  eat(c: string): boolean {
    if (!this.s.startsWith(c)) return false;
    this.s = this.s.slice(1);
    return true;
  }
}

function ruleName(t: Text): boolean {
  if (t.eat('<')) {
    const close = t.s.indexOf('>');
    if (close < 0) return false;
    t.s = t.s.slice(close + 1);
    return true;
  }
  const len = /^[^0-9,+-]*/.exec(t.s)?.[0].length ?? 0;
  if (len < 3) return false;
  t.s = t.s.slice(len);
  return true;
}

function ruleNum(t: Text, min: number, max: number): number | undefined {
  const digits = /^\d*/.exec(t.s)?.[0] ?? '';
  if (digits === '') return undefined;
  let n = 0;
  for (const d of digits) {
    n = n * 10 + Number(d);
    if (n > max) return undefined;
  }
  t.s = t.s.slice(digits.length);
  return n < min ? undefined : n;
}

/** [+-]hh[:mm[:ss]] in seconds, with POSIX's sign (positive is west). */
function ruleOffsetText(t: Text): number | undefined {
  const neg = t.eat('-');
  if (!neg) t.eat('+');
  let off = ruleNum(t, 0, 24 * 7);
  if (off === undefined) return undefined;
  off *= HOUR;
  for (const unit of [60, 1]) {
    if (!t.eat(':')) break;
    const n = ruleNum(t, 0, 59);
    if (n === undefined) return undefined;
    off += n * unit;
  }
  return neg ? -off : off;
}

function ruleTransition(t: Text): Transition | undefined {
  const r: Transition = { kind: 'n', day: 0, week: 0, mon: 0, time: 2 * HOUR };
  if (t.eat('J')) {
    r.kind = 'J';
    const day = ruleNum(t, 1, 365);
    if (day === undefined) return undefined;
    r.day = day;
  } else if (t.eat('M')) {
    r.kind = 'M';
    const mon = ruleNum(t, 1, 12);
    const week = t.eat('.') ? ruleNum(t, 1, 5) : undefined;
    const day = week !== undefined && t.eat('.') ? ruleNum(t, 0, 6) : undefined;
    if (mon === undefined || week === undefined || day === undefined) return undefined;
    Object.assign(r, { mon, week, day });
  } else {
    const day = ruleNum(t, 0, 365);
    if (day === undefined) return undefined;
    r.day = day;
  }
  if (!t.eat('/')) return r;
  const time = ruleOffsetText(t);
  return time === undefined ? undefined : { ...r, time };
}

/** Go's tzset grammar; undefined where Go gives up (it then keeps the last transition's type). */
export function parseRule(text: string): Rule | undefined {
  const t = new Text(text);
  if (!ruleName(t)) return undefined;
  const stdWest = ruleOffsetText(t);
  if (stdWest === undefined) return undefined;
  const std = -stdWest;
  if (t.s === '' || t.s.startsWith(',')) return { std };
  if (!ruleName(t)) return undefined;
  let dst = std + HOUR;
  if (t.s !== '' && !t.s.startsWith(',')) {
    const west = ruleOffsetText(t);
    if (west === undefined) return undefined;
    dst = -west;
  }
  if (t.s === '') t.s = ',M3.2.0,M11.1.0';
  if (!t.eat(',') && !t.eat(';')) return undefined;
  const start = ruleTransition(t);
  const end = start && t.eat(',') ? ruleTransition(t) : undefined;
  if (!start || !end || t.s !== '') return undefined;
  return { std, dst: { offset: dst, start, end } };
}

const isLeap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
const daysIn = (m: number, y: number) =>
  m === 2 && isLeap(y) ? 29 : (DAYS_BEFORE[m] as number) - (DAYS_BEFORE[m - 1] as number);

/** Go's tzruleTime: seconds after the year's start (UTC) at which a transition happens. */
function transitionTime(year: number, r: Transition, off: number): number {
  let d: number;
  if (r.kind === 'J') d = r.day - 1 + (isLeap(year) && r.day >= 60 ? 1 : 0);
  else if (r.kind === 'n') d = r.day;
  else {
    // Zeller's congruence for the weekday of the month's first day, as Go computes it.
    const m1 = ((r.mon + 9) % 12) + 1;
    const yy0 = r.mon <= 2 ? year - 1 : year;
    const yy1 = Math.trunc(yy0 / 100);
    const yy2 = yy0 % 100;
    let dow =
      (Math.trunc((26 * m1 - 2) / 10) + 1 + yy2 + Math.trunc(yy2 / 4) + Math.trunc(yy1 / 4) - 2 * yy1) % 7;
    if (dow < 0) dow += 7;
    d = r.day - dow;
    if (d < 0) d += 7;
    for (let i = 1; i < r.week && d + 7 < daysIn(r.mon, year); i++) d += 7;
    d += (DAYS_BEFORE[r.mon - 1] as number) + (isLeap(year) && r.mon > 2 ? 1 : 0);
  }
  return d * DAY + r.time - off;
}

/** The rule's offset at `sec`, decided within the UTC year of `sec` exactly as Go's tzset does. */
export function ruleOffset(rule: Rule, sec: number): number {
  if (!rule.dst) return rule.std;
  const days = Math.floor(sec / DAY);
  const year = yearOfDays(days);
  // Go's sum, remainder truncated toward zero as Go's % does (it only matters before 1970).
  const ysec = (days - daysFromCivil(year, 1, 1)) * DAY + (sec % DAY);
  let startSec = transitionTime(year, rule.dst.start, rule.std);
  let endSec = transitionTime(year, rule.dst.end, rule.dst.offset);
  let std = rule.std;
  let dst = rule.dst.offset;
  if (endSec < startSec) {
    // Southern hemisphere: Go swaps the two rather than wrapping around the year.
    [startSec, endSec] = [endSec, startSec];
    [std, dst] = [dst, std];
  }
  return ysec < startSec || ysec >= endSec ? std : dst;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12; day may overflow). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function yearOfDays(days: number): number {
  let y = Math.floor(days / 365.2425) + 1970;
  while (daysFromCivil(y, 1, 1) > days) y--;
  while (daysFromCivil(y + 1, 1, 1) <= days) y++;
  return y;
}
