import { expect } from 'chai';
import { firstRun, nextTick, parsePattern, prevTick, ScheduleError, validTimeZone } from './schedule.js';

const at = (s: string) => new Date(s);
const UTC = 'Etc/UTC';
const NY = 'America/New_York';

describe('schedule: patterns, as the CronJob controller parses them', () => {
  const accepted: [string, string][] = [
    ['* * * * *', '* * * * *'],
    ['*/5 1-3 * * MON-FRI', '*/5 1-3 * * MON-FRI'],
    ['0 0 1 jan *', '0 0 1 jan *'],
    ['0 0 ? * *', '0 0 ? * *'],
    ['0 0 1 * 1', '0 0 1 * 1'],
    ['0 0 29 2 *', '0 0 29 2 *'],
    ['  0   12 * * *  ', '0 12 * * *'],
    // Day of month and day of week with a stepped wildcard: robfig reads them as either-or.
    ['0 0 */2 * 1', '0 0 */2 * 1'],
    ['0 0 1 * */2', '0 0 1 * */2'],
    // What robfig's grammar also takes: `a/step` to the maximum, signs and zeros, empty list items.
    ['5/20 * * * *', '5/20 * * * *'],
    ['+5 0 1 JAN *', '+5 0 1 JAN *'],
    ['05 0 1 1 *', '05 0 1 1 *'],
    ['1,,2 0 1 1 *', '1,,2 0 1 1 *'],
    ['*-5 0 1 1 *', '*-5 0 1 1 *'],
    ['0 0 31 2 mon', '0 0 31 2 mon'],
    ['@hourly', '0 * * * *'],
    ['@daily', '0 0 * * *'],
    ['@midnight', '0 0 * * *'],
    ['@weekly', '0 0 * * 0'],
    ['@monthly', '0 0 1 * *'],
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
  ];
  for (const [p, want] of accepted) it(`accepts "${p}"`, () => expect(parsePattern(p)).to.equal(want));

  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['* * * * * *', /5 fields/],
    ['* * * *', /5 fields/],
    ['@every 5m', /not a supported descriptor/],
    ['@reboot', /not a supported descriptor/],
    ['@DAILY', /not a supported descriptor/],
    ['CRON_TZ=Europe/Berlin 0 0 * * *', /time zone prefixes/],
    ['TZ=UTC 0 0 * * *', /time zone prefixes/],
    ['0 0 30 2 *', /never matches/],
    ['0 0 31 4,6,9,11 *', /never matches/],
    ['0 0 31 2 ?', /never matches/],
    ['0 0 L * *', /not a number/],
    ['0 0 * * 1#2', /not a number/],
    ['H * * * *', /not a number/],
    ['0 0 * * 7', /outside 0-6/],
    ['60 * * * *', /outside 0-59/],
    ['* 24 * * *', /outside 0-23/],
    ['0 0 0 * *', /outside 1-31/],
    ['5-1 * * * *', /backwards/],
    ['*/0 * * * *', /step 0/],
    ['*/-1 * * * *', /negative/],
    ['0 0 * * 1-2-3', /too many hyphens/],
    ['1/2/3 * * * *', /too many slashes/],
    ['mon * * * *', /not a number/],
    ['0 0 * * mon\u00a0', /ASCII/],
  ];
  for (const [p, why] of refused) {
    it(`refuses "${p}"`, () => expect(() => parsePattern(p)).to.throw(ScheduleError, why));
  }
});

