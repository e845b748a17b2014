import { expect } from 'chai';
import { memo } from './memo.js';

describe('memo', () => {
  it('computes once per key, remembers failures too, and forgets the oldest beyond max', () => {
    let calls = 0;
    const f = memo(
      2,
      (x: number) => String(x),
      (x: number) => {
        calls++;
        if (x < 0) throw new Error('negative');
        return x * 2;
      },
    );
    expect(f(1)).to.equal(2);
    expect(f(1)).to.equal(2);
    expect(calls).to.equal(1);
    expect(() => f(-1)).to.throw('negative');
    expect(() => f(-1)).to.throw('negative');
    expect(calls).to.equal(2);
    f(3); // evicts 1
    f(1);
    expect(calls).to.equal(4);
  });
});
