// Behaviour 4: a first execution time minutes ahead: nothing before it, then the first run at
// the tick Qinling's rule gives (the first tick searching from one minute before that time).
import { expect } from 'chai';
import { eventually } from './support.js';
import { createJob, executions, jobWhere, sleep, withOperator } from './operator.js';

describe('journey: operator — first execution time ahead', function () {
  const scene = withOperator('op-first');

  it('does not run before, and first runs at the rule’s tick', async function () {
    this.timeout(300_000);
    const boundary = Math.ceil(Date.now() / 60_000) * 60_000;
    const first = new Date(boundary + 2 * 60_000 + 30_000); // mid-minute, two minutes ahead
    const expected = new Date(boundary + 2 * 60_000).toISOString(); // searched from a minute before
    await createJob(scene.ns, 'later', { pattern: '* * * * *', firstExecutionTime: first.toISOString() });
    const j = await jobWhere(scene.ns, 'later', 'planned', 30_000, (x) => !!x.status?.nextExecutionTime);
    expect(j.status?.firstExecutionTime).to.equal(expected);
    expect(j.status?.nextExecutionTime).to.equal(expected);
    await sleep(new Date(expected).getTime() - Date.now() - 1000);
    expect(executions(scene.runtime.calls), 'no run before the first execution time').to.have.length(0);
    const ran = await jobWhere(
      scene.ns,
      'later',
      'the first run',
      60_000,
      (x) => (x.status?.executions ?? 0) >= 1,
    );
    expect(ran.status?.lastExecution?.scheduledTime).to.equal(expected);
    // Status counts a run when its Job starts; its call to the runtime follows a moment later.
    const calls = await eventually('the call', 30_000, () => {
      const c = executions(scene.runtime.calls);
      return c.length >= 1 ? c : undefined;
    });
    expect(calls).to.have.length(1);
    expect(calls[0]?.scheduled).to.equal(expected);
  });
});
