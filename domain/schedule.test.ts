import { expect } from 'chai';
import {
  firstRun,
  nextTick,
  parsePattern,
  prevTick,
  ScheduleError,
  upcoming,
  validTimeZone,
} from './schedule.js';

const at = (s: string) => new Date(s);
const UTC = 'Etc/UTC';

describe('schedule: patterns the CronJob controller runs the same way', () => {
  const accepted: [string, string][] = [
    ['* * * * *', '* * * * *'],
    ['*/5 1-3 * * MON-FRI', '*/5 1-3 * * MON-FRI'],
    ['0 0 1 jan *', '0 0 1 jan *'],
    ['0 0 ? * *', '0 0 ? * *'],
    ['0 0 1 * 1', '0 0 1 * 1'],
    ['0 0 29 2 *', '0 0 29 2 *'],
    ['  0   12 * * *  ', '0 12 * * *'],
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
    ['CRON_TZ=Europe/Berlin 0 0 * * *', /time zone prefixes/],
    ['TZ=UTC 0 0 * * *', /time zone prefixes/],
    ['0 0 30 2 *', /never matches/],
    ['0 0 31 4,6,9,11 *', /never matches/],
    ['0 0 L * *', /not a number/],
    ['0 0 * * 1#2', /not a number/],
    ['H * * * *', /not a number/],
    ['0 0 * * 7', /outside 0-6/],
    ['60 * * * *', /outside 0-59/],
    ['* 24 * * *', /outside 0-23/],
    ['5-1 * * * *', /backwards/],
    ['*/0 * * * *', /step 0/],
    ['0 0 */2 * 1', /ambiguous/],
    ['0 0 1 * */2', /ambiguous/],
  ];
  for (const [p, why] of refused) {
    it(`refuses "${p}"`, () => expect(() => parsePattern(p)).to.throw(ScheduleError, why));
  }
});

describe('schedule: ticks', () => {
  const cases: [string, string, string, string, string][] = [
    // name, pattern, zone, after, next
    ['just before a tick', '* * * * *', UTC, '2026-11-27T12:00:59.999Z', '2026-11-27T12:01:00.000Z'],
    [
      'exactly on a tick is strictly after',
      '* * * * *',
      UTC,
      '2026-11-27T12:01:00.000Z',
      '2026-11-27T12:02:00.000Z',
    ],
    ['just after a tick', '* * * * *', UTC, '2026-11-27T12:01:00.001Z', '2026-11-27T12:02:00.000Z'],
    ['leap day', '0 0 29 2 *', UTC, '2026-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['year end', '0 0 1 1 *', UTC, '2026-12-31T23:59:00Z', '2027-01-01T00:00:00.000Z'],
    ['a zone', '0 9 * * *', 'Asia/Tokyo', '2026-11-27T00:00:00Z', '2026-11-28T00:00:00.000Z'],
    ['dom or dow when both are set', '0 0 1 * 1', UTC, '2026-11-27T00:00:00Z', '2026-11-30T00:00:00.000Z'],
    [
      'DST spring-forward gap (Berlin)',
      '30 2 * * *',
      'Europe/Berlin',
      '2026-03-28T12:00:00Z',
      '2026-03-29T01:30:00.000Z',
    ],
  ];
  for (const [name, p, tz, after, want] of cases) {
    it(name, () => expect(nextTick(p, tz, at(after)).toISOString()).to.equal(want));
  }

  it('prevTick is strictly before', () => {
    expect(prevTick('* * * * *', UTC, at('2026-11-27T12:01:00Z')).toISOString()).to.equal(
      '2026-11-27T12:00:00.000Z',
    );
    expect(prevTick('*/15 * * * *', UTC, at('2026-11-27T12:01:00Z')).toISOString()).to.equal(
      '2026-11-27T12:00:00.000Z',
    );
  });

  it('more than 100 missed ticks are skipped in one step', () => {
    expect(nextTick('* * * * *', UTC, at('2026-11-27T12:00:30Z')).toISOString()).to.equal(
      '2026-11-27T12:01:00.000Z',
    );
    expect(
      upcoming('* * * * *', UTC, at('2026-11-27T09:00:00Z'), 3).map((d) => d.toISOString()),
    ).to.deep.equal(['2026-11-27T09:01:00.000Z', '2026-11-27T09:02:00.000Z', '2026-11-27T09:03:00.000Z']);
  });
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

describe('schedule: time zones', () => {
  const cases: [string, boolean][] = [
    ['Etc/UTC', true],
    ['Europe/Berlin', true],
    ['America/Argentina/Buenos_Aires', true],
    ['Mars/Olympus', false],
    ['+02:00', false],
    ['UTC+2', false],
  ];
  for (const [tz, ok] of cases)
    it(`${tz}: ${ok ? 'valid' : 'refused'}`, () => expect(validTimeZone(tz)).to.equal(ok));
});
