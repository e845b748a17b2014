// Component tests of one reconcile pass against small fakes of the API and the caches: the order
// of writes (a run is claimed in status before its Job exists), conflicts, a foreign CronJob of
// the same name, and a deleted job's CronJob suspended at once.
import { expect } from 'chai';
import type { V1CronJob } from '@kubernetes/client-node';
import { pino } from 'pino';
import { defaultPlannerConfig as cfg } from '../domain/config.js';
import type { QinlingJob } from '../domain/types.js';
import { FakeInformers, FakeKube } from '../fakes/kube.js';
import { makeMetrics } from './metrics.js';
import type { Informers } from './informers.js';
import { Reconciler } from './reconcile.js';

const UID = '5b2a7c1e-1111-4222-8333-944455556666';
const job = (spec: QinlingJob['spec'], status?: QinlingJob['status']): QinlingJob => ({
  apiVersion: 'qinling.io/v1',
  kind: 'QinlingJob',
  metadata: {
    name: 'once',
    namespace: 'p1',
    uid: UID,
    generation: 1,
    resourceVersion: '7',
    creationTimestamp: '2026-11-27T11:00:00Z',
  },
  spec: { functionId: 'f-1', ...spec },
  ...(status ? { status } : {}),
});
const ownedCronJob = (): V1CronJob => ({
  metadata: {
    name: 'once',
    namespace: 'p1',
    uid: 'cj-uid',
    creationTimestamp: new Date('2026-11-27T11:00:01Z'),
    labels: { 'qinling.io/job-uid': UID, 'app.kubernetes.io/managed-by': 'qinling-jobs' },
    ownerReferences: [
      { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'once', uid: UID, controller: true },
    ],
  },
  spec: { schedule: '0 12 27 11 *', suspend: true, jobTemplate: {} },
});

function world(now: string) {
  const kube = new FakeKube();
  const caches = new FakeInformers();
  const r = new Reconciler(
    kube.kube,
    caches.informers as unknown as Informers,
    cfg,
    makeMetrics(
      () => [],
      () => 0,
    ),
    pino({ level: 'silent' }),
    () => new Date(now),
  );
  return { kube, caches, r };
}

/** A one-shot whose second has just come, with its (suspended) CronJob in place. */
function dueOneShot(w: ReturnType<typeof world>): void {
  w.caches.jobs.set(
    'p1/once',
    job(
      { firstExecutionTime: '2026-11-27T12:00:00Z' },
      { phase: 'Running', nextExecutionTime: '2026-11-27T12:00:00.000Z', nextRunByOperator: true },
    ),
  );
  w.caches.cronJobs.set('p1/once', ownedCronJob());
}

