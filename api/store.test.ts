// Component tests of KubeJobStore over fake caches and a fake apiserver: the read-your-writes
// overlay (cleared by its own watch event, never by an older one, bounded in time, a tombstone
// that a fast watch cannot strand), read-through, and apiserver errors as Qinling's classes.
import { expect } from 'chai';
import type { KubernetesObject, ListWatch, V1Namespace } from '@kubernetes/client-node';
import { pino } from 'pino';
import { DomainError } from '../domain/errors.js';
import type { QinlingJob } from '../domain/types.js';
import { FakeListWatch } from '../fakes/listwatch.js';
import type { Kube, KubeRequest, KubeResponse } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import {
  derivedNamespace,
  KubeJobStore,
  LABEL_PROJECT,
  OVERLAY_TTL_MS,
  QUOTA_REFUSED,
  type StoreOptions,
} from './store.js';

const log = pino({ level: 'silent' });
const UID = '5b2a7c1e-1111-4222-8333-944455556666';
const obj = (
  rv: string,
  spec: QinlingJob['spec'] = { functionId: 'f', pattern: '0 * * * *' },
): QinlingJob => ({
  apiVersion: 'qinling.io/v1',
  kind: 'QinlingJob',
  metadata: { name: 'job-x', namespace: 'ns-a', uid: UID, resourceVersion: rv },
  spec,
});

function scene(answer: (r: KubeRequest) => KubeResponse, opts: Partial<StoreOptions> = {}, storeLog = log) {
  const jobsLw = new FakeListWatch();
  const nsLw = new FakeListWatch();
  const cache = <T>(name: string, lw: FakeListWatch) =>
    new Informer<T>(name, log, () => lw as unknown as ListWatch<KubernetesObject>, []);
  let t = 1_000_000;
  const requests: KubeRequest[] = [];
  const kube = {
    request: (r: KubeRequest) => {
      requests.push(r);
      return Promise.resolve(answer(r));
    },
  } as unknown as Kube;
  const store = new KubeJobStore(kube, storeLog, {
    now: () => t,
    caches: { jobs: cache<QinlingJob>('jobs', jobsLw), namespaces: cache<V1Namespace>('namespaces', nsLw) },
    ...opts,
  });
  return { store, jobsLw, nsLw, requests, advance: (ms: number) => (t += ms) };
}

