// Retries (issue 16): a run whose runtime fails twice for a transient reason and then answers
// is called three times by its one pod, every call with the slot's Idempotency-Key and its
// attempt number, and the ledger shows the run Succeeded after 3 attempts, each with its status.
// A refusal (4xx) is called once.
import { expect } from 'chai';
import { createJob, jobWhere, withOperator } from './operator.js';
import type { QinlingJob, RunRecord } from '../../domain/types.js';

const finalRun = (j: QinlingJob): RunRecord | undefined =>
  j.status?.recentRuns?.find((r) => r.result !== 'Running' && r.result !== 'Missed');

describe('journey: retries with backoff', function () {
  const scene = withOperator('retries');

  it('fails twice then succeeds: 3 calls, one key, attempts 1-3, Succeeded in the ledger', async function () {
    this.timeout(180_000);
    scene.runtime.answer.next.push(503, 500);
    const at = new Date(Math.ceil((Date.now() + 20_000) / 1000) * 1000);
    await createJob(scene.ns, 'flaky', {
      firstExecutionTime: at.toISOString(),
      maxAttempts: 4,
      minBackoffSeconds: 1,
      maxBackoffSeconds: 2,
    });
    const j = await jobWhere(scene.ns, 'flaky', 'the run final in the ledger', 150_000, (x) => !!finalRun(x));
    const calls = scene.runtime.calls.filter((c) => c.url === '/v1/executions');
    expect(calls.map((c) => c.headers['x-qinling-attempt'])).to.deep.equal(['1', '2', '3']);
    const uid = j.metadata.uid;
    expect(calls.map((c) => c.headers['idempotency-key'])).to.deep.equal(
      Array(3).fill(`${uid}/${at.toISOString()}`),
    );
    const [a, b, c] = calls.map((x) => x.at.getTime());
    expect((b ?? 0) - (a ?? 0)).to.be.at.least(1000); // backoff 1 s, then 2 s
    expect((c ?? 0) - (b ?? 0)).to.be.at.least(2000);
    const run = finalRun(j);
    expect(run).to.include({ result: 'Succeeded', attempt: 3, httpStatus: 200, trigger: 'operator' });
    expect(run?.attempts?.map((x) => x.httpStatus)).to.deep.equal([503, 500, 200]);
    expect(j.status).to.include({ succeeded: 1 });
    expect(j.status?.phase).to.equal('Done');
  });

  it('a refusal (HTTP 404) is never called again: one call, Failed', async function () {
    this.timeout(180_000);
    const before = scene.runtime.calls.length;
    scene.runtime.answer.next.push(404);
    const at = new Date(Math.ceil((Date.now() + 20_000) / 1000) * 1000);
    await createJob(scene.ns, 'refused', { firstExecutionTime: at.toISOString(), maxAttempts: 4 });
    const j = await jobWhere(scene.ns, 'refused', 'the run final', 150_000, (x) => !!finalRun(x));
    expect(scene.runtime.calls.length - before).to.equal(1);
    expect(finalRun(j)).to.include({ result: 'Failed', attempt: 1, httpStatus: 404 });
  });
});
