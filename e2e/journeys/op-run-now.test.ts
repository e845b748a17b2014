// Run now (issue 15), on a job whose next tick is months away: through REST and through kubectl,
// exactly one call each, with keys of their own and who asked; the same request again starts
// nothing; a request accepted while the operator is down runs once after it is back.
import { expect } from 'chai';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { withFacade } from './facade.js';
import { executions, FUNCTION_ID, jobByUid, sleep, startOperator, withOperator } from './operator.js';
import { clients, eventually } from './support.js';

interface RunAnswer {
  id: string;
  job_id: string;
  requested_by: string;
}

describe('journey: run now, by REST and by kubectl', function () {
  const scene = withOperator('run-now');
  const facade = withFacade(scene, 'run');
  const project = facade.project;
  const custom = clients().kc.makeApiClient(CustomObjectsApi);
  const call = facade.call;

  async function runNow(jobId: string, key: string): Promise<RunAnswer> {
    const res = await fetch(`${facade.url()}/v1/jobs/${jobId}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': 'tok', 'idempotency-key': key },
      body: JSON.stringify({ function_input: `{"asked": "${key}"}` }),
    });
    expect(res.status).to.equal(202);
    return (await res.json()) as RunAnswer;
  }
  const callsWithKey = (key: string) => executions(scene.runtime.calls).filter((c) => c.key === key);

  it('REST: one call with its own key, input and requester; the same Idempotency-Key again starts nothing', async function () {
    this.timeout(180_000);
    const job = await call<{ id: string }>('POST', '/v1/jobs', {
      function_id: FUNCTION_ID,
      pattern: '0 3 1 1 *',
    });
    const first = await runNow(job.id, 'rest-1');
    expect(first).to.deep.include({ job_id: job.id, requested_by: `alice@${project}` });
    expect((await runNow(job.id, 'rest-1')).id).to.equal(first.id);
    const key = `${job.id}/manual/${first.id}`;
    const [c] = await eventually('the run by hand to call', 90_000, () => {
      const mine = callsWithKey(key);
      return mine.length > 0 ? mine : undefined;
    });
    expect(c?.body.input).to.equal('{"asked": "rest-1"}');
    const raw = scene.runtime.calls.find((x) => x.headers['idempotency-key'] === key);
    expect(raw?.headers).to.include({
      'x-qinling-trigger': 'manual',
      'x-qinling-requested-by': `alice@${project}`,
    });
    await eventually('the request marked started', 30_000, async () => {
      const st = (await jobByUid(scene.ns, job.id))?.status;
      return st?.runRequests?.find((r) => r.id === first.id)?.started === true;
    });
    expect((await runNow(job.id, 'rest-1')).id).to.equal(first.id); // taken: still nothing new
    await sleep(10_000);
    expect(callsWithKey(key)).to.have.length(1);
    const wire = await call<{ count: number | null; status: string }>('GET', `/v1/jobs/${job.id}`);
    expect(wire.status).to.equal('running'); // and no count was consumed (none was set)
  });

  it('kubectl: a new runRequests entry runs once, with its own key; applying it again starts nothing', async function () {
    this.timeout(180_000);
    const job = await call<{ id: string }>('POST', '/v1/jobs', {
      function_id: FUNCTION_ID,
      pattern: '0 3 1 1 *',
      count: 2,
    });
    const name = (await jobByUid(scene.ns, job.id))?.metadata.name ?? '';
    const patch = (runRequests: unknown[]) =>
      custom.patchNamespacedCustomObject(
        {
          group: 'qinling.io',
          version: 'v1',
          plural: 'qinlingjobs',
          namespace: scene.ns,
          name,
          body: { spec: { runRequests } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await patch([{ id: 'by-kubectl', requestedBy: 'local-admin' }]);
    const key = `${job.id}/manual/by-kubectl`;
    await eventually('the kubectl run to call', 90_000, () => callsWithKey(key).length === 1);
    await patch([{ id: 'by-kubectl', requestedBy: 'local-admin' }]);
    await sleep(10_000);
    expect(callsWithKey(key)).to.have.length(1);
    const st = (await jobByUid(scene.ns, job.id))?.status;
    expect(st?.remaining).to.equal(2); // a run by hand consumes no count
    expect(st?.runRequests?.map((r) => [r.id, r.started])).to.deep.equal([['by-kubectl', true]]);
  });

  it('a request accepted while the operator is down runs exactly once after it is back', async function () {
    this.timeout(240_000);
    const job = await call<{ id: string }>('POST', '/v1/jobs', {
      function_id: FUNCTION_ID,
      pattern: '0 3 1 1 *',
    });
    await eventually(
      'the operator to plan it',
      30_000,
      async () => (await jobByUid(scene.ns, job.id))?.status,
    );
    await scene.op.stop();
    const asked = await runNow(job.id, 'while-down');
    await sleep(5000);
    const key = `${job.id}/manual/${asked.id}`;
    expect(callsWithKey(key)).to.have.length(0);
    scene.op = await startOperator(scene.ns, scene.runtime.url, { identity: 'op-2' });
    await eventually('the run after the restart', 120_000, () => callsWithKey(key).length === 1);
    await sleep(10_000);
    expect(callsWithKey(key)).to.have.length(1);
  });
});
