// Component tests of one reconcile pass against small fakes of the API and the caches: the order
// of writes (a run is claimed in status before its Job exists; the input ConfigMap is written
// before the CronJob and the runs that read it), conflicts, a foreign CronJob or ConfigMap of
// the same name, and a deleted job's CronJob suspended at once.
import { expect } from 'chai';
import type { V1ConfigMap, V1CronJob, V1Job } from '@kubernetes/client-node';
import { pino } from 'pino';
import { defaultPlannerConfig as cfg } from '../domain/config.js';
import type { QinlingJob } from '../domain/types.js';
import { FakeInformers, FakeKube } from '../fakes/kube.js';
import { makeMetrics } from './metrics.js';
import type { Informers } from './informers.js';
import { Reconciler } from './reconcile.js';
import { Expectations } from './expectations.js';
import { FakeClock } from '../fakes/clock.js';

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
    finalizers: ['qinling.io/suspend-cronjob'], // in place, as the first pass of a recurring job leaves it
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

function world(now: string, expectations?: Expectations) {
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
    expectations,
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

/** The Job of the one-shot's run at 12:00:00, made early by the operator. */
const earlyRun = (deleting = false): V1Job => ({
  metadata: {
    name: `once-${Date.parse('2026-11-27T12:00:00Z') / 1000}`,
    namespace: 'p1',
    uid: 'run-uid',
    labels: { 'qinling.io/job-uid': UID },
    annotations: { 'qinling.io/scheduled-time': '2026-11-27T12:00:00.000Z', 'qinling.io/generation': '1' },
    ownerReferences: [
      { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'once', uid: UID, controller: true },
    ],
    ...(deleting ? { deletionTimestamp: new Date('2026-11-27T11:59:45Z') } : {}),
  },
  status: {},
});

describe('Reconciler: early runs are taken back before their time', () => {
  it('a job paused before its time: the early Job is deleted pods first, before any other write', async () => {
    const w = world('2026-11-27T11:59:45Z');
    w.caches.jobs.set(
      'p1/once',
      job(
        { firstExecutionTime: '2026-11-27T12:00:00Z', suspend: true },
        {
          phase: 'Running',
          nextExecutionTime: '2026-11-27T12:00:00.000Z',
          nextRunByOperator: true,
          claimedTimes: ['2026-11-27T12:00:00.000Z'],
        },
      ),
    );
    w.caches.cronJobs.set('p1/once', ownedCronJob());
    w.caches.runs.push(earlyRun());
    await w.r.reconcile('p1', 'once');
    expect(w.kube.names()[0]).to.equal('deleteNamespacedJob');
    expect(w.kube.calls[0]?.args).to.include({
      name: earlyRun().metadata?.name,
      propagationPolicy: 'Foreground',
    });
    expect(w.kube.names()).to.not.include('createNamespacedJob');
  });

  it('a job deleted before its time: its early Jobs go at once, not when garbage collection comes', async () => {
    const w = world('2026-11-27T11:59:45Z');
    w.caches.runs.push(earlyRun(), {
      ...earlyRun(true),
      metadata: { ...earlyRun(true).metadata, name: 'x' },
    });
    await w.r.withdrawEarlyRuns('p1', UID);
    expect(w.kube.names()).to.deep.equal(['deleteNamespacedJob']);
    const foreign = world('2026-11-27T11:59:45Z'); // our label, not our Job: left alone
    foreign.caches.runs.push({ ...earlyRun(), metadata: { ...earlyRun().metadata, ownerReferences: [] } });
    await foreign.r.withdrawEarlyRuns('p1', UID);
    expect(foreign.kube.names()).to.deep.equal([]);
    const late = world('2026-11-27T11:59:59Z'); // within the margin: too late to stop it
    late.caches.runs.push(earlyRun());
    await late.r.withdrawEarlyRuns('p1', UID);
    expect(late.kube.names()).to.deep.equal([]);
  });
});

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
      const names = w.kube.names();
      expect(names[0]).to.equal('patchNamespacedCustomObject');
      expect(names).to.include('createNamespacedCronJob');
      expect(w.kube.calls[0]?.args.body).to.deep.equal({
        metadata: { resourceVersion: '7', finalizers: ['someone.else/keep', 'qinling.io/suspend-cronjob'] },
      });
    });

    it('the status that pass writes is at the version the finalizer patch made (no 409 per new job)', async () => {
      const w = world('2026-11-27T12:00:10Z');
      w.caches.jobs.set('p1/once', recurring([]));
      w.kube.patchedVersion = '8';
      await w.r.reconcile('p1', 'once');
      const status = w.kube.calls.find((c) => c.api === 'replaceNamespacedCustomObjectStatus');
      expect((status?.args.body as QinlingJob).metadata).to.include({ resourceVersion: '8' });
      expect((status?.args.body as QinlingJob).metadata.finalizers).to.include('qinling.io/suspend-cronjob');
    });

    it('the next pass, its caches behind that pass’s writes, writes nothing until their echoes come', async () => {
      const expired: string[] = [];
      const clock = new FakeClock();
      const w = world('2026-11-27T12:00:10Z', new Expectations((k) => expired.push(k), 10_000, clock));
      // A yearly job made with kubectl (no finalizer yet): nothing falls due in these passes.
      const yearly = (finalizers: string[], resourceVersion: string, status?: QinlingJob['status']) => {
        const j = job({ pattern: '0 0 1 1 *' }, status);
        return { ...j, metadata: { ...j.metadata, finalizers, resourceVersion } };
      };
      w.caches.jobs.set('p1/once', yearly([], '7'));
      w.kube.patchedVersion = '8';
      w.kube.answerVersion = { replaceNamespacedCustomObjectStatus: '9', createNamespacedCronJob: '10' };
      const writes = () => w.kube.names().filter((n) => n !== 'createNamespacedEvent');
      await w.r.reconcile('p1', 'once');
      const first = w.kube.calls.map((c) => c.args.body as QinlingJob & V1CronJob);
      expect(writes()).to.deep.equal([
        'patchNamespacedCustomObject',
        'createNamespacedCronJob',
        'replaceNamespacedCustomObjectStatus',
      ]);
      // The watch has brought the finalizer patch's echo only: no status yet, no CronJob.
      w.caches.jobs.set('p1/once', yearly(['qinling.io/suspend-cronjob'], '8'));
      w.kube.calls = [];
      expect(await w.r.reconcile('p1', 'once')).to.deep.equal({ waited: true });
      expect(
        w.kube.names(),
        'a stale status write (a 409) and a second create (a 409 and a GET)',
      ).to.deep.equal([]);
      // Both echoes arrive: the pass acts again, and finds nothing to do.
      const status = first[2]?.status;
      w.caches.jobs.set('p1/once', yearly(['qinling.io/suspend-cronjob'], '9', status));
      const cj = first[1] as V1CronJob;
      const made = {
        uid: 'cj-uid',
        resourceVersion: '10',
        creationTimestamp: new Date('2026-11-27T11:00:01Z'),
      };
      w.caches.cronJobs.set('p1/once', { ...cj, metadata: { ...cj.metadata, ...made } });
      expect(await w.r.reconcile('p1', 'once')).to.not.have.property('waited');
      expect(writes()).to.deep.equal([]);
      clock.advance(60_000);
      expect(expired, 'no pass queued by a wait that ended with the echo').to.deep.equal([]);
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

const WRITES = /^(create|replace|patch)/;
const writes = (w: ReturnType<typeof world>) => w.kube.names().filter((n) => WRITES.test(n));
const lastBody = <T>(w: ReturnType<typeof world>, ...apis: string[]): T | undefined =>
  w.kube.calls.filter((c) => apis.includes(c.api)).at(-1)?.args.body as T | undefined;
const inputEnvOf = (o: V1CronJob | V1Job | undefined) => {
  const spec =
    o && 'jobTemplate' in (o.spec ?? {}) ? (o as V1CronJob).spec?.jobTemplate.spec : (o as V1Job)?.spec;
  return spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'QJ_FUNCTION_INPUT');
};

/** One pass, then the caches as the watches would fill them from that pass's writes. */
async function pass(w: ReturnType<typeof world>, spec: QinlingJob['spec']): Promise<void> {
  w.kube.calls = [];
  await w.r.reconcile('p1', 'once');
  const status = lastBody<QinlingJob>(w, 'replaceNamespacedCustomObjectStatus')?.status;
  if (status) w.caches.jobs.set('p1/once', job(spec, status));
  const cj = lastBody<V1CronJob>(w, 'createNamespacedCronJob', 'replaceNamespacedCronJob');
  if (cj) {
    const created = new Date('2026-11-27T11:00:01Z');
    w.caches.cronJobs.set('p1/once', {
      ...cj,
      metadata: { ...cj.metadata, uid: 'cj-uid', creationTimestamp: created },
    });
  }
}

/** What the code before the input ConfigMap made: the input as a literal, `$`-escaped, env value. */
function legacyCronJob(input: string, suspend = true): V1CronJob {
  const env = [
    { name: 'QJ_RUNTIME_MODE', value: 'qinling' },
    { name: 'QJ_FUNCTION_INPUT', value: input.replaceAll('$', '$$$$') },
  ];
  const containers = [{ name: 'invoke', image: 'qinling-jobs', args: ['invoke'], env }];
  const jobTemplate = {
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers } } },
  };
  return { ...ownedCronJob(), spec: { schedule: '0 12 27 11 *', suspend, jobTemplate } };
}