describe('schedule: next ticks are robfig/cron v3.0.1 answers', () => {
  const LH = 'Australia/Lord_Howe';
  // name, pattern, zone, after, what the CronJob controller fires next (measured with e2e/crondiff)
  // prettier-ignore
  const cases: [string, string, string, string, string][] = [
    ['just before a tick', '* * * * *', UTC, '2026-11-27T12:00:59.999Z', '2026-11-27T12:01Z'],
    ['on a tick: strictly after', '* * * * *', UTC, '2026-11-27T12:01Z', '2026-11-27T12:02Z'],
    ['just after a tick', '* * * * *', UTC, '2026-11-27T12:01:00.001Z', '2026-11-27T12:02Z'],
    ['a step from a start value', '5/20 * * * *', UTC, '2026-11-27T12:05Z', '2026-11-27T12:25Z'],
    ['year end', '0 0 1 1 *', UTC, '2026-12-31T23:59Z', '2027-01-01T00:00Z'],
    ['a zone', '0 9 * * *', 'Asia/Tokyo', '2026-11-27T00:00Z', '2026-11-28T00:00Z'],
    ['a descriptor in a zone', '@weekly', NY, '2026-11-27T00:00Z', '2026-11-29T05:00Z'],
    ['day of month or day of week', '0 0 1 * 1', UTC, '2026-11-27T00:00Z', '2026-11-30T00:00Z'],
    ['"?" day of month: day of week alone', '0 0 ? * 1', UTC, '2026-11-27T00:00Z', '2026-11-30T00:00Z'],
    ['stepped day of month: either-or', '0 0 */2 * 1', UTC, '2026-11-27T00:00Z', '2026-11-29T00:00Z'],
    ['stepped day of week: either-or', '0 0 1 * */2', UTC, '2026-11-27T00:00Z', '2026-11-28T00:00Z'],
    ['leap day', '0 0 29 2 *', UTC, '2026-03-01T00:00Z', '2028-02-29T00:00Z'],
    ['leap day, three years on', '0 0 29 2 *', 'Europe/Berlin', '2029-03-01T00:00Z', '2032-02-28T23:00Z'],
    ['leap day past 2100: five years', '0 0 29 2 *', UTC, '2099-03-01T00:00Z', '2104-02-29T00:00Z'],
    // Spring forward: 02:00-03:00 does not exist on 03-29; robfig skips that day, not the hour.
    ['DST gap (Berlin): day skipped', '30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00Z', '2026-03-30T00:30Z'],
    // Fall back: 01:00-02:00 happens twice on 11-01, and robfig fires in both.
    ['DST overlap (New York): 01:30', '30 1 * * *', NY, '2026-10-31T12:00Z', '2026-11-01T05:30Z'],
    ['DST overlap: 01:30 again', '30 1 * * *', NY, '2026-11-01T05:30Z', '2026-11-01T06:30Z'],
    ['DST overlap: hourly', '0 * * * *', NY, '2026-11-01T05:00Z', '2026-11-01T06:00Z'],
    // Midnight itself is skipped (00:00 -> 01:00): robfig misses the whole transition day.
    ['midnight gap (Santiago)', '0 0 * * *', 'America/Santiago', '2026-09-05T04:00Z', '2026-09-07T03:00Z'],
    ['midnight gap (Santiago) 00:30', '30 0 * * *', 'America/Santiago', '2026-09-05T12:00Z', '2026-09-07T03:30Z'],
    ['midnight gap (Havana)', '0 0 * * *', 'America/Havana', '2026-03-07T12:00Z', '2026-03-09T04:00Z'],
    ['midnight gap (Beirut)', '0 0 * * *', 'Asia/Beirut', '2026-03-28T12:00Z', '2026-03-29T21:00Z'],
    // A 30-minute DST (+11 -> +10:30 on 04-05): the walk lands on :30 and loses a day realigning.
    ['half-hour fall back (Lord Howe)', '0 12 * * *', LH, '2026-04-04T02:00Z', '2026-04-06T01:30Z'],
    ['half-hour gap (Lord Howe)', '15 2 * * *', LH, '2026-10-03T00:00Z', '2026-10-04T15:15Z'],
    // May 1 began at 01:00: the DST correction steps back to April 30 23:00 and the month check
    // is passed over, so an April pattern fires on May 1.
    ['midnight gap on a 1st (Tunis)', '0 12 30,31 4 *', 'Africa/Tunis', '2005-04-30T12:00Z', '2005-05-01T10:00Z'],
  ];
  for (const [name, p, tz, after, want] of cases) {
    it(name, () => expect(nextTick(p, tz, at(after)).toISOString()).to.equal(at(want).toISOString()));
  }

  it('where robfig finds nothing within five years, a ScheduleError', () => {
    // Leap days skip 2100; from 2097 the next is 2104, past robfig's five-year search.
    const from = at('2097-03-01T00:00:00Z');
    expect(() => nextTick('0 0 29 2 *', UTC, from)).to.throw(ScheduleError, /five years/);
  });

  it('an invalid date is a ScheduleError, not an endless walk', () => {
    expect(() => nextTick('* * * * *', UTC, new Date(NaN))).to.throw(ScheduleError, /valid time/);
    expect(() => prevTick('* * * * *', UTC, new Date(NaN))).to.throw(ScheduleError, /valid time/);
  });

  it('an unknown zone is a ScheduleError', () => {
    const from = at('2026-11-27T00:00:00Z');
    expect(() => nextTick('* * * * *', 'Mars/Olympus', from)).to.throw(ScheduleError, /zone/);
  });
});

