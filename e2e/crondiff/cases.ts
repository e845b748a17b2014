// Case generation for the differential test: random patterns in robfig's whole grammar (and
// some it refuses), zones with their DST transitions found independently of our zone code,
// and instants where schedule math goes wrong: near transitions, around leap days, anywhere.
import { readFileSync } from 'node:fs';
import { loadZone } from '../../domain/zone.js';
import { validTimeZone } from '../../domain/schedule.js';

export interface Case {
  pattern: string;
  zone: string;
  /** Unix ms. */
  from: number;
  kind: 'transition' | 'leap' | 'historic' | 'random';
}

export type Rand = () => number;

/** A small seeded PRNG (a counter through a 32-bit mixing function): cases repeat per seed. */
export function prng(seed: number): Rand {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

interface FieldGen {
  min: number;
  max: number;
  /** Values where DST and month ends make schedule math interesting. */
  hot: number[];
  names?: string[];
}

const FIELDS: FieldGen[] = [
  { min: 0, max: 59, hot: [0, 1, 15, 29, 30, 31, 45, 59] },
  { min: 0, max: 23, hot: [0, 1, 2, 3, 4, 12, 13, 22, 23] },
  { min: 1, max: 31, hot: [1, 2, 15, 27, 28, 29, 30, 31] },
  {
    min: 1,
    max: 12,
    hot: [1, 2, 3, 4, 9, 10, 11, 12],
    names: 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' '),
  },
  { min: 0, max: 6, hot: [0, 1, 5, 6], names: 'sun mon tue wed thu fri sat'.split(' ') },
];

const number = (r: Rand, f: FieldGen) => (r() < 0.6 ? pick(r, f.hot) : int(r, f.min, f.max));

/** A value as robfig reads it: a number, or a name in any case for months and weekdays. */
function value(r: Rand, f: FieldGen, n = number(r, f)): string {
  if (f.names && r() < 0.3) {
    const name = f.names[n - (f.min === 1 ? 1 : 0)] as string;
    return r() < 0.3 ? name.toUpperCase() : r() < 0.2 ? name[0]?.toUpperCase() + name.slice(1) : name;
  }
  // robfig reads numbers with strconv.Atoi: leading zeros and a plus sign are fine.
  return r() < 0.03 ? `0${n}` : r() < 0.02 ? `+${n}` : String(n);
}

/** One list item: robfig's `*`, `?`, a, a-b, with or without /step (and `*-x`, which it takes). */
function item(r: Rand, f: FieldGen, first: boolean): string {
  const step = () => String(pick(r, [1, 2, 2, 3, 4, 5, 7, 10, 15, 30]));
  const x = r();
  if (x < 0.25) return first ? (r() < 0.85 ? '*' : '?') : value(r, f);
  if (x < 0.5) return value(r, f);
  if (x < 0.62) return `*/${step()}`;
  if (x < 0.67) return `${value(r, f)}/${step()}`;
  if (x < 0.69) return `*-${value(r, f)}`;
  // Mostly ascending; a backwards range is one robfig refuses.
  const [lo, hi] = [number(r, f), number(r, f)].sort((p, q) => (r() < 0.98 ? p - q : q - p));
  const [a, b] = [value(r, f, lo), value(r, f, hi)];
  return x < 0.85 ? `${a}-${b}` : `${a}-${b}/${step()}`;
}

function fieldText(r: Rand, f: FieldGen): string {
  const n = r() < 0.75 ? 1 : r() < 0.8 ? 2 : 3;
  // A bare `*` later in a list would make the whole field match: only a list's first item gets one.
  const items = Array.from({ length: n }, (_, i) => item(r, f, i === 0));
  return r() < 0.01 ? items.join(',,') : items.join(',');
}

const DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
/** Text robfig refuses (or we do), to hold the two parsers to the same refusals. */
const BROKEN = [
  '7',
  '60',
  '24',
  '0',
  '13',
  'L',
  '1#2',
  '5-1',
  '*/0',
  '1-2-3',
  '1/2/3',
  'H',
  'mon',
  '-1',
  '*/-1',
  '',
  '1-',
  '99999999999999999999',
];

