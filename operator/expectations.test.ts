import { expect } from 'chai';
import { FakeClock } from '../fakes/clock.js';
import { compareResourceVersions, Expectations } from './expectations.js';

describe('compareResourceVersions (KEP-5504)', () => {
  const cases: [string, string, number | undefined][] = [
    ['9', '10', -1], // by length first: not as text
    ['10', '9', 1],
    ['123', '123', 0],
    ['124', '123', 1],
    ['99999999999999999999', '100000000000000000000', -1], // past Number's exact integers
    ['', '1', undefined],
    ['0', '1', undefined], // zero is never a live version
    ['012', '12', undefined], // no leading zeros
    ['abc', '1', undefined], // not an integer: not comparable
  ];
  for (const [a, b, want] of cases)
    it(`${a || '""'} vs ${b}: ${want}`, () => {
      expect(compareResourceVersions(a, b)).to.equal(want);
    });
});

describe('Expectations: a pass waits for the echo of its own write', () => {
  const world = () => {
    const clock = new FakeClock();
    const expired: string[] = [];
    const e = new Expectations((k) => expired.push(k), 10_000, clock);
    return { clock, expired, e };
  };

  it('is behind until the cache holds the written version or a newer one, then forgets it', () => {
    const { e } = world();
    e.wrote('ns/a', 'job', '12');
    expect(e.behind('ns/a', { job: '11' })).to.equal(true);
    expect(e.behind('ns/a', { job: '12' })).to.equal(false);
    expect(e.behind('ns/a', { job: '11' }), 'forgotten once seen').to.equal(false);
    e.wrote('ns/a', 'job', '20');
    expect(e.behind('ns/a', { job: '25' }), 'a newer version (someone wrote after us)').to.equal(false);
    expect(e.pending).to.equal(0);
  });

  it('waits on every kind written: a CronJob made is behind while the cache holds none', () => {
    const { e } = world();
    e.wrote('ns/a', 'job', '12');
    e.wrote('ns/a', 'cronJob', '13');
    expect(e.behind('ns/a', { job: '12', cronJob: undefined })).to.equal(true);
    expect(e.behind('ns/a', { job: '12', cronJob: '13' })).to.equal(false);
  });

  it('keeps the newest of several writes, and other keys are not held up', () => {
    const { e } = world();
    e.wrote('ns/a', 'job', '30');
    e.wrote('ns/a', 'job', '12'); // an older answer arriving late does not lower the bar
    expect(e.behind('ns/a', { job: '12' })).to.equal(true);
    expect(e.behind('ns/b', { job: '1' })).to.equal(false);
  });

  it('a write with no comparable version is never waited for', () => {
    const { e } = world();
    e.wrote('ns/a', 'job', undefined);
    e.wrote('ns/a', 'cronJob', 'opaque-v1');
    expect(e.behind('ns/a', { job: '1', cronJob: undefined })).to.equal(false);
  });

  it('an echo that never comes: the key is queued once after the wait, and the pass then acts', () => {
    const { clock, expired, e } = world();
    e.wrote('ns/a', 'job', '12');
    expect(e.behind('ns/a', { job: '11' })).to.equal(true);
    expect(e.behind('ns/a', { job: '11' })).to.equal(true); // a second pass: still one timer
    clock.advance(9_999);
    expect(expired).to.deep.equal([]);
    clock.advance(1);
    expect(expired).to.deep.equal(['ns/a']);
    expect(e.behind('ns/a', { job: '11' }), 'waited long enough').to.equal(false);
    clock.advance(60_000);
    expect(expired).to.deep.equal(['ns/a']);
  });

  it('an echo in time cancels the timer: no extra pass', () => {
    const { clock, expired, e } = world();
    e.wrote('ns/a', 'job', '12');
    expect(e.behind('ns/a', { job: '11' })).to.equal(true);
    expect(e.behind('ns/a', { job: '12' })).to.equal(false);
    clock.advance(60_000);
    expect(expired).to.deep.equal([]);
    expect(e.pending).to.equal(0);
  });

  it('a job gone from the cache: forgotten, its timer cancelled', () => {
    const { clock, expired, e } = world();
    e.wrote('ns/a', 'job', '12');
    e.behind('ns/a', { job: '11' });
    e.forget('ns/a');
    clock.advance(60_000);
    expect(expired).to.deep.equal([]);
    expect(e.behind('ns/a', { job: '11' })).to.equal(false);
  });
});
