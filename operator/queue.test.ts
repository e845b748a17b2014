import { expect } from 'chai';
import { FakeClock } from '../fakes/clock.js';
import { MAX_DELAY_MS, WorkQueue } from './queue.js';

describe('WorkQueue', () => {
  it('de-duplicates keys waiting in the queue', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth).to.equal(2);
    expect(await q.get()).to.equal('a');
    expect(await q.get()).to.equal('b');
  });

  it('never hands a key being processed to a second worker, and runs it again after', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.depth).to.equal(0);
    q.done(k ?? '');
    expect(q.depth).to.equal(1);
    expect(await q.get()).to.equal('a');
  });

  it('wakes a waiting worker', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add('x');
    expect(await waiting).to.equal('x');
  });

  it('backs off per key exponentially up to the cap, and forget starts over', () => {
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 100 }, new FakeClock());
    expect([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited('k'))).to.deep.equal([5, 10, 20, 40, 80, 100]);
    expect(q.addRateLimited('other')).to.equal(5);
    q.forget('k');
    expect(q.addRateLimited('k')).to.equal(5);
  });

  it('adds delayed keys when they are due, keeping only the earliest', () => {
    const clock = new FakeClock();
    const q = new WorkQueue(undefined, clock);
    q.addAfter('k', 1000);
    q.addAfter('k', 500);
    q.addAfter('k', 2000);
    clock.advance(499);
    expect(q.depth).to.equal(0);
    clock.advance(1);
    expect(q.depth).to.equal(1);
    clock.advance(2000);
    expect(q.depth).to.equal(1);
  });

  it('never fires a long wait early: 30 days is planned again in hops of at most an hour', () => {
    const clock = new FakeClock();
    const q = new WorkQueue(undefined, clock);
    q.addAfter('one-shot', 30 * 86_400_000);
    clock.advance(1);
    expect(q.depth).to.equal(0);
    clock.advance(MAX_DELAY_MS - 2);
    expect(q.depth).to.equal(0);
    clock.advance(1);
    expect(q.depth).to.equal(1); // woken after one hop, to plan again (and wait again)
  });

  it('keeps one timer per key: a sooner add replaces the pending one, a later one adds none', () => {
    const clock = new FakeClock();
    const q = new WorkQueue(undefined, clock);
    q.addAfter('k', 3_000_000);
    for (let i = 0; i < 100; i++) q.addAfter('k', 100 + i);
    q.addAfter('k', 3_500_000);
    expect(clock.timers.length).to.equal(1);
    expect(q.pendingDelayed).to.equal(1);
    clock.advance(100);
    expect(q.depth).to.equal(1);
    expect(clock.timers.length).to.equal(0); // the superseded long timer is gone, not pending for days
  });

  it('releases waiting workers on shutdown, and hands out nothing more', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).to.equal(undefined);
    const q2 = new WorkQueue();
    q2.add('left-over');
    q2.shutdown();
    expect(await q2.get()).to.equal(undefined);
  });
});
