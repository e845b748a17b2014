import { expect } from 'chai';
import { TokenBuckets } from './limits.js';

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
