import { expect } from 'chai';
import { InFlight, RecentTokens, TokenBuckets } from './limits.js';

describe('TokenBuckets: per-token rate limits', () => {
  it('allows a burst, then asks to wait, then refills at the rate, per key', () => {
    let t = 0;
    const b = new TokenBuckets(2, 3, () => t);
    expect([b.take('a'), b.take('a'), b.take('a')]).to.deep.equal([0, 0, 0]);
    expect(b.take('a')).to.equal(1);
    expect(b.take('other')).to.equal(0);
    t += 500; // one token back at 2/s
    expect(b.take('a')).to.equal(0);
    expect(b.take('a')).to.be.above(0);
  });
  it('a rate of 0 turns it off', () => {
    const b = new TokenBuckets(0, 0);
    for (let i = 0; i < 100; i++) expect(b.take('a')).to.equal(0);
  });
});

describe('TokenBuckets.wait: charged only when the work fails', () => {
  it('answers as take would, without taking', () => {
    let t = 0;
    const b = new TokenBuckets(1, 2, () => t);
    const cases: { name: string; step: () => number; want: number }[] = [
      { name: 'a full bucket', step: () => b.wait('ip'), want: 0 },
      { name: 'still full after a wait', step: () => b.wait('ip'), want: 0 },
      { name: 'first failure', step: () => b.take('ip'), want: 0 },
      { name: 'second failure', step: () => b.take('ip'), want: 0 },
      { name: 'empty: wait', step: () => b.wait('ip'), want: 1 },
      { name: 'one second later', step: () => ((t += 1000), b.wait('ip')), want: 0 },
    ];
    for (const tc of cases) expect(tc.step(), tc.name).to.equal(tc.want);
  });
});

describe('InFlight: concurrent work per key', () => {
  it('refuses the one over the bound, per key, until one leaves; 0 is no bound', () => {
    const f = new InFlight(2);
    expect([f.enter('a'), f.enter('a'), f.enter('a'), f.enter('b')]).to.deep.equal([true, true, false, true]);
    f.leave('a');
    expect(f.enter('a')).to.equal(true);
    const none = new InFlight(0);
    for (let i = 0; i < 100; i++) expect(none.enter('a')).to.equal(true);
  });
});

describe('RecentTokens: tokens that passed lately', () => {
  it('knows a token until its time is up, and forgets the oldest beyond its size', () => {
    let t = 0;
    const r = new RecentTokens(1000, 2, () => t);
    r.add('one');
    expect([r.has('one'), r.has('two')]).to.deep.equal([true, false]);
    t = 1000;
    expect(r.has('one')).to.equal(false);
    r.add('a');
    r.add('b');
    r.add('c');
    expect([r.has('a'), r.has('b'), r.has('c')]).to.deep.equal([false, true, true]);
  });
});
