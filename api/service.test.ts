// The service's decisions over the in-memory store: per-project quotas refused before anything
// is written, and, under kubernetes auth, every write the facade makes checked against RBAC
// for the caller (no namespace made for a caller RBAC would refuse).
import { expect } from 'chai';
import { DomainError } from '../domain/errors.js';
import { FakeStore, NOW } from '../fakes/store.js';
import type { Caller } from './auth.js';
import { JobService, type ServiceOptions } from './service.js';

const FID = '5b2a7c1e-1111-4222-8333-944455556666';
const member = (projectId: string): Caller => ({ userId: 'u', projectId, roles: [], isAdmin: false });
const body = (input = '') => ({ function_id: FID, pattern: '0 * * * *', function_input: input });

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'refused').to.be.instanceOf(DomainError);
  return err as DomainError;
}

function service(opts: Partial<ServiceOptions> = {}) {
  const store = new FakeStore();
  return { store, svc: new JobService(store, { createNamespaces: true, ...opts }, () => NOW) };
}

describe('service: per-project quotas', () => {
  it('refuses the job past maxJobsPerProject with 403, before anything is written', async () => {
    const { store, svc } = service({ maxJobsPerProject: 3 });
    for (let i = 0; i < 3; i++) await svc.create(member('proj-a'), body());
    const err = await refusal(svc.create(member('proj-a'), body()));
    expect(err.kind).to.equal('Forbidden');
    expect(err.message).to.equal(
      'Quota exceeded: project proj-a may hold at most 3 jobs; delete some first.',
    );
    expect(store.list('ns-a')).to.have.length(3);
    await svc.create(member('proj-b'), body()); // another project's count is its own
    expect(store.list('ns-b')).to.have.length(1);
  });

  it('counts input in UTF-8 bytes across the project, refusing past the total with 413', async () => {
    const { store, svc } = service({ maxInputBytesPerProject: 1000 });
    await svc.create(member('proj-a'), body('€'.repeat(300))); // 900 bytes, 300 UTF-16 units
    const err = await refusal(svc.create(member('proj-a'), body('x'.repeat(101))));
    expect(err.kind).to.equal('TooLarge');
    expect(store.list('ns-a')).to.have.length(1);
    await svc.create(member('proj-a'), body('x'.repeat(100)));
    await svc.create(member('proj-b'), body('y'.repeat(1000)));
  });

  it('counts a PUT’s new input in place of the old one', async () => {
    const { store, svc } = service({ maxInputBytesPerProject: 1000 });
    const a = await svc.create(member('proj-a'), body('a'.repeat(600)));
    await svc.create(member('proj-a'), body('b'.repeat(300)));
    await svc.update(member('proj-a'), a.id, { function_input: 'c'.repeat(700) }); // 700 + 300
    const err = await refusal(svc.update(member('proj-a'), a.id, { function_input: 'd'.repeat(701) }));
    expect(err.kind).to.equal('TooLarge');
    expect(store.byId(a.id)?.spec.functionInput).to.equal('c'.repeat(700));
  });

  it('concurrent creates of one project cannot pass the count together (in-flight ones are counted)', async () => {
    const { store, svc } = service({ maxJobsPerProject: 3 });
    store.createDelayMs = 20; // an apiserver round trip: the job is not there until it ends
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => svc.create(member('proj-a'), body())),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(3);
    expect(store.list('ns-a')).to.have.length(3);
    const other = await svc.create(member('proj-b'), body()); // another project is not held up
    expect(other.status).to.equal('running');
  });

  it('concurrent creates cannot pass the input bytes together either', async () => {
    const { store, svc } = service({ maxInputBytesPerProject: 1000 });
    store.createDelayMs = 20;
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => svc.create(member('proj-a'), body('x'.repeat(300)))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(3);
    for (const r of results.filter((x) => x.status === 'rejected'))
      expect((r.reason as DomainError).kind).to.equal('TooLarge');
  });

  it('under the quota, one project’s creates run concurrently, not one at a time', async () => {
    const { store, svc } = service({ maxJobsPerProject: 100 });
    store.createDelayMs = 20;
    let inFlight = 0;
    let most = 0;
    const create = store.create.bind(store);
    store.create = async (...args) => {
      most = Math.max(most, ++inFlight);
      try {
        return await create(...args);
      } finally {
        inFlight--;
      }
    };
    await Promise.all(Array.from({ length: 8 }, () => svc.create(member('proj-a'), body())));
    expect(most).to.equal(8);
    expect(store.list('ns-a')).to.have.length(8);
  });

  it('no limit when the limits are 0', async () => {
    const { svc } = service({ maxJobsPerProject: 0, maxInputBytesPerProject: 0 });
    for (let i = 0; i < 20; i++) await svc.create(member('proj-a'), body('z'.repeat(1000)));
  });
});

describe('service: kubernetes auth writes only what RBAC allows the caller', () => {
  const asked: string[] = [];
  const rbac =
    (allowed: string[]): Caller['can'] =>
    (verb, ns) => {
      asked.push(`${verb} ${ns}`);
      return Promise.resolve(allowed.includes(`${verb} ${ns}`));
    };
  const caller = (projectId: string, allowed: string[]): Caller => ({
    ...member(projectId),
    can: rbac(allowed),
  });

  it('refuses a create, patch or delete RBAC refuses, and writes nothing', async () => {
    const { store, svc } = service();
    const made = await svc.create(caller('proj-a', ['create ns-a', 'get ns-a']), body('one'));
    const reader = caller('proj-a', ['get ns-a', 'list ns-a']);
    expect((await refusal(svc.create(reader, body()))).kind).to.equal('Forbidden');
    expect((await refusal(svc.update(reader, made.id, { function_input: 'two' }))).kind).to.equal(
      'Forbidden',
    );
    expect((await refusal(svc.remove(reader, made.id))).kind).to.equal('Forbidden');
    expect(store.list('ns-a').map((j) => j.spec.functionInput)).to.deep.equal(['one']);
  });

  it('makes no namespace for a caller RBAC would not let make jobs (no squatting a name)', async () => {
    const { store, svc } = service();
    asked.length = 0;
    const err = await refusal(svc.create(caller('payments', ['create payments']), body()));
    expect(err.kind).to.equal('Forbidden');
    expect(asked[0]).to.equal('create ');
    expect([...store.namespaces.keys()]).to.not.include('payments');
    await svc.create(caller('payments', ['create ', 'create payments']), body());
    expect([...store.namespaces.keys()]).to.include('payments');
  });
});

describe('service: a job id that is no UUID', () => {
  const cases = [
    'not-a-uuid',
    '../../metrics',
    '5b2a7c1e-1111-4222-8333-94445555666',
    '%00',
    'x'.repeat(300),
  ];
  for (const id of cases)
    it(`${id.slice(0, 40)}: 400, as Qinling's UUID-typed routes answered`, async () => {
      const { svc } = service();
      for (const call of [
        () => svc.get(member('proj-a'), id),
        () => svc.update(member('proj-a'), id, { status: 'paused' }),
        () => svc.remove(member('proj-a'), id),
      ]) {
        const err = await refusal(call());
        expect(err.kind).to.equal('BadRequest');
        expect(err.message).to.equal(`Expected a uuid but received ${id}.`);
      }
    });

  it('a well-formed id of no job (also upper case) is still 404 Job not found', async () => {
    const { svc } = service();
    for (const id of ['5b2a7c1e-1111-4222-8333-944455556666', '5B2A7C1E-1111-4222-8333-944455556666']) {
      const err = await refusal(svc.get(member('proj-a'), id));
      expect(err.kind).to.equal('NotFound');
    }
  });
});
