import { expect } from 'chai';
import { IpPool } from './resources.js';

describe('IpPool: one loopback address per pod', () => {
  it('gives distinct addresses, the same one again for the same pod, and reuses released ones', () => {
    const pool = new IpPool('127.42');
    const a = pool.allocate('a');
    const b = pool.allocate('b');
    expect(a).to.equal('127.42.0.2');
    expect(b).to.equal('127.42.0.3');
    expect(pool.allocate('a')).to.equal(a);
    pool.release('a');
    expect(pool.allocate('c')).to.equal(a);
  });

  it('crosses into the next /24 after .255', () => {
    const pool = new IpPool('127.42');
    let last = '';
    for (let i = 0; i < 256; i++) last = pool.allocate(`p${i}`);
    expect(last).to.equal('127.42.1.1');
  });
});
