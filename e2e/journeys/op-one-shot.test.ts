// Behaviour 5: a one-shot job at an off-grid second runs exactly once, then, within seconds.
import { expect } from 'chai';
import { clients } from './support.js';
import { callsAtLeast, createJob, executions, jobWhere, sleep, withOperator } from './operator.js';

describe('journey: operator — a one-shot job', function () {
  const scene = withOperator('op-once');

  it('runs once at its second, then is Done', async function () {
    this.timeout(120_000);
    let at = new Date(Math.floor(Date.now() / 1000) * 1000 + 25_000);
    if (at.getUTCSeconds() === 0) at = new Date(at.getTime() + 7000); // off the minute grid
    await createJob(scene.ns, 'once', { firstExecutionTime: at.toISOString(), functionInput: 'once' });
    const planned = await jobWhere(scene.ns, 'once', 'planned', 20_000, (j) => !!j.status?.nextExecutionTime);
    expect(planned.status?.nextExecutionTime).to.equal(at.toISOString());
    expect(planned.status?.remaining).to.equal(1);
    const cj = await clients().batch.readNamespacedCronJob({ name: 'once', namespace: scene.ns });
    expect(cj.spec?.suspend, 'the CronJob never fires a one-shot').to.equal(true);

    const done = await jobWhere(scene.ns, 'once', 'Done', 60_000, (j) => j.status?.phase === 'Done');
    expect(done.status?.executions).to.equal(1);
    expect(done.status?.remaining).to.equal(0);
    const calls = await callsAtLeast(scene.runtime.calls, 1);
    expect(calls).to.have.length(1);
    expect(calls[0]?.scheduled).to.equal(at.toISOString());
    const lateBy = (calls[0]?.at.getTime() ?? 0) - at.getTime();
    expect(lateBy).to.be.within(0, 10_000);
    await sleep(15_000);
    expect(executions(scene.runtime.calls)).to.have.length(1);
  });
});