describe('Reconciler: the function input is stored once, in a ConfigMap written first', () => {
  const input = '{"cmd": "$(QJ_RUNTIME_TOKEN) $$5"}\nünïcødé ✓';
  const recurring = { pattern: '0 0 1 1 *', functionInput: input };

  it('a new job: the ConfigMap is created before the CronJob, which holds no copy of the input', async () => {
    const w = world('2026-11-27T12:00:10Z');
    w.caches.jobs.set('p1/once', job(recurring));
    await pass(w, recurring);
    expect(writes(w).slice(0, 2)).to.deep.equal(['createNamespacedConfigMap', 'createNamespacedCronJob']);
    expect(w.kube.configMaps.get('once-input')?.data).to.deep.equal({ input });
    const cj = lastBody<V1CronJob>(w, 'createNamespacedCronJob');
    expect(JSON.stringify(cj)).to.not.contain('QJ_RUNTIME_TOKEN) $$');
    expect(inputEnvOf(cj)?.valueFrom?.configMapKeyRef).to.deep.equal({ name: 'once-input', key: 'input' });
  });

  it('a job without input: no ConfigMap, and its CronJob refers to none', async () => {
    const w = world('2026-11-27T12:00:10Z');
    const plain = { pattern: '0 0 1 1 *' };
    w.caches.jobs.set('p1/once', job(plain));
    await pass(w, plain);
    expect(writes(w)).to.not.include('createNamespacedConfigMap');
    expect(inputEnvOf(lastBody<V1CronJob>(w, 'createNamespacedCronJob'))).to.equal(undefined);
  });

  it('a steady state: no call at all, not even a read of the ConfigMap', async () => {
    const w = world('2026-11-27T12:00:10Z');
    w.caches.jobs.set('p1/once', job(recurring));
    await pass(w, recurring);
    await pass(w, recurring);
    expect(w.kube.configMaps.get('once-input')?.data).to.deep.equal({ input });
    await pass(w, recurring);
    expect(w.kube.names()).to.deep.equal([]);
  });

  it('an input change rewrites the ConfigMap (ours, by owner uid), then patches the CronJob', async () => {
    const w = world('2026-11-27T12:00:10Z');
    w.caches.jobs.set('p1/once', job(recurring));
    await pass(w, recurring);
    const before = structuredClone(w.caches.cronJobs.get('p1/once')); // the next pass trims the cached copy
    await pass(w, recurring);
    const changed = { ...recurring, functionInput: 'the new input $(X)' };
    w.caches.jobs.set('p1/once', job(changed, w.caches.jobs.get('p1/once')?.status));
    await pass(w, changed);
    expect(w.kube.names().filter((n) => /ConfigMap|CronJob$/.test(n))).to.deep.equal([
      'createNamespacedConfigMap', // 409: it exists
      'readNamespacedConfigMap',
      'replaceNamespacedConfigMap',
      'replaceNamespacedCronJob',
    ]);
    expect(w.kube.configMaps.get('once-input')?.data).to.deep.equal({ input: 'the new input $(X)' });
    const hash = (c: V1CronJob | undefined) =>
      c?.spec?.jobTemplate.spec?.template.metadata?.annotations?.['qinling.io/input-sha256'];
    const after = lastBody<V1CronJob>(w, 'replaceNamespacedCronJob');
    expect(hash(after)).to.be.a('string').and.not.equal(hash(before));
    await pass(w, changed);
    expect(w.kube.names()).to.deep.equal([]);
  });

  it('an upgrade: a CronJob with the input in its env is rewritten, the ConfigMap first, then a due run', async () => {
    const w = world('2026-11-27T12:00:00.100Z');
    dueOneShot(w);
    const spec = { firstExecutionTime: '2026-11-27T12:00:00Z', functionInput: input };
    w.caches.jobs.set('p1/once', job(spec, w.caches.jobs.get('p1/once')?.status));
    w.caches.cronJobs.set('p1/once', legacyCronJob(input));
    await w.r.reconcile('p1', 'once');
    expect(writes(w)).to.deep.equal([
      'createNamespacedConfigMap',
      'replaceNamespacedCronJob',
      'replaceNamespacedCustomObjectStatus',
      'createNamespacedJob',
    ]);
    expect(w.kube.configMaps.get('once-input')?.data).to.deep.equal({ input });
    const cj = lastBody<V1CronJob>(w, 'replaceNamespacedCronJob');
    expect(inputEnvOf(cj)).to.not.have.property('value');
    expect(JSON.stringify(cj)).to.not.contain('QJ_RUNTIME_TOKEN)');
    const run = lastBody<V1Job>(w, 'createNamespacedJob');
    expect(inputEnvOf(run)?.valueFrom?.configMapKeyRef).to.deep.equal({ name: 'once-input', key: 'input' });
  });

  it('a ConfigMap of that name that is not ours: left alone, no CronJob, Ready=False NameConflict', async () => {
    const w = world('2026-11-27T12:00:10Z');
    w.caches.jobs.set('p1/once', job(recurring));
    const theirs: V1ConfigMap = {
      metadata: { name: 'once-input', namespace: 'p1', uid: 'x' },
      data: { a: 'b' },
    };
    w.kube.configMaps.set('once-input', theirs);
    await w.r.reconcile('p1', 'once');
    expect(w.kube.configMaps.get('once-input')).to.equal(theirs);
    expect(w.kube.names()).to.not.include('replaceNamespacedConfigMap');
    expect(w.kube.names()).to.not.include('createNamespacedCronJob');
    const status = lastBody<QinlingJob>(w, 'replaceNamespacedCustomObjectStatus')?.status;
    expect(status?.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'NameConflict',
      message: 'ConfigMap once-input exists and is not owned by this job; it is left alone',
    });
  });

  it('a foreign ConfigMap where an old CronJob reads its input: the CronJob is held, no run starts', async () => {
    const w = world('2026-11-27T12:00:00.100Z');
    dueOneShot(w);
    const spec = { firstExecutionTime: '2026-11-27T12:00:00Z', functionInput: 'x' };
    w.caches.jobs.set('p1/once', job(spec, w.caches.jobs.get('p1/once')?.status));
    w.caches.cronJobs.set('p1/once', legacyCronJob('x', false));
    w.kube.configMaps.set('once-input', { metadata: { name: 'once-input', namespace: 'p1' }, data: {} });
    await w.r.reconcile('p1', 'once');
    expect(w.kube.names()).to.not.include('createNamespacedJob');
    expect(w.kube.names()).to.not.include('replaceNamespacedConfigMap');
    const cj = lastBody<V1CronJob>(w, 'replaceNamespacedCronJob');
    expect(cj?.spec?.suspend).to.equal(true);
    expect(cj?.spec?.jobTemplate).to.deep.equal(legacyCronJob('x').spec?.jobTemplate);
  });
});

