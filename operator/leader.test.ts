import { expect } from 'chai';
import type { V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Kube } from '../kube/client.js';
import { LeaderElector } from './leader.js';

const log = pino({ level: 'silent' });
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opts = {
  namespace: 'ns',
  name: 'lease',
  leaseDurationMs: 600,
  renewDeadlineMs: 400,
  retryPeriodMs: 50,
};

/** One Lease in memory with resourceVersion checks, as the apiserver keeps it; calls can hang. */
class FakeLeases {
  lease?: V1Lease;
  rv = 0;
  hang = new Set<string>();
  slowMs = 0;
  private call<T>(who: string, f: () => T): Promise<T> {
    if (this.hang.has(who)) return new Promise<T>(() => undefined);
    return tick(this.slowMs).then(f);
  }
  api(who: string) {
    const copy = () => JSON.parse(JSON.stringify(this.lease)) as V1Lease;
    return {
      readNamespacedLease: () =>
        this.call(who, () => {
          if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
          return copy();
        }),
      createNamespacedLease: ({ body }: { body: V1Lease }) =>
        this.call(who, () => {
          if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
          this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
          return copy();
        }),
      replaceNamespacedLease: ({ body }: { body: V1Lease }) =>
        this.call(who, () => {
          if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
            throw Object.assign(new Error('conflict'), { code: 409 });
          this.lease = JSON.parse(
            JSON.stringify({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } }),
          ) as V1Lease;
          return copy();
        }),
    };
  }
}

function elector(leases: FakeLeases, identity: string, events: string[]) {
  const kube = { coordination: leases.api(identity) } as unknown as Kube;
  return new LeaderElector(
    kube,
    { ...opts, identity },
    log,
    () => events.push(`${identity} started`),
    () => events.push(`${identity} stopped`),
  );
}

describe('LeaderElector', () => {
  it('a leader whose renew hangs steps down at the renew deadline, before another can acquire', async () => {
    const leases = new FakeLeases();
    const events: string[] = [];
    const a = elector(leases, 'a', events);
    a.start();
    await tick(100);
    expect(a.isLeader).to.equal(true);
    const b = elector(leases, 'b', events);
    b.start();
    leases.hang.add('a'); // a half-open socket: a's calls never return
    const overlap: number[] = [];
    for (let i = 0; i < 60; i++) {
      if (a.isLeader && b.isLeader) overlap.push(i);
      await tick(25);
    }
    expect(overlap, 'moments with two leaders').to.deep.equal([]);
    expect(events).to.deep.equal(['a started', 'a stopped', 'b started']);
    await b.release();
  });

  it('an attempt answered only after the renew deadline counts for nothing (no flapping leader)', async () => {
    const leases = new FakeLeases();
    leases.slowMs = 250; // read + replace: 500 ms, past the 400 ms deadline
    const events: string[] = [];
    const a = elector(leases, 'a', events);
    a.start();
    await tick(1500);
    expect(events).to.deep.equal([]);
    expect(a.isLeader).to.equal(false);
    await a.release();
  });

  it('stays stopped after release, even with a renew in flight', async () => {
    const leases = new FakeLeases();
    const events: string[] = [];
    const a = elector(leases, 'a', events);
    leases.slowMs = 30; // every call takes a while: a renew is in flight when release() comes
    a.start();
    await tick(200);
    expect(a.isLeader).to.equal(true);
    const releasing = a.release();
    await tick(200);
    await releasing;
    expect(a.isLeader).to.equal(false);
    expect(leases.lease?.spec?.holderIdentity).to.equal('');
    await tick(200);
    expect(a.isLeader).to.equal(false);
    expect(events).to.deep.equal(['a started']);
  });

  it('hands over through the lease: after a release the standby leads at once', async () => {
    const leases = new FakeLeases();
    const events: string[] = [];
    const a = elector(leases, 'a', events);
    const b = elector(leases, 'b', events);
    a.start();
    await tick(60);
    b.start();
    await tick(100);
    expect([a.isLeader, b.isLeader]).to.deep.equal([true, false]);
    await a.release();
    await tick(1300); // b sees the released lease (1 s) expire by its own clock
    expect(b.isLeader).to.equal(true);
    await b.release();
  });
});
