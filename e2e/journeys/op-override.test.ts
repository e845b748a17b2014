// Behaviour 7: a nextExecutionTime override: the next run happens then (off the minute grid),
// the tick before it does not fire, and later runs follow the pattern.
import { expect } from 'chai';
import { callsAtLeast, createJob, jobWhere, patchSpec, quietMoment, withOperator } from './operator.js';

describe('journey: operator — next execution time override', function () {
  const scene = withOperator('op-override');

  it('runs at the override, then on the pattern', async function () {
    this.timeout(240_000);
    await quietMoment();
    await createJob(scene.ns, 'moved', { pattern: '* * * * *' });
    await jobWhere(scene.ns, 'moved', 'Running', 30_000, (j) => j.status?.phase === 'Running');
    const boundary = Math.ceil((Date.now() + 5000) / 60_000) * 60_000;
    const override = new Date(boundary + 25_000).toISOString();
    await patchSpec(scene.ns, 'moved', { nextExecutionTime: override });
    const j = await jobWhere(
      scene.ns,
      'moved',
      'the override applied',
      20_000,
      (x) => x.status?.nextExecutionTime === override,
    );
    expect(j.status?.nextRunByOperator).to.equal(true);
    const after = new Date(boundary + 60_000).toISOString();
    await jobWhere(
      scene.ns,
      'moved',
      'the run after the override',
      150_000,
      (x) => (x.status?.executions ?? 0) >= 2,
    );
    const scheduled = (await callsAtLeast(scene.runtime.calls, 2)).map((c) => c.scheduled);
    expect(scheduled.slice(0, 2)).to.deep.equal([override, after]);
    expect(scheduled, 'the pattern tick before the override did not fire').to.not.include(
      new Date(boundary).toISOString(),
    );
  });
});