describe('Reconciler: a cached CronJob keeps its template only until a pass has compared it', () => {
  const recurring = { pattern: '0 0 1 1 *', functionInput: 'x' };
  /** A job after two passes, and the CronJob its first pass created (as the server holds it). */
  const steady = async () => {
    const w = world('2026-11-27T12:00:10Z');
    w.caches.jobs.set('p1/once', job(recurring));
    await pass(w, recurring);
    const made = lastBody<V1CronJob>(w, 'createNamespacedCronJob') as V1CronJob;
    const server = structuredClone({ ...made, metadata: { ...made.metadata, uid: 'cj-uid' } });
    await pass(w, recurring);
    return { w, server };
  };

  it('a pass that finds the template as wanted drops it from the cache, and the next writes nothing', async () => {
    const { w } = await steady();
    const cached = w.caches.cronJobs.get('p1/once');
    expect(cached?.spec).to.not.have.property('jobTemplate');
    expect(cached?.spec?.schedule).to.equal('0 0 1 1 *');
    await pass(w, recurring);
    expect(w.kube.names()).to.deep.equal([]);
  });

  it('a hand edit on the server (a new, full object from the watch) is compared in full and put back', async () => {
    const { w, server } = await steady();
    const container = server.spec?.jobTemplate.spec?.template.spec?.containers[0];
    if (container) container.image = 'someone/else:latest';
    w.caches.cronJobs.set('p1/once', server);
    await pass(w, recurring);
    const put = lastBody<V1CronJob>(w, 'replaceNamespacedCronJob');
    expect(put?.spec?.jobTemplate.spec?.template.spec?.containers[0]?.image).to.equal(cfg.invokerImage);
  });

  it('a wanted template that changed is written over a trimmed copy', async () => {
    const { w } = await steady();
    const changed = { ...recurring, functionInput: 'y' };
    w.caches.jobs.set('p1/once', job(changed, w.caches.jobs.get('p1/once')?.status));
    await pass(w, changed);
    expect(w.kube.names()).to.include('replaceNamespacedCronJob');
  });

  it('a hold of a trimmed copy (the spec turned invalid) writes back the server’s own template', async () => {
    const { w, server } = await steady();
    w.kube.cronJobs.set('once', server);
    const invalid = { ...recurring, pattern: 'not a pattern' };
    w.caches.jobs.set('p1/once', job(invalid, w.caches.jobs.get('p1/once')?.status));
    await pass(w, invalid);
    expect(w.kube.names()).to.include('readNamespacedCronJob');
    const put = lastBody<V1CronJob>(w, 'replaceNamespacedCronJob');
    expect(put?.spec?.suspend).to.equal(true);
    expect(put?.spec?.jobTemplate).to.deep.equal(server.spec?.jobTemplate);
  });
});

