// The facade's kubernetes auth: tokens are Kubernetes ServiceAccount tokens; the facade acts as
// their user, so RBAC decides what each may do, and another namespace's jobs stay invisible.
import { expect } from 'chai';
import { testNamespace } from './support.js';
import { FUNCTION_ID } from './operator.js';
import { labelProject, serviceAccountToken, startFacade, type Facade } from './facade.js';

describe('journey: the facade with kubernetes auth', function () {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let elsewhere: Awaited<ReturnType<typeof testNamespace>>;
  let facade: Facade | undefined;
  const tokens: Record<string, string> = {};

  before(async function () {
    this.timeout(120_000);
    ns = await testNamespace('api-k8s');
    elsewhere = await testNamespace('api-k8s-other');
    await labelProject(ns.name, `p-${ns.name}`);
    tokens.writer = await serviceAccountToken(ns.name, 'writer', [
      'get',
      'list',
      'watch',
      'create',
      'patch',
      'delete',
    ]);
    tokens.reader = await serviceAccountToken(ns.name, 'reader', ['get', 'list']);
    tokens.stranger = await serviceAccountToken(elsewhere.name, 'stranger', []);
    facade = await startFacade(ns.name, '', ['--auth=kubernetes']);
  });
  after(async () => {
    facade?.stop();
    await ns?.remove();
    await elsewhere?.remove();
  });

  async function call(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch((facade?.url ?? '') + path, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { jobs?: { id: string }[] },
    };
  }
  const create = (token: string) =>
    call('POST', '/v1/jobs', token, { function_id: FUNCTION_ID, pattern: '0 5 * * *', name: 'rbac' });

  it('RBAC decides: the writer creates and deletes, the reader reads but may not write', async function () {
    this.timeout(120_000);
    const made = await create(tokens.writer ?? '');
    expect(made.status).to.equal(201);
    expect(made.json.project_id).to.equal(`p-${ns.name}`);
    const id = String(made.json.id);
    expect((await call('GET', `/v1/jobs/${id}`, tokens.reader ?? '')).status).to.equal(200);
    expect((await call('GET', '/v1/jobs', tokens.reader ?? '')).json.jobs?.map((j) => j.id)).to.deep.equal([
      id,
    ]);
    const denied = await create(tokens.reader ?? '');
    expect(denied.status).to.equal(403);
    expect(denied.json.faultstring).to.equal('Operation not allowed'); // RBAC's own text only in the log
    expect((await call('PUT', `/v1/jobs/${id}`, tokens.reader ?? '', { status: 'paused' })).status).to.equal(
      403,
    );
    expect((await call('DELETE', `/v1/jobs/${id}`, tokens.reader ?? '')).status).to.equal(403);
    expect((await call('DELETE', `/v1/jobs/${id}`, tokens.writer ?? '')).status).to.equal(204);
  });

  it('another namespace’s ServiceAccount sees nothing, and may list nothing', async function () {
    this.timeout(30_000);
    const made = await create(tokens.writer ?? '');
    const id = String(made.json.id);
    const seen = await call('GET', `/v1/jobs/${id}`, tokens.stranger ?? '');
    expect(seen.status).to.equal(404);
    expect(seen.json.faultstring).to.equal(`Job not found [id=${id}]`);
    expect((await call('GET', '/v1/jobs', tokens.stranger ?? '')).status).to.equal(403); // RBAC: no list in its own namespace
    expect((await call('GET', '/v1/jobs?all_projects=true', tokens.stranger ?? '')).status).to.equal(403);
  });

  it('an unknown token is a 401', async () => {
    const r = await call('GET', '/v1/jobs', 'not-a-kubernetes-token');
    expect(r.status).to.equal(401);
    expect(r.json.faultstring).to.equal('The request you have made requires authentication.');
  });
});
