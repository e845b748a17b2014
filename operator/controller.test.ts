// Component tests of the controller over fakes: conflicts back off like any error (no 100 ms
// storm), planned waits become one delayed add, and every known job is queued on start.
import { expect } from 'chai';
import { pino } from 'pino';
import { Controller } from './controller.js';
import type { Informers } from './informers.js';
import { makeMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { FakeClock } from '../fakes/clock.js';
import type { Reconciler } from './reconcile.js';
import type { QinlingJob } from '../domain/types.js';

const job = { metadata: { namespace: 'p1', name: 'nightly', uid: 'u1' } } as QinlingJob;
const informers = {
  jobs: { on: () => undefined, list: () => [job] },
  cronJobs: { on: () => undefined },
  runs: { on: () => undefined },
} as unknown as Informers;
const settle = () => new Promise((r) => setTimeout(r, 5));

function scene(outcome: () => Promise<{ requeueAfterMs?: number }>) {
  const clock = new FakeClock();
  const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 300_000 }, clock);
  let passes = 0;
  const reconciler = {
    reconcile: () => {
      passes++;
      return outcome();
    },
  } as unknown as Reconciler;
  const c = new Controller(
    queue,
    informers,
    reconciler,
    makeMetrics(
      () => [],
      () => 0,
    ),
    pino({ level: 'silent' }),
  );
  return { clock, c, passes: () => passes };
}

describe('Controller over fakes', () => {
  it('backs a conflicting key off exponentially, as any failure', async () => {
    const s = scene(() => Promise.reject(Object.assign(new Error('conflict'), { code: 409 })));
    s.c.start(1, 3_600_000);
    await settle();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = s.clock.timers.filter((t) => t.ms < 3_600_000)[0];
      if (!next) break;
      delays.push(next.ms);
      s.clock.advance(next.ms);
      await settle();
    }
    expect(delays).to.deep.equal([5, 10, 20, 40, 80, 160]);
    await s.c.stop();
  });

  it('turns a planned wait into one delayed add, and queues every job again on resync', async () => {
    const s = scene(() => Promise.resolve({ requeueAfterMs: 60_000 }));
    s.c.start(1, 600_000);
    await settle();
    expect(s.passes()).to.equal(1);
    const waits = s.clock.timers.map((t) => t.ms).sort((a, b) => a - b);
    expect(waits).to.deep.equal([60_000]); // the resync runs on the real clock
    s.clock.advance(60_000);
    await settle();
    expect(s.passes()).to.equal(2);
    await s.c.stop();
  });

  it('on start, queues the soonest due jobs first (an overdue one-shot before the rest)', async () => {
    const order: string[] = [];
    const clock = new FakeClock();
    const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 300_000 }, clock);
    const at = (name: string, next?: string) =>
      ({
        metadata: { namespace: 'p1', name, uid: name },
        ...(next ? { status: { nextExecutionTime: next } } : {}),
      }) as QinlingJob;
    const many = {
      ...informers,
      jobs: {
        on: () => undefined,
        list: () => [
          at('later', '2026-11-27T13:00:00Z'),
          at('none'),
          at('overdue', '2026-11-27T11:59:00Z'),
          at('soon', '2026-11-27T12:01:00Z'),
        ],
      },
    } as unknown as Informers;
    const reconciler = {
      reconcile: (_ns: string, name: string) => {
        order.push(name);
        return Promise.resolve({});
      },
    } as unknown as Reconciler;
    const c = new Controller(
      queue,
      many,
      reconciler,
      makeMetrics(
        () => [],
        () => 0,
      ),
      pino({ level: 'silent' }),
    );
    c.start(1);
    await settle();
    expect(order).to.deep.equal(['overdue', 'soon', 'later', 'none']);
    await c.stop();
  });

  it('can start again after a stop (a new term as leader)', async () => {
    const s = scene(() => Promise.resolve({}));
    s.c.start(1);
    await settle();
    await s.c.stop();
    s.c.start(1);
    await settle();
    expect(s.passes()).to.equal(2);
    await s.c.stop();
  });
});