describe("schedule: previous ticks, in the controller's chain of ticks", () => {
  // name, pattern, zone, before, the last tick of robfig's Next chain before it
  // prettier-ignore
  const cases: [string, string, string, string, string][] = [
    ['strictly before', '* * * * *', UTC, '2026-11-27T12:01Z', '2026-11-27T12:00Z'],
    ['mid-minute', '* * * * *', UTC, '2026-11-27T12:00:30Z', '2026-11-27T12:00Z'],
    ['a sparser pattern', '*/15 * * * *', UTC, '2026-11-27T12:01Z', '2026-11-27T12:00Z'],
    ['years back', '0 0 29 2 *', UTC, '2028-02-29T00:00Z', '2024-02-29T00:00Z'],
    ['DST gap: the day before the gap', '30 2 * * *', 'Europe/Berlin', '2026-03-30T00:30Z', '2026-03-28T01:30Z'],
    ['DST overlap: the first 01:30', '30 1 * * *', NY, '2026-11-01T06:30Z', '2026-11-01T05:30Z'],
    ['DST overlap: the second 01:30', '30 1 * * *', NY, '2026-11-02T06:30Z', '2026-11-01T06:30Z'],
    ['midnight gap: the day before', '0 0 * * *', 'America/Santiago', '2026-09-07T03:00Z', '2026-09-05T04:00Z'],
  ];
  for (const [name, p, tz, before, want] of cases) {
    it(name, () => expect(prevTick(p, tz, at(before)).toISOString()).to.equal(at(want).toISOString()));
  }
});

describe("schedule: Qinling's first run", () => {
  const now = at('2026-11-27T12:00:30Z');
  const cases: [string, string, string | undefined, string][] = [
    ['no first time: the first tick after now', '*/5 * * * *', undefined, '2026-11-27T12:05:00.000Z'],
    ['a first time on a tick runs at it', '*/5 * * * *', '2026-11-27T12:20:00Z', '2026-11-27T12:20:00.000Z'],
    [
      'a first time just after a tick: searched from a minute before',
      '*/5 * * * *',
      '2026-11-27T12:20:30Z',
      '2026-11-27T12:20:00.000Z',
    ],
    ['a first time between ticks', '*/5 * * * *', '2026-11-27T12:22:00Z', '2026-11-27T12:25:00.000Z'],
    ['every minute, first time mid-minute', '* * * * *', '2026-11-27T12:10:30Z', '2026-11-27T12:10:00.000Z'],
  ];
  for (const [name, p, first, want] of cases) {
    it(name, () => expect(firstRun(p, UTC, now, first ? at(first) : undefined).toISOString()).to.equal(want));
  }
});

describe('schedule: time zones, as the API server and controller take them', () => {
  const cases: [string, boolean][] = [
    ['Etc/UTC', true],
    ['UTC', true],
    ['Europe/Berlin', true],
    ['America/Argentina/Buenos_Aires', true],
    ['Mars/Olympus', false],
    // Go opens the file by name: the case must be right.
    ['europe/berlin', false],
    ['Local', false],
    ['../etc/passwd', false],
    ['+02:00', false],
    ['UTC+2', false],
  ];
  for (const [tz, ok] of cases)
    it(`${tz}: ${ok ? 'valid' : 'refused'}`, () => expect(validTimeZone(tz)).to.equal(ok));
});
