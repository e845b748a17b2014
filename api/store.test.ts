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
import { derivedNamespace, KubeJobStore, OVERLAY_TTL_MS } from './store.js';

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

function scene(answer: (r: KubeRequest) => KubeResponse, storeLog = log) {
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
  });
  return { store, jobsLw, requests, advance: (ms: number) => (t += ms) };
}

describe('KubeJobStore over fakes', () => {
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
      const s = scene(() => ({ status: tc.status, body: { kind: 'Status', message: secret } }), kept);
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
});
