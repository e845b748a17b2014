import { expect } from 'chai';
import { ExpiringCache } from './expiring.js';

describe('ExpiringCache', () => {
  it('keeps an entry until its time, not a moment longer', () => {
    let now = 1000;
    const c = new ExpiringCache<string>(10, () => now);
    c.set('a', 'x', 1500);
    now = 1499;
    expect(c.get('a')).to.equal('x');
    now = 1500;
    expect(c.get('a')).to.equal(undefined);
  });

  it('holds at most max entries, dropping the oldest written', () => {
    const c = new ExpiringCache<number>(2, () => 0);
    c.set('a', 1, 10);
    c.set('b', 2, 10);
    c.set('a', 3, 10); // rewritten: now the newest
    c.set('c', 4, 10);
    expect([c.get('a'), c.get('b'), c.get('c')]).to.deep.equal([3, undefined, 4]);
  });
});
