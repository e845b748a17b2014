// Where a zone's offsets come from. The CronJob controller (a Go program) reads the system's
// zoneinfo files first and falls back to the tz data compiled into it only when a zone has no
// file; we do the same, with Node's ICU standing in for the compiled-in data. Reading the same
// files as a controller on the same image keeps both on one tz release, whatever Node ships.
// The one read in domain/: the tz database, immutable system files, read once per zone (memoized).
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import { readFileSync } from 'node:fs';
import { memo } from '../lib/memo.js';
import { parseTzif, type Zone } from './tzif.js';

export type { Zone } from './tzif.js';

/** Go's platformZoneSources (zoneinfo_unix.go), in its order. */
const SOURCES = ['/usr/share/zoneinfo/', '/usr/share/lib/zoneinfo/', '/usr/lib/locale/TZ/', '/etc/zoneinfo/'];

const UTC: Zone = { offset: () => 0 };

/** The zone named `name` as the controller would load it, or undefined if it would not. */
export const loadZone = memo(1024, (name: string) => name, load);

function load(name: string): Zone | undefined {
  // Go's LoadLocation: "" and "UTC" need no file; "Local" is refused by the API server.
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local' || name.includes('..') || name.startsWith('/') || name.startsWith('\\'))
    return undefined;
  return systemZone(name, SOURCES) ?? intlZone(name);
}

/** The first source holding a readable TZif file for `name`, as Go's loadLocation looks. */
export function systemZone(name: string, sources: string[]): Zone | undefined {
  for (const dir of sources) {
    let zone: Zone | undefined;
    try {
      zone = parseTzif(readFileSync(dir.endsWith('/') ? dir + name : `${dir}/${name}`));
    } catch {
      continue; // missing or unreadable (a directory, say): Go moves on to the next source
    }
    if (zone) return zone;
  }
  return undefined;
}

/** A zone from Node's ICU, when no zoneinfo file has it; undefined if ICU does not know it. */
export function intlZone(name: string): Zone | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined;
  }
  // ICU ignores case; Go opens files and zip entries by exact name. Where ICU resolves to the
  // same name the case must match; for an alias (US/Eastern) each part must start in capitals.
  const resolved = format.resolvedOptions().timeZone;
  const exact = resolved.toLowerCase() === name.toLowerCase();
  if (exact ? resolved !== name : !name.split('/').every((p) => /^[A-Z0-9]/.test(p))) return undefined;
  return new IntlZone(format);
}

/** Offsets are probed this far apart; no two transitions since 1970 are under six days apart. */
const PROBE = 6 * 3600;
/** Transitions are found a span at a time (about 97 days), when first needed. */
const SPAN = 2 ** 23;

/**
 * Intl gives an offset per instant, slowly; a walk asks for thousands. So each span's
 * transitions are found once, by probing and bisecting to the second, then looked up.
 */
class IntlZone implements Zone {
  private readonly spans = new Map<number, { at: number[]; offset: number[] }>();

  constructor(private readonly format: Intl.DateTimeFormat) {}

  offset(sec: number): number {
    const key = Math.floor(sec / SPAN);
    let span = this.spans.get(key);
    if (!span) {
      span = this.transitions(key * SPAN, (key + 1) * SPAN);
      this.spans.set(key, span);
    }
    let i = span.at.length - 1;
    while (i > 0 && (span.at[i] as number) > sec) i--;
    return span.offset[i] as number;
  }

  /** Offsets in [from, to): the first entry holds at `from`, each later one from its instant. */
  private transitions(from: number, to: number): { at: number[]; offset: number[] } {
    const at = [from];
    const offset = [this.probe(from)];
    let last = offset[0] as number;
    for (let prev = from; prev < to - 1;) {
      const next = Math.min(prev + PROBE, to - 1);
      const o = this.probe(next);
      if (o !== last) {
        // The change lies in (prev, next]: bisect to its first second.
        let lo = prev;
        let hi = next;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.probe(mid) === last) lo = mid;
          else hi = mid;
        }
        at.push(hi);
        offset.push(o);
        last = o;
      }
      prev = next;
    }
    return { at, offset };
  }

  /** The offset at `sec`: the wall clock Intl shows there, read as UTC, minus the instant. */
  private probe(sec: number): number {
    const part: Record<string, string> = {};
    for (const p of this.format.formatToParts(new Date(sec * 1000))) part[p.type] = p.value;
    const year = part.era === 'BC' ? 1 - Number(part.year) : Number(part.year);
    const wall = new Date(0);
    wall.setUTCFullYear(year, Number(part.month) - 1, Number(part.day));
    wall.setUTCHours(Number(part.hour), Number(part.minute), Number(part.second));
    return wall.getTime() / 1000 - sec;
  }
}