describe('Reconciler: a finished run’s pod report', () => {
  const NOW = '2026-11-27T12:00:30Z';
  const report = JSON.stringify({
    attempts: [
      {
        attempt: 1,
        startTime: '2026-11-27T12:00:00.100Z',
        httpStatus: 503,
        message: 'runtime answered HTTP 503',
      },
      {
        attempt: 2,
        startTime: '2026-11-27T12:00:01.200Z',
        httpStatus: 201,
        message: 'runtime answered HTTP 201',
      },
    ],
  });
  const succeeded = (): V1Job => ({
    ...earlyRun(),
    status: {
      startTime: new Date('2026-11-27T12:00:00Z'),
      completionTime: new Date('2026-11-27T12:00:02Z'),
      conditions: [{ type: 'Complete', status: 'True' }],
    },
  });
  const pod = {
    metadata: { name: 'p', labels: { 'batch.kubernetes.io/controller-uid': 'run-uid' } },
    status: {
      containerStatuses: [{ name: 'invoke', state: { terminated: { exitCode: 0, message: report } } }],
    },
  };
  const ledger = (w: ReturnType<typeof world>) => {
    const c = w.kube.calls.filter((x) => x.api === 'replaceNamespacedCustomObjectStatus').at(-1);
    return (c?.args.body as QinlingJob | undefined)?.status?.recentRuns ?? [];
  };

  it('a succeeded run: its exact HTTP status and each attempt, read once', async () => {
    const w = world(NOW);
    dueOneShot(w);
    w.caches.cronJobs.set('p1/once', ownedCronJob());
    w.caches.runs = [succeeded()];
    w.kube.pods = [pod as never];
    await w.r.reconcile('p1', 'once');
    expect(ledger(w)[0]).to.deep.include({ result: 'Succeeded', httpStatus: 201, attempt: 2 });
    expect(ledger(w)[0]?.attempts?.map((a) => a.httpStatus)).to.deep.equal([503, 201]);
    const reads = () => w.kube.names().filter((n) => n === 'listNamespacedPod').length;
    expect(reads()).to.equal(1);
    await w.r.reconcile('p1', 'once');
    expect(reads()).to.equal(1);
  });

  it('after a restart, a succeeded run the ledger holds as final costs no pods call', async () => {
    const w = world(NOW);
    const j = job(
      { firstExecutionTime: '2026-11-27T12:00:00Z' },
      {
        phase: 'Done',
        recentRuns: [
          {
            scheduledTime: '2026-11-27T12:00:00.000Z',
            trigger: 'operator',
            attempt: 2,
            result: 'Succeeded',
            jobName: succeeded().metadata?.name ?? '',
            httpStatus: 201,
          },
        ],
      },
    );
    w.caches.jobs.set('p1/once', j);
    w.caches.cronJobs.set('p1/once', ownedCronJob());
    w.caches.runs = [succeeded()];
    w.kube.pods = [pod as never];
    await w.r.reconcile('p1', 'once');
    expect(w.kube.names()).to.not.include('listNamespacedPod');
  });
});
