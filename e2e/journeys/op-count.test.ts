// Behaviour 3: count 2 on every minute: exactly two executions, then Done, and no third.
import { expect } from 'chai';
import { eventually } from './support.js';
import { clearOfTick, createJob, executions, jobWhere, sleep, withOperator } from './operator.js';

describe('journey: operator — count', function () {
  const scene = withOperator('op-count');

  it('runs exactly twice, is Done with nothing remaining, and stays quiet after', async function () {
    this.timeout(300_000);
    await clearOfTick();
    await createJob(scene.ns, 'twice', { pattern: '* * * * *', count: 2 });
    const started = await jobWhere(
      scene.ns,
      'twice',
      'Running',
      30_000,
      (j) => j.status?.phase === 'Running',
    );
    expect(started.status?.remaining).to.equal(2);
    const done = await jobWhere(scene.ns, 'twice', 'Done', 200_000, (j) => j.status?.phase === 'Done');
    expect(done.status?.remaining).to.equal(0);
    expect(done.status?.executions).to.equal(2);
    expect(done.status?.nextExecutionTime).to.equal(undefined);
    // Status counts a run when its Job starts; its call to the runtime follows a moment later.
    const calls = await eventually('both calls', 30_000, () => {
      const c = executions(scene.runtime.calls);
      return c.length >= 2 ? c : undefined;
    });
    expect(calls).to.have.length(2);
    expect(
      new Date(calls[1]?.scheduled ?? 0).getTime() - new Date(calls[0]?.scheduled ?? 0).getTime(),
    ).to.equal(60_000);
    await sleep(75_000); // past the next tick
    expect(executions(scene.runtime.calls)).to.have.length(2);
    const after = await jobWhere(scene.ns, 'twice', 'still Done', 5_000, (j) => j.status?.phase === 'Done');
    expect(after.status?.executions).to.equal(2);
  });
});
