import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { intlZone, loadZone, systemZone } from './zone.js';

const sec = (iso: string) => Date.parse(iso) / 1000;
const SYSTEM = ['/usr/share/zoneinfo/'];

describe('zone: where offsets come from', () => {
  before(function () {
    if (!existsSync('/usr/share/zoneinfo/Europe/Berlin')) this.skip();
  });

  it('reads the system zoneinfo, as Go does', () => {
    const berlin = systemZone('Europe/Berlin', SYSTEM);
    expect(
      [sec('2026-01-15T00:00:00Z'), sec('2026-07-15T00:00:00Z')].map((s) => berlin?.offset(s)),
    ).to.deep.equal([3600, 7200]);
  });

  it("past the file's last transition, its footer rule", () => {
    const berlin = systemZone('Europe/Berlin', SYSTEM);
    expect(berlin?.offset(sec('2090-07-15T00:00:00Z'))).to.equal(7200);
  });

  it('a source without the file is passed over', () => {
    expect(systemZone('Europe/Berlin', ['/nonexistent/', ...SYSTEM])).to.not.equal(undefined);
    expect(systemZone('Europe/Berlin', ['/nonexistent/'])).to.equal(undefined);
  });

  it('names Go would not open are refused', () => {
    for (const name of ['Mars/Olympus', '../../etc/passwd', '/etc/passwd', 'Local', 'europe/berlin']) {
      expect(loadZone(name), name).to.equal(undefined);
    }
    expect(loadZone('UTC')?.offset(0)).to.equal(0);
  });

  // Without zoneinfo files ICU stands in. Node's ICU and the system's tzdata are separate tz
  // releases; they agree here when both are 2026c or later (Node 26.10 has 2026c; make test's
  // system-deps installs a current tzdata). tz 2025b still had Casablanca at +01 after 2026-09-20.
  for (const name of [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'America/Santiago',
    'Africa/Casablanca',
  ]) {
    it(`ICU agrees with the system file: ${name}, 2026-2027, to the second at each transition`, () => {
      const file = systemZone(name, SYSTEM);
      const icu = intlZone(name);
      if (!file || !icu) throw new Error(`${name} is missing`);
      for (let s = sec('2026-01-01T00:00:00Z'); s < sec('2028-01-01T00:00:00Z'); s += 3600) {
        const [a, b] = [file.offset(s), file.offset(s + 3600)];
        expect(icu.offset(s), `${name} at ${s} (ICU tz ${process.versions.tz ?? '?'})`).to.equal(a);
        if (a === b) continue;
        let [lo, hi] = [s, s + 3600];
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (file.offset(mid) === a) lo = mid;
          else hi = mid;
        }
        expect([icu.offset(hi - 1), icu.offset(hi)], `${name} at ${hi}`).to.deep.equal([a, file.offset(hi)]);
      }
    });
  }
});
