// Long waits (issue 10): a one-shot 40 days ahead waits quietly. Node fires a timer above
// 2^31-1 ms after 1 ms; the operator must not reconcile such a job in a hot loop.
import { expect } from 'chai';
import { createJob, jobWhere, sleep, withOperator } from './operator.js';

async function reconciles(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^qinling_jobs_reconcile_total\{[^}]*\} (\d+)/gm)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
}

describe('journey: operator — a one-shot 40 days ahead', function () {
  const scene = withOperator('op-far');
  it('is planned, then the reconcile counter stays flat over a minute', async function () {
    this.timeout(180_000);
    const at = new Date(Date.now() + 40 * 86_400_000);
    at.setUTCMilliseconds(0);
    await createJob(scene.ns, 'far', { firstExecutionTime: at.toISOString() });
    const j = await jobWhere(scene.ns, 'far', 'Running', 30_000, (x) => x.status?.phase === 'Running');
    expect(j.status?.nextExecutionTime).to.equal(at.toISOString());
    const port = await scene.op.port();
    await sleep(5_000); // our own status write comes back as one more event
    const before = await reconciles(port);
    await sleep(60_000);
    expect((await reconciles(port)) - before).to.equal(0);
  });
});