describe('KubeJobStore over fakes', () => {
  it('lists oldest first, with its own unseen writes placed in that order (create, update, delete)', async () => {
    const at = (name: string, created: string, rv = '1'): QinlingJob => ({
      ...obj(rv),
      metadata: {
        name,
        namespace: 'ns-a',
        uid: `uid-${name}`,
        resourceVersion: rv,
        creationTimestamp: created,
      },
    });
    const made = at('d', '2026-01-02T00:00:00Z');
    const s = scene(
      (r) => {
        if (r.method === 'POST') return { status: 201, body: made };
        if (r.method === 'DELETE') return { status: 200, body: {} };
        return { status: 200, body: { ...at('c', '2026-01-03T00:00:00Z', '9'), spec: { functionId: 'g' } } };
      },
      { deleteWaitMs: 1 },
    );
    s.jobsLw.emit('add', at('c', '2026-01-03T00:00:00Z'));
    s.jobsLw.emit('add', at('a', '2026-01-01T00:00:00Z'));
    s.jobsLw.emit('add', at('b', '2026-01-02T00:00:00Z'));
    s.jobsLw.emit('add', {
      ...at('x', '2026-01-01T00:00:00Z'),
      metadata: { ...at('x', '2026-01-01T00:00:00Z').metadata, namespace: 'ns-b' },
    });
    const names = (ns?: string) => s.store.list(ns).map((j) => j.metadata.name);
    expect(names('ns-a')).to.deep.equal(['a', 'b', 'c']);
    expect(names()).to.deep.equal(['a', 'x', 'b', 'c']);
    await s.store.create('ns-a', obj('1').spec);
    expect(names('ns-a')).to.deep.equal(['a', 'b', 'd', 'c']);
    expect(names('ns-b')).to.deep.equal(['x']);
    await s.store.update(at('c', '2026-01-03T00:00:00Z'), { functionId: 'g' }, new Date());
    expect(s.store.list('ns-a').map((j) => j.spec.functionId)).to.deep.equal(['f', 'f', 'f', 'g']);
    await s.store.remove(at('b', '2026-01-02T00:00:00Z'));
    expect(names('ns-a')).to.deep.equal(['a', 'd', 'c']);
    expect(names()).to.deep.equal(['a', 'x', 'd', 'c']);
  });

  it('a job whose CronJob may fire on its own is created with the operator’s finalizer; one it runs itself, without', async () => {
    const s = scene(() => ({ status: 201, body: obj('1') }));
    await s.store.create('ns-a', { functionId: 'f', pattern: '0 * * * *' });
    await s.store.create('ns-a', { functionId: 'f', pattern: '0 * * * *', count: 3 });
    await s.store.create('ns-a', { functionId: 'f', firstExecutionTime: '2027-01-01T00:00:00Z' });
    const finalizers = s.requests.map((r) => (r.body as QinlingJob).metadata.finalizers);
    expect(finalizers).to.deep.equal([['qinling.io/suspend-cronjob'], undefined, undefined]);
  });

  it('serves its own write until the watch shows that very write, not an older event', async () => {
    const s = scene(() => ({ status: 200, body: obj('12', { functionId: 'f', pattern: '5 * * * *' }) }));
    s.jobsLw.emit('add', obj('10'));
    await s.store.update(obj('10'), { pattern: '5 * * * *' }, new Date());
    expect(s.store.byId(UID)?.spec.pattern).to.equal('5 * * * *');
    s.jobsLw.emit('update', obj('11')); // someone else's earlier write, arriving late
    expect(s.store.byId(UID)?.spec.pattern).to.equal('5 * * * *');
    expect(s.store.overlaySize).to.equal(1);
    s.jobsLw.emit('update', obj('12', { functionId: 'f', pattern: '5 * * * *' }));
    expect(s.store.overlaySize).to.equal(0);
  });

  it('a tombstone is in place before the DELETE, so a watch faster than the answer cannot strand it', async () => {
    const s: ReturnType<typeof scene> = scene((r) => {
      if (r.method === 'DELETE') s.jobsLw.emit('delete', obj('10')); // the event beats the response
      return { status: 200, body: {} };
    });
    s.jobsLw.emit('add', obj('10'));
    await s.store.remove(obj('10'));
    expect(s.store.byId(UID)).to.equal(undefined);
    expect(s.store.overlaySize).to.equal(0);
  });

  it('a watch faster than the create’s answer: the cache is as new, so no entry holds an old version', async () => {
    const created = obj('20');
    const s: ReturnType<typeof scene> = scene(() => {
      s.jobsLw.emit('add', created); // our create's event, and the operator's status write after it,
      s.jobsLw.emit('update', { ...created, metadata: { ...created.metadata, resourceVersion: '21' } });
      return { status: 201, body: created }; // both before the answer is read
    });
    await s.store.create('ns-a', created.spec);
    expect(s.store.overlaySize).to.equal(0);
    expect(s.store.byId(UID)?.metadata.resourceVersion).to.equal('21');
  });

  it('drops an overlay entry whose event never comes (a relist skipped it) after its deadline', async () => {
    const s = scene(() => ({ status: 201, body: obj('20') }));
    await s.store.create('ns-a', obj('20').spec);
    expect(s.store.byId(UID)?.metadata.resourceVersion).to.equal('20');
    s.advance(OVERLAY_TTL_MS + 1);
    expect(s.store.byId(UID)).to.equal(undefined);
    expect(s.store.overlaySize).to.equal(0);
  });

  it('answers an apiserver 409 as a Conflict (409), never a 500', async () => {
    const s = scene(() => ({ status: 409, body: { message: 'Precondition failed: UID in precondition' } }));
    const err = await s.store.remove(obj('10')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(DomainError);
    expect((err as DomainError).kind).to.equal('Conflict');
    expect(s.store.overlaySize, 'a failed delete leaves no tombstone').to.equal(0);
  });

  const refusals: { status: number; kind: string; message: string }[] = [
    { status: 400, kind: 'BadRequest', message: 'Invalid input' },
    { status: 422, kind: 'BadRequest', message: 'Invalid input' },
    { status: 403, kind: 'Forbidden', message: 'Operation not allowed' },
    { status: 409, kind: 'Conflict', message: 'Conflict' },
    { status: 500, kind: 'Unavailable', message: 'The Kubernetes API answered 500; try again.' },
    { status: 503, kind: 'Unavailable', message: 'The Kubernetes API answered 503; try again.' },
    { status: 429, kind: 'Unavailable', message: 'The Kubernetes API answered 429; try again.' },
  ];
  for (const tc of refusals) {
    it(`an apiserver ${tc.status} reaches the client as Qinling's "${tc.message}", its text only the log`, async () => {
      const secret =
        'admission webhook "quota.internal.example:8443" denied: user system:serviceaccount:qinling-system:api, quota team-a-q';
      const lines: { level: number; message?: string; status?: number }[] = [];
      const kept = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as never) });
      const s = scene(() => ({ status: tc.status, body: { kind: 'Status', message: secret } }), {}, kept);
      const err = await s.store.create('ns-a', obj('1').spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(DomainError);
      expect((err as DomainError).kind).to.equal(tc.kind);
      expect((err as DomainError).message).to.equal(tc.message);
      if (tc.status === 409) expect((err as { code?: number }).code).to.equal(409);
      expect(
        lines.filter(
          (l) => l.level === (tc.status === 409 ? 20 : 40) && l.message === secret && l.status === tc.status,
        ),
      ).to.have.length(1);
    });
  }

  it('reads a job it does not hold through the apiserver: metadata list, then the one by name', async () => {
    const s = scene((r) =>
      r.path.endsWith('/qinlingjobs')
        ? { status: 200, body: { items: [{ metadata: { name: 'job-x', uid: UID } }] } }
        : { status: 200, body: obj('30') },
    );
    const j = await s.store.readThrough(UID, ['ns-a']);
    expect(j?.metadata.resourceVersion).to.equal('30');
    expect(s.requests.map((r) => r.path)).to.deep.equal([
      '/apis/qinling.io/v1/namespaces/ns-a/qinlingjobs',
      '/apis/qinling.io/v1/namespaces/ns-a/qinlingjobs/job-x',
    ]);
    expect(s.requests[0]?.headers?.accept).to.contain('PartialObjectMetadataList');
  });

  it('names a project namespace from the id, the same on every replica and every try', () => {
    const a = derivedNamespace('Project With Spaces');
    expect(a).to.equal(derivedNamespace('Project With Spaces'));
    expect(a).to.match(/^qinling-[0-9a-f]{16}$/);
    expect(a).to.not.equal(derivedNamespace('project with spaces'));
  });

  const namespace = (name: string, labels?: Record<string, string>): V1Namespace => ({
    metadata: { name, uid: `uid-${name}`, resourceVersion: '1', ...(labels ? { labels } : {}) },
  });
  const quota = { qinlingJobs: 5, cronJobs: 5, jobs: 40, pods: 40, configMaps: 13 };

  it('refuses a project two namespaces claim (a forged label), and serves neither namespace as its', async () => {
    const s = scene(() => ({ status: 201, body: {} }));
    s.nsLw.emit('add', namespace('aaa-attacker', { [LABEL_PROJECT]: 'pb' }));
    s.nsLw.emit('add', namespace('team-b', { [LABEL_PROJECT]: 'pb' }));
    const err = await s.store.namespaceOf('pb', true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as DomainError).kind).to.equal('Unavailable');
    expect(s.store.projectOf('aaa-attacker')).to.equal(undefined);
    expect(s.store.projectOf('team-b')).to.equal(undefined);
    expect(s.requests, 'nothing written').to.deep.equal([]);
  });

  it('never writes into an unlabelled namespace named like the project: it makes the derived one', async () => {
    const s = scene((r) => ({ status: 201, body: r.body }));
    s.nsLw.emit('add', namespace('kube-system'));
    s.nsLw.emit('add', namespace('team-c'));
    expect(await s.store.namespaceOf('kube-system', true)).to.equal(derivedNamespace('kube-system'));
    expect(await s.store.namespaceOf('team-c', true)).to.equal(derivedNamespace('team-c'));
    const made = s.requests.filter((r) => r.path === '/api/v1/namespaces').map((r) => r.body);
    expect(made).to.have.length(2);
    expect(made[0]).to.nested.include({ 'metadata.name': derivedNamespace('kube-system') });
    expect(made[0]).to.nested.include({
      [`metadata.labels.${LABEL_PROJECT.replace('.', '\\.')}`]: 'kube-system',
    });
  });

  it('a name another replica just made for the same project is the project’s (409, then read)', async () => {
    const s = scene((r) =>
      r.method === 'POST'
        ? { status: 409, body: { message: 'AlreadyExists' } }
        : { status: 200, body: namespace('team-d', { [LABEL_PROJECT]: 'team-d' }) },
    );
    expect(await s.store.namespaceOf('team-d', true)).to.equal('team-d');
  });

  it('a name taken meanwhile by a namespace that is not the project’s: the derived one instead', async () => {
    const s = scene((r) => {
      if (r.method === 'POST' && r.body && (r.body as V1Namespace).metadata?.name === 'team-e')
        return { status: 409, body: {} };
      if (r.method === 'GET') return { status: 200, body: namespace('team-e') };
      return { status: 201, body: r.body };
    });
    expect(await s.store.namespaceOf('team-e', true)).to.equal(derivedNamespace('team-e'));
  });

  it('gives a namespace it makes a ResourceQuota for jobs, CronJobs, Jobs, pods and ConfigMaps', async () => {
    const s = scene((r) => ({ status: 201, body: r.body }), { quota, quotaWaitMs: 50 });
    await s.store.namespaceOf('team-f', true);
    const q = s.requests.find((r) => r.path === '/api/v1/namespaces/team-f/resourcequotas');
    expect(q?.body).to.nested.include({ 'spec.hard.count/qinlingjobs\\.qinling\\.io': '5' });
    expect((q?.body as { spec: { hard: Record<string, string> } }).spec.hard).to.deep.equal({
      'count/qinlingjobs.qinling.io': '5',
      'count/cronjobs.batch': '5',
      'count/jobs.batch': '40',
      pods: '40',
      'count/configmaps': '13',
    });
  });

  it('maps a project by name only when enabled, and never a reserved namespace', async () => {
    const s = scene(() => ({ status: 201, body: {} }), {
      tenancy: { byName: true, reserved: new Set(['qinling-system']) },
    });
    s.nsLw.emit('add', namespace('team-g'));
    s.nsLw.emit('add', namespace('qinling-system'));
    expect(await s.store.namespaceOf('team-g', false)).to.equal('team-g');
    expect(s.store.projectOf('team-g')).to.equal('team-g');
    expect(await s.store.namespaceOf('qinling-system', false)).to.equal(undefined);
    expect(s.store.projectOf('qinling-system')).to.equal(undefined);
  });

  it('deletes with one call as the caller (no CronJob right), and returns once the job is gone', async () => {
    const s = scene(() => ({ status: 200, body: {} }), { deleteWaitMs: 10_000 });
    const withStatus = { ...obj('10'), status: { cronJobName: 'job-x' } };
    s.jobsLw.emit('add', withStatus);
    let returned = false;
    const removing = s.store.remove(withStatus).then(() => (returned = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(returned, 'waits while the finalizer holds the object').to.equal(false);
    s.jobsLw.emit('delete', withStatus); // the operator suspended the CronJob and released it
    await removing;
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      'DELETE /apis/qinling.io/v1/namespaces/ns-a/qinlingjobs/job-x',
    ]);
  });

  it('an operator away: the delete returns at its bound, the job already hidden', async () => {
    const s = scene(() => ({ status: 200, body: {} }), { deleteWaitMs: 30 });
    s.jobsLw.emit('add', obj('10'));
    await s.store.remove(obj('10'));
    expect(s.store.byId(UID)).to.equal(undefined);
  });

  it('a project id that is no label value (an OIDC username) gets a derived namespace, a hash label and the id', async () => {
    const s = scene((r) => ({ status: 201, body: r.body }));
    const id = 'oidc:user@example.com';
    expect(await s.store.namespaceOf(id, true)).to.equal(derivedNamespace(id));
    const body = s.requests[0]?.body as V1Namespace;
    expect(body.metadata?.labels?.[LABEL_PROJECT]).to.match(/^sha256\.[0-9a-f]{48}$/);
    expect(body.metadata?.annotations?.[LABEL_PROJECT]).to.equal(id);
    s.nsLw.emit('add', { ...body, metadata: { ...body.metadata, uid: 'u', resourceVersion: '1' } });
    expect(s.store.projectOf(derivedNamespace(id))).to.equal(id);
  });

  it('the apiserver refusing a create over the namespace quota is Qinling’s quota fault, not its text', async () => {
    const s = scene(() => ({
      status: 403,
      body: {
        message:
          'jobs "job-x" is forbidden: exceeded quota: qinling-jobs, requested: count/qinlingjobs.qinling.io=1, used: count/qinlingjobs.qinling.io=3, limited: count/qinlingjobs.qinling.io=3',
      },
    }));
    const err = await s.store.create('ns-a', obj('1').spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.deep.include({ kind: 'Forbidden', message: QUOTA_REFUSED });
  });

  it('a quota that does not count QinlingJobs yet is a passing 503, not a refusal', async () => {
    const s = scene(() => ({
      status: 403,
      body: {
        message:
          'qinlingjobs.qinling.io "job-x" is forbidden: status unknown for quota: qinling-jobs, resources: count/qinlingjobs.qinling.io',
      },
    }));
    const err = await s.store.create('ns-a', obj('1').spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.deep.include({
      kind: 'Unavailable',
      message: 'The project’s quota is not counted yet; try again shortly.',
    });
  });

  it('a new project’s first job waits until its namespace quota is in force (the controller filled it)', async () => {
    let gets = 0;
    const s = scene(
      (r) => {
        if (r.method === 'GET' && r.path.endsWith('/resourcequotas/qinling-jobs')) {
          gets++;
          const hard = gets < 3 ? {} : { 'count/qinlingjobs.qinling.io': '5', pods: '40' };
          // The controller counts pods at once, QinlingJobs only once its discovery saw the CRD.
          const used = gets < 4 ? { pods: '0' } : { 'count/qinlingjobs.qinling.io': '0', pods: '0' };
          return { status: 200, body: { status: { hard, used } } };
        }
        return { status: 201, body: r.body };
      },
      { quota: { qinlingJobs: 5, cronJobs: 0, jobs: 0, pods: 40, configMaps: 0 } },
    );
    expect(await s.store.namespaceOf('team-h', true)).to.equal('team-h');
    expect(gets).to.equal(4);
    expect(s.requests.map((r) => `${r.method} ${r.path}`).slice(0, 3)).to.deep.equal([
      'POST /api/v1/namespaces',
      'POST /api/v1/namespaces/team-h/resourcequotas',
      'GET /api/v1/namespaces/team-h/resourcequotas/qinling-jobs',
    ]);
  });
});
