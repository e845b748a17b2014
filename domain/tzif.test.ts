import { expect } from 'chai';
import { parseRule, parseTzif, ruleOffset } from './tzif.js';

const sec = (iso: string) => Date.parse(iso) / 1000;

describe("tzif: a TZif footer's POSIX TZ rule, as Go's tzset reads it", () => {
  // rule, instant, the offset Go gives there (seconds east; checked with LoadLocationFromTZData)
  const cases: [string, string, string, number][] = [
    ['Berlin, before spring forward', 'CET-1CEST,M3.5.0,M10.5.0/3', '2040-03-25T00:59:59Z', 3600],
    ['Berlin, after spring forward', 'CET-1CEST,M3.5.0,M10.5.0/3', '2040-03-25T01:00:00Z', 7200],
    ['Berlin, before fall back', 'CET-1CEST,M3.5.0,M10.5.0/3', '2040-10-28T00:59:59Z', 7200],
    ['Berlin, after fall back', 'CET-1CEST,M3.5.0,M10.5.0/3', '2040-10-28T01:00:00Z', 3600],
    ['southern hemisphere, summer', '<+1030>-10:30<+11>-11,M10.1.0,M4.1.0', '2040-01-15T00:00:00Z', 39_600],
    ['southern hemisphere, winter', '<+1030>-10:30<+11>-11,M10.1.0,M4.1.0', '2040-07-15T00:00:00Z', 37_800],
    ['default rules (second Sunday of March)', 'EST5EDT', '2040-03-11T06:59:59Z', -18_000],
    ['default rules, after 02:00', 'EST5EDT', '2040-03-11T07:00:00Z', -14_400],
    ['negative transition time', '<-02>2<-01>,M3.5.0/-1,M10.5.0/0', '2040-03-25T00:59:59Z', -7200],
    ['negative transition time, after', '<-02>2<-01>,M3.5.0/-1,M10.5.0/0', '2040-03-25T01:00:00Z', -3600],
    ['Julian days skip Feb 29', 'AAA0BBB,J60/0,J300/0', '2040-02-29T12:00:00Z', 0],
    ['Julian day 60 is March 1', 'AAA0BBB,J60/0,J300/0', '2040-03-01T00:00:00Z', 3600],
    ['zero-based days count Feb 29', 'AAA0BBB,59/0,300/0', '2040-02-29T00:00:00Z', 3600],
    ['no daylight saving', 'JST-9', '2040-07-01T00:00:00Z', 32_400],
    ['seconds in the offset', '<+0530>-5:30:15', '2040-07-01T00:00:00Z', 19_815],
  ];
  for (const [name, text, at, want] of cases) {
    it(name, () => {
      const rule = parseRule(text);
      expect(rule, text).to.not.equal(undefined);
      if (rule) expect(ruleOffset(rule, sec(at))).to.equal(want);
    });
  }

  for (const text of [
    '',
    'XX',
    'EST5EDT,M3.2.0',
    'EST5EDT,M13.1.0,M11.1.0',
    'EST5EDT,M3.2.0,M11.1.0x',
    '<EST5',
  ]) {
    it(`gives up on "${text}" (Go keeps the last transition's type then)`, () =>
      expect(parseRule(text)).to.equal(undefined));
  }
});

/** A version 1 TZif file with the given local types and transitions. */
function tzif(types: [number, boolean][], transitions: [number, number][]): Uint8Array {
  const abbrev = 'XX\0';
  const bytes: number[] = [...Buffer.from('TZif'), 0, ...new Array<number>(15).fill(0)];
  const u32 = (n: number) => bytes.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  for (const n of [0, 0, 0, transitions.length, types.length, abbrev.length]) u32(n);
  for (const [when] of transitions) u32(when);
  for (const [, index] of transitions) bytes.push(index);
  for (const [offset, dst] of types) {
    u32(offset);
    bytes.push(dst ? 1 : 0, 0);
  }
  bytes.push(...Buffer.from(abbrev));
  return Uint8Array.from(bytes);
}

describe('tzif: files, as Go reads and looks them up', () => {
  it('refuses what is not TZif, and a file without local types', () => {
    expect(parseTzif(Buffer.from('not a zone file at all, not at all, no, not really'))).to.equal(undefined);
    expect(parseTzif(tzif([], []))).to.equal(undefined);
  });

  it('a file without transitions has its first type all the time', () => {
    expect(parseTzif(tzif([[-3600, false]], []))?.offset(0)).to.equal(-3600);
  });

  it('looks up the type of the last transition at or before an instant', () => {
    const z = parseTzif(
      tzif(
        [
          [3600, false],
          [7200, true],
        ],
        [
          [1000, 1],
          [2000, 0],
        ],
      ),
    );
    expect([999, 1000, 1999, 2000, 5000].map((s) => z?.offset(s))).to.deep.equal([
      3600, 7200, 7200, 3600, 3600,
    ]);
  });

  it('before the first transition: the first standard type, as Go picks it', () => {
    const z = parseTzif(
      tzif(
        [
          [100, false],
          [200, true],
          [300, false],
        ],
        [[1000, 1]],
      ),
    );
    // Type 0 is never used by a transition, so Go takes it.
    expect(z?.offset(0)).to.equal(100);
  });
});
