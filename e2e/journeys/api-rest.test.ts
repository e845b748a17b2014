// The REST facade on the local cluster with the operator: jobs created through Qinling's API
// become QinlingJobs with CronJobs, their status flows back into the wire fields, pause/resume
// and delete work, and projects do not see each other's jobs.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { clients, clusterDir, eventually, kubectl, testNamespace } from './support.js';
import { labelProject, startFacade, type Facade } from './facade.js';
import { callsAtLeast, FUNCTION_ID, getJob, jobByUid, withOperator } from './operator.js';

interface Wire {
  [k: string]: unknown;
  id: string;
  status: string;
  count: number | null;
  next_execution_time: string | null;
}

describe('journey: the REST facade', function () {
  const { batch } = clients();
  const scene = withOperator('api-rest');
  let other: Awaited<ReturnType<typeof testNamespace>>;
  let facade: Facade | undefined;
  let base = '';
  // Unique per run: a namespace of an earlier run may still be terminating with its label.
  const run = Math.random().toString(36).slice(2, 8);
  const P1 = `proj-one-${run}`;
  const P2 = `proj-two-${run}`;

  before(async function () {
    this.timeout(120_000);
    other = await testNamespace('api-other');
    await labelProject(scene.ns, P1);
    await labelProject(other.name, P2);
    facade = await startFacade(
      scene.ns,
      `tok-one,alice,${P1},member\ntok-two,bob,${P2},member\ntok-admin,root,${P1},admin\n`,
      ['--create-namespaces=false'],
    );
    base = facade.url;
  });
  after(async () => {
    facade?.stop();
    await other?.remove();
  });

  async function call(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as Wire & { jobs?: Wire[] } };
  }

  let id = '';
  it('POST makes a QinlingJob with an owned CronJob, in the project’s namespace', async function () {
    this.timeout(30_000);
    const r = await call('POST', '/v1/jobs', 'tok-one', {
      name: 'rest job',
      function_id: FUNCTION_ID,
      function_alias: null,
      function_version: 0,
      first_execution_time: null,
      pattern: '* * * * *',
      function_input: '{"via": "rest"}',
      count: 3,
    });
    expect(r.status).to.equal(201);
    id = r.json.id;
    expect(r.json).to.include({ status: 'running', count: 3, project_id: P1, name: 'rest job' });
    expect(r.json.next_execution_time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    const shown = await call('GET', `/v1/jobs/${id}`, 'tok-one'); // read-your-writes
    expect(shown.status).to.equal(200);
    const mine = await jobByUid(scene.ns, id);
    expect(mine, 'a QinlingJob whose uid is the REST id').to.not.equal(undefined);
    await eventually('its CronJob', 20_000, () =>
      batch.readNamespacedCronJob({ name: mine?.metadata.name ?? '', namespace: scene.ns }),
    );
  });

  it('status flows back: after a run, count and next_execution_time move', async function () {
    this.timeout(150_000);
    const before = (await call('GET', `/v1/jobs/${id}`, 'tok-one')).json;
    await callsAtLeast(scene.runtime.calls, 1, 130_000);
    const after = await eventually('count 2', 20_000, async () => {
      const j = (await call('GET', `/v1/jobs/${id}`, 'tok-one')).json;
      return j.count === 2 ? j : undefined;
    });
    expect(new Date(after.next_execution_time ?? 0).getTime()).to.be.above(
      new Date(before.next_execution_time ?? 0).getTime(),
    );
  });

  it('keeps projects apart, and lets the admin see all', async function () {
    this.timeout(20_000);
    expect((await call('GET', `/v1/jobs/${id}`, 'tok-two')).status).to.equal(404);
    expect((await call('GET', '/v1/jobs', 'tok-two')).json.jobs).to.deep.equal([]);
    expect((await call('GET', '/v1/jobs?all_projects=true', 'tok-two')).status).to.equal(403);
    const all = (await call('GET', '/v1/jobs?all_projects=true', 'tok-admin')).json.jobs ?? [];
    expect(all.map((j) => j.id)).to.include(id);
  });

  it('shows a job made with kubectl in the project’s namespace', async function () {
    this.timeout(60_000);
    const file = `${clusterDir}/api/${scene.ns}-kubectl.json`;
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: 'by-kubectl' },
        spec: { name: 'made by kubectl', functionId: FUNCTION_ID, pattern: '0 3 * * *' },
      }),
    );
    await kubectl('apply', '-n', scene.ns, '-f', file);
    const uid = (await getJob(scene.ns, 'by-kubectl')).metadata.uid;
    const j = await eventually('the kubectl job through the API', 30_000, async () => {
      const r = await call('GET', `/v1/jobs/${uid}`, 'tok-one');
      return r.status === 200 ? r.json : undefined;
    });
    expect(j).to.include({
      id: uid,
      name: 'made by kubectl',
      pattern: '0 3 * * *',
      project_id: P1,
      status: 'running',
    });
  });

  it('PUT pauses and resumes; DELETE removes the job and its CronJob', async function () {
    this.timeout(120_000);
    const paused = await call('PUT', `/v1/jobs/${id}`, 'tok-one', {
      name: null,
      status: 'paused',
      pattern: null,
      next_execution_time: null,
      function_input: null,
    });
    expect(paused.status).to.equal(200);
    expect(paused.json.status).to.equal('paused');
    const name = (await jobByUid(scene.ns, id))?.metadata.name ?? '';
    await eventually(
      'the CronJob suspended',
      20_000,
      async () => (await batch.readNamespacedCronJob({ name, namespace: scene.ns })).spec?.suspend === true,
    );
    const resumed = await call('PUT', `/v1/jobs/${id}`, 'tok-one', { status: 'running' });
    expect(resumed.json.status).to.equal('running');
    const del = await fetch(`${base}/v1/jobs/${id}`, {
      method: 'DELETE',
      headers: { 'x-auth-token': 'tok-one', 'content-type': 'application/json' },
    });
    expect(del.status).to.equal(204);
    expect(await del.text()).to.equal('');
    expect((await call('GET', `/v1/jobs/${id}`, 'tok-one')).status).to.equal(404);
    await eventually('the CronJob collected', 30_000, async () => {
      try {
        await batch.readNamespacedCronJob({ name, namespace: scene.ns });
        return false;
      } catch {
        return true;
      }
    });
  });
});
