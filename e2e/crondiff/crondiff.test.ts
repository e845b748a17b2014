// The differential test: our next tick against the real robfig/cron v3.0.1 as the CronJob
// controller calls it (crondiff, built by build.sh), over random patterns in every zone with
// DST, near its transitions, around leap days and anywhere. Any disagreement fails it.
// QJ_CRONDIFF_SEED=<n> repeats a run; the seed is printed either way.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, dayMatches } from '../../domain/cron.js';
import { inZone } from '../../domain/gotime.js';
import { nextTick, parsePattern, ScheduleError } from '../../domain/schedule.js';
import { loadZone } from '../../domain/zone.js';
import { leapPattern, near, pattern, prng, transitions, zones, type Case, type Rand } from './cases.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = resolve(here, '../../../e2e/crondiff/build.sh');
const utc = (y: number, m = 1, d = 1) => Date.UTC(y, m - 1, d) / 1000;

type Outcome = { next: number } | { none: true } | { error: string };

/**
 * Cases near every transition of 2024-2030; around Feb 28/29 of 2024-2030 and of 2095-2104
 * (no leap day in 2100: waits past robfig's five years); at random in 2000-2040; and a few in
 * 1900-1972, when offsets had seconds and Truncate's absolute minutes are not wall minutes.
 */
function generate(r: Rand, all: string[]): Case[] {
  const cases: Case[] = [];
  const add = (
    kind: Case['kind'],
    from: number,
    p = pattern(r),
    zone = all[Math.floor(r() * all.length)] as string,
  ) => cases.push({ pattern: p, zone, from, kind });
  for (const zone of all) {
    for (const t of transitions(zone, utc(2024), utc(2031))) {
      for (let i = 0; i < 24; i++) add('transition', near(r, t), pattern(r), zone);
    }
  }
  for (let i = 0; i < 15_000; i++) {
    const year = i % 5 === 0 ? 2095 + Math.floor(r() * 10) : 2024 + Math.floor(r() * 7);
    add(
      'leap',
      near(r, utc(year, 2, 28) + Math.floor(r() * 2 * 86_400)),
      r() < 0.7 ? leapPattern(r) : pattern(r),
    );
  }
  for (let i = 0; i < 3000; i++)
    add('historic', Math.floor((utc(1900) + r() * (utc(1972) - utc(1900))) * 1000));
  while (cases.length < 110_000)
    add('random', Math.floor((utc(2000) + r() * (utc(2040) - utc(2000))) * 1000));
  return cases;
}

/** robfig's answers, one per case, from the crondiff binary. */
function robfig(cases: Case[]): Outcome[] {
  const bin = execFileSync('bash', [script], { encoding: 'utf8' }).trim().split('\n').at(-1) as string;
  const input = cases
    .map((c) => JSON.stringify({ pattern: c.pattern, zone: c.zone, from: c.from }))
    .join('\n');
  // Go reads $ZONEINFO before the system zoneinfo; the controller (and our code) read the latter.
  const env = { ...process.env };
  delete env.ZONEINFO;
  const out = execFileSync(bin, { input: input + '\n', encoding: 'utf8', maxBuffer: 1 << 28, env });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const a = JSON.parse(line) as { next?: number; none?: boolean; error?: string };
      return a.error !== undefined
        ? { error: a.error }
        : a.none
          ? { none: true }
          : { next: a.next as number };
    });
}

/** Ours: refused by parsePattern (with why), or nextTick's answer, or no tick (a ScheduleError). */
function ours(c: Case): Outcome {
  try {
    parsePattern(c.pattern);
  } catch (err) {
    if (err instanceof ScheduleError) return { error: err.message };
    throw err;
  }
  try {
    return { next: nextTick(c.pattern, c.zone, new Date(c.from)).getTime() };
  } catch (err) {
    if (err instanceof ScheduleError) return { none: true };
    throw err;
  }
}

/**
 * Whether robfig's tick falls on a date the pattern names. It need not: where a transition skips
 * midnight on a month's first day, robfig's DST correction steps back into the month before and
 * its month check is passed over (Africa/Tunis 2005-05-01: an April pattern fires in May).
 */
function onCalendar(c: Case, tick: number): boolean {
  const spec = compile(c.pattern.trim());
  const t = inZone(loadZone(c.zone) ?? { offset: () => 0 }, tick / 1000);
  return spec.month.has[t.month] === true && dayMatches(spec, t);
}

/** Whether we agree; refusing what robfig takes is right only where the product says so. */
function agree(c: Case, theirs: Outcome, mine: Outcome): boolean {
  if ('error' in theirs) return 'error' in mine;
  if ('error' in mine) {
    if (c.pattern.startsWith('@every ')) return true;
    // A pattern no date matches is refused, though robfig may fire it off the calendar.
    return /never matches/.test(mine.error) && ('none' in theirs || !onCalendar(c, theirs.next));
  }
  if ('none' in theirs) return 'none' in mine;
  return 'next' in mine && mine.next === theirs.next;
}

const show = (o: Outcome) =>
  'next' in o ? new Date(o.next).toISOString() : 'none' in o ? 'none' : `refused (${o.error})`;

describe('crondiff: our schedule math against robfig/cron v3.0.1 (the CronJob controller)', function () {
  this.timeout(600_000);

  it('agrees with robfig on every case', () => {
    const seed = Number(process.env.QJ_CRONDIFF_SEED ?? Math.floor(Math.random() * 2 ** 32));
    const started = Date.now();
    const all = zones();
    const cases = generate(prng(seed), all);
    const generated = Date.now();
    const theirs = robfig(cases);
    const asked = Date.now();
    expect(theirs).to.have.length(cases.length);
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const mine = ours(c);
      const truth = theirs[i] as Outcome;
      if (agree(c, truth, mine)) return;
      const from = new Date(c.from).toISOString();
      bad.push(
        `${c.kind}: "${c.pattern}" in ${c.zone} from ${from} (${c.from}): robfig ${show(truth)}, ours ${show(mine)}`,
      );
    });
    const kinds = ['transition', 'leap', 'historic', 'random'].map(
      (k) => `${cases.filter((c) => c.kind === k).length} ${k}`,
    );
    const count = (key: string) => theirs.filter((o) => key in o).length;
    kinds.push(`robfig: ${count('next')} ticks, ${count('none')} none, ${count('error')} refused`);
    console.log(
      `    seed ${seed} (QJ_CRONDIFF_SEED=${seed} repeats it): ${cases.length} cases (${kinds.join(', ')}) in ${all.length} zones;` +
        ` generated in ${generated - started} ms, robfig ${asked - generated} ms, ours ${Date.now() - asked} ms`,
    );
    if (bad.length > 0)
      console.log(`    first disagreements of ${bad.length}:\n      ${bad.slice(0, 25).join('\n      ')}`);
    expect(bad, `${bad.length} disagreements with robfig (seed ${seed})`).to.have.length(0);
  });
});