export function pattern(r: Rand): string {
  const x = r();
  if (x < 0.06) return pick(r, DESCRIPTORS);
  if (x < 0.065) return pick(r, ['@DAILY', '@Hourly', '@every 5m', '@reboot', '@daily extra']);
  const fields = FIELDS.map((f) => fieldText(r, f));
  if (x < 0.1) fields[int(r, 0, 4)] = pick(r, BROKEN);
  else if (x < 0.105) fields.push('0');
  return fields.join(r() < 0.05 ? '  ' : ' ').trim();
}

/** Patterns for the leap-day cases: February and month ends in their day fields. */
export function leapPattern(r: Rand): string {
  const dom = pick(r, ['29', '28', '28,29', '29,30', '29-31', '*/29', '27-29/2', '1,29']);
  const dow = pick(r, ['*', '?', '*', 'mon', '1-5', '*/2']);
  return `${pick(r, ['0', '30', '*/20'])} ${pick(r, ['0', '12', '23', '0-2'])} ${dom} ${pick(r, ['2', 'feb', '2,3', '*', '1-3'])} ${dow}`;
}

/**
 * The zones to test: every IANA name Node's ICU lists, plus every zone the system's tz source
 * defines (what Go loads), as far as the product accepts them.
 */
export function zones(): string[] {
  const names = new Set(Intl.supportedValuesOf('timeZone'));
  try {
    const zi = readFileSync('/usr/share/zoneinfo/tzdata.zi', 'utf8');
    for (const m of zi.matchAll(/^Z (\S+)/gm)) names.add(m[1] as string);
  } catch {
    // No system tz source: ICU's list alone.
  }
  return [...names].filter(validTimeZone).sort();
}

const WALL = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** Offsets as ICU gives them (tz data of its own, apart from our zoneinfo reader), if it knows the zone. */
function intlOffsets(zone: string): ((sec: number) => number) | undefined {
  const opts = { hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric' } as const;
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      ...opts,
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZone: zone,
    });
  } catch {
    return undefined;
  }
  return (sec) => {
    const [mo = 0, d, y = 0, h, mi, s] = (WALL.exec(f.format(sec * 1000)) ?? []).slice(1).map(Number);
    return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - sec;
  };
}

/** Instants (Unix s) where `offset` changes in [from, to), probing every `step` and bisecting. */
function changes(offset: (sec: number) => number, from: number, to: number, step: number): number[] {
  const found: number[] = [];
  let last = offset(from);
  for (let prev = from; prev < to; prev += step) {
    const o = offset(prev + step);
    if (o === last) continue;
    let [lo, hi] = [prev, prev + step];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offset(mid) === last) lo = mid;
      else hi = mid;
    }
    found.push(hi);
    last = o;
  }
  return found;
}

/**
 * A zone's transitions in [from, to): those ICU shows and those the system zoneinfo shows
 * (where the two tz releases differ, both sets of instants are tested).
 */
export function transitions(zone: string, from: number, to: number): number[] {
  const ours = loadZone(zone);
  const icu = intlOffsets(zone);
  // No two transitions since 1970 are under six days apart: three days' probes miss none.
  const all = new Set(icu ? changes(icu, from, to, 3 * 86_400) : []);
  if (ours) for (const t of changes((s) => ours.offset(s), from, to, 6 * 3600)) all.add(t);
  return [...all].sort((a, b) => a - b);
}

/** An instant near `at` (Unix s): within two days, on minute and second edges or anywhere. */
export function near(r: Rand, at: number): number {
  const ms = at * 1000;
  const x = r();
  if (x < 0.15) return ms + pick(r, [0, -1, 1, -1000, 1000, -59_000, -60_000, 60_000, -3_600_000, 3_600_000]);
  const minute = Math.floor((ms + int(r, -2880, 2880) * 60_000) / 60_000) * 60_000;
  if (x < 0.55) return minute;
  if (x < 0.7) return minute + pick(r, [-1, 1, 59_000, 59_500, 59_999, 1000]);
  if (x < 0.85) return minute + int(r, 0, 59) * 1000;
  return minute + int(r, 0, 59_999);
}
