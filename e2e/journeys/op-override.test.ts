// Behaviour 7: a nextExecutionTime override: the next run happens then (off the minute grid),
// the tick before it does not fire, and later runs follow the pattern.
import { expect } from 'chai';
import { recorder, testNamespace } from './support.js';
import {
  callsAtLeast,
  createJob,
  jobWhere,
  patchSpec,
  startOperator,
  type OperatorProcess,
} from './operator.js';

describe('journey: operator — next execution time override', function () {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let runtime: Awaited<ReturnType<typeof recorder>>;
  let op: OperatorProcess;
  before(async () => {
    ns = await testNamespace('op-override');
    runtime = await recorder();
    op = await startOperator(ns.name, runtime.url);
  });
  after(async () => {
    await op.stop();
    await runtime.close();
    await ns.remove();
  });

  it('runs at the override, then on the pattern', async function () {
    this.timeout(240_000);
    await createJob(ns.name, 'moved', { pattern: '* * * * *' });
    await jobWhere(ns.name, 'moved', 'Running', 30_000, (j) => j.status?.phase === 'Running');
    const boundary = Math.ceil((Date.now() + 5000) / 60_000) * 60_000;
    const override = new Date(boundary + 25_000).toISOString();
    await patchSpec(ns.name, 'moved', { nextExecutionTime: override });
    const j = await jobWhere(
      ns.name,
      'moved',
      'the override applied',
      20_000,
      (x) => x.status?.nextExecutionTime === override,
    );
    expect(j.status?.nextRunByOperator).to.equal(true);
    const after = new Date(boundary + 60_000).toISOString();
    await jobWhere(
      ns.name,
      'moved',
      'the run after the override',
      150_000,
      (x) => (x.status?.executions ?? 0) >= 2,
    );
    const scheduled = (await callsAtLeast(runtime.calls, 2)).map((c) => c.scheduled);
    expect(scheduled.slice(0, 2)).to.deep.equal([override, after]);
    expect(scheduled, 'the pattern tick before the override did not fire').to.not.include(
      new Date(boundary).toISOString(),
    );
  });
});
