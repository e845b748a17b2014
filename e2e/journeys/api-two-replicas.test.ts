// Read-your-writes across replicas (issue 11): the chart runs two API replicas behind one
// Service, and a client's create and its next read can land on different ones. Each read at once
// on the other replica finds the job (its cache may lag: it reads through to the apiserver).
import { expect } from 'chai';
import { labelProject, startFacade, type Facade } from './facade.js';
import { FUNCTION_ID } from './operator.js';
import { testNamespace } from './support.js';

describe('journey: two API replicas', function () {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const replicas: Facade[] = [];
  const project = `proj-two-${Math.random().toString(36).slice(2, 8)}`;
  before(async function () {
    this.timeout(150_000);
    ns = await testNamespace('api-two');
    await labelProject(ns.name, project);
    const tokens = `tok,alice,${project},member\n`;
    replicas.push(await startFacade(`${ns.name}-a`, tokens, ['--create-namespaces=false']));
    replicas.push(await startFacade(`${ns.name}-b`, tokens, ['--create-namespaces=false']));
  });
  after(async () => {
    for (const r of replicas) r.stop();
    await ns?.remove();
  });

  it('a job created on one replica is found on the other at once, every time', async function () {
    this.timeout(60_000);
    const [a, b] = replicas as [Facade, Facade];
    const headers = { 'content-type': 'application/json', 'x-auth-token': 'tok' };
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const made = await fetch(`${a.url}/v1/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ function_id: FUNCTION_ID, pattern: '0 0 1 1 *', name: `n${i}` }),
      });
      expect(made.status).to.equal(201);
      const { id } = (await made.json()) as { id: string };
      const shown = await fetch(`${b.url}/v1/jobs/${id}`, { headers });
      statuses.push(shown.status);
      if (shown.status === 200) expect(((await shown.json()) as { name: string }).name).to.equal(`n${i}`);
    }
    expect(statuses.filter((s) => s !== 200)).to.deep.equal([]);
  });
});