describe('Reconciler: one pass against fakes', () => {
  it('claims a due run in status before it creates the run’s Job', async () => {
    const w = world('2026-11-27T12:00:00.100Z');
    dueOneShot(w);
    await w.r.reconcile('p1', 'once');
    const names = w.kube
      .names()
      .filter((n) => n === 'replaceNamespacedCustomObjectStatus' || n === 'createNamespacedJob');
    expect(names).to.deep.equal(['replaceNamespacedCustomObjectStatus', 'createNamespacedJob']);
    const status = (
      w.kube.calls.find((c) => c.api === 'replaceNamespacedCustomObjectStatus')?.args.body as QinlingJob
    ).status;
    expect(status?.claimedTimes).to.deep.equal(['2026-11-27T12:00:00.000Z']);
  });

  it('a conflict on the status write (another leader, a stale cache) creates no run', async () => {
    const w = world('2026-11-27T12:00:00.100Z');
    dueOneShot(w);
    w.kube.fail.replaceNamespacedCustomObjectStatus = 409;
    const err = await w.r.reconcile('p1', 'once').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: number }).code).to.equal(409);
    expect(w.kube.names()).to.not.include('createNamespacedJob');
  });

  it('a CronJob of the same name that is not ours: left alone, Ready=False NameConflict', async () => {
    const w = world('2026-11-27T12:00:00Z');
    w.caches.jobs.set('p1/once', job({ pattern: '0 0 1 1 *' }));
    w.kube.fail.createNamespacedCronJob = 409;
    w.kube.cronJobs.set('once', {
      metadata: { name: 'once', namespace: 'p1', uid: 'someone-else' },
      spec: { schedule: '* * * * *', jobTemplate: {} },
    });
    await w.r.reconcile('p1', 'once');
    expect(w.kube.names()).to.not.include('replaceNamespacedCronJob');
    const status = (
      w.kube.calls.find((c) => c.api === 'replaceNamespacedCustomObjectStatus')?.args.body as QinlingJob
    ).status;
    expect(status?.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'NameConflict',
    });
  });

  it('a deleted job’s CronJob is suspended at once with a patch that needs no precondition', async () => {
    const w = world('2026-11-27T12:00:00Z');
    w.caches.cronJobs.set('p1/once', {
      ...ownedCronJob(),
      spec: { ...ownedCronJob().spec, suspend: false, schedule: '* * * * *', jobTemplate: {} },
    });
    await w.r.reconcile('p1', 'once');
    expect(w.kube.names()).to.deep.equal(['patchNamespacedCronJob']);
    expect(w.kube.calls[0]?.args.body).to.deep.equal([{ op: 'replace', path: '/spec/suspend', value: true }]);
  });

  it('an unchanged world writes nothing', async () => {
    const w = world('2026-11-27T12:00:10Z');
    const protectedJob = (st?: QinlingJob['status']): QinlingJob => {
      const j = job({ pattern: '0 0 1 1 *' }, st);
      return { ...j, metadata: { ...j.metadata, finalizers: ['qinling.io/suspend-cronjob'] } };
    };
    w.caches.jobs.set('p1/once', protectedJob());
    w.caches.cronJobs.set('p1/once', ownedCronJob());
    await w.r.reconcile('p1', 'once');
    const written = (
      w.kube.calls.find((c) => c.api === 'replaceNamespacedCustomObjectStatus')?.args.body as QinlingJob
    ).status;
    w.caches.jobs.set('p1/once', protectedJob(written));
    const cj = w.kube.calls.find((c) => c.api === 'replaceNamespacedCronJob')?.args.body as
      V1CronJob | undefined;
    if (cj) w.caches.cronJobs.set('p1/once', { ...cj, metadata: { ...cj.metadata, uid: 'cj-uid' } });
    w.kube.calls = [];
    await w.r.reconcile('p1', 'once');
    expect(w.kube.names()).to.deep.equal([]);
  });

  describe('the finalizer: a CronJob that fires on its own never outlives its job’s delete', () => {
    const recurring = (finalizers?: string[], deletionTimestamp?: string): QinlingJob => {
      const j = job({ pattern: '* * * * *' });
      return {
        ...j,
        metadata: {
          ...j.metadata,
          ...(finalizers ? { finalizers } : {}),
          ...(deletionTimestamp ? { deletionTimestamp } : {}),
        },
      };
    };

    it('is added before the CronJob is made, with the resourceVersion as precondition', async () => {
      const w = world('2026-11-27T12:00:10Z');
      w.caches.jobs.set('p1/once', recurring(['someone.else/keep']));
      await w.r.reconcile('p1', 'once');
      expect(w.kube.names().slice(0, 2)).to.deep.equal([
        'patchNamespacedCustomObject',
        'createNamespacedCronJob',
      ]);
      expect(w.kube.calls[0]?.args.body).to.deep.equal({
        metadata: { resourceVersion: '7', finalizers: ['someone.else/keep', 'qinling.io/suspend-cronjob'] },
      });
    });

    it('is not needed where the operator starts every run (one-shot, counted): no extra write', async () => {
      for (const spec of [
        { firstExecutionTime: '2026-11-27T13:00:00Z' },
        { pattern: '* * * * *', count: 3 },
      ]) {
        const w = world('2026-11-27T12:00:10Z');
        w.caches.jobs.set('p1/once', job(spec));
        await w.r.reconcile('p1', 'once');
        expect(w.kube.names(), JSON.stringify(spec)).to.not.include('patchNamespacedCustomObject');
      }
    });

    it('on delete: suspends the job’s own CronJob (whatever the cache says), then releases', async () => {
      const w = world('2026-11-27T12:00:10Z');
      w.caches.jobs.set('p1/once', recurring(['a/b', 'qinling.io/suspend-cronjob'], '2026-11-27T12:00:09Z'));
      w.caches.cronJobs.set('p1/once', ownedCronJob()); // the cache says suspended; it may not be
      await w.r.reconcile('p1', 'once');
      expect(w.kube.names()).to.deep.equal(['patchNamespacedCronJob', 'patchNamespacedCustomObject']);
      expect(w.kube.calls[0]?.args.body).to.deep.equal([{ op: 'add', path: '/spec/suspend', value: true }]);
      expect(w.kube.calls[1]?.args.body).to.deep.equal([
        { op: 'test', path: '/metadata/finalizers/1', value: 'qinling.io/suspend-cronjob' },
        { op: 'remove', path: '/metadata/finalizers/1' },
      ]);
    });

    it('on delete: a CronJob of that name that is not the job’s is left alone; the delete is released', async () => {
      const w = world('2026-11-27T12:00:10Z');
      w.caches.jobs.set('p1/once', recurring(['qinling.io/suspend-cronjob'], '2026-11-27T12:00:09Z'));
      w.kube.cronJobs.set('once', {
        metadata: { name: 'once', namespace: 'p1', uid: 'x' },
        spec: { schedule: '* * * * *', jobTemplate: {} },
      });
      await w.r.reconcile('p1', 'once');
      expect(w.kube.names()).to.deep.equal(['readNamespacedCronJob', 'patchNamespacedCustomObject']);
    });

    it('a failed suspend keeps the finalizer (the pass fails and is retried)', async () => {
      const w = world('2026-11-27T12:00:10Z');
      w.caches.jobs.set('p1/once', recurring(['qinling.io/suspend-cronjob'], '2026-11-27T12:00:09Z'));
      w.caches.cronJobs.set('p1/once', ownedCronJob());
      w.kube.fail.patchNamespacedCronJob = 500;
      const err = await w.r.reconcile('p1', 'once').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(Error);
      expect(w.kube.names()).to.deep.equal(['patchNamespacedCronJob']);
    });
  });
});
