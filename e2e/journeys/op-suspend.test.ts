// Behaviour 6: suspend pauses the job (no runs); resuming recomputes the next run from now, and
// a tick that passed while paused is not run late.
import { expect } from 'chai';
import { clients } from './support.js';
import {
  callsAtLeast,
  quietMoment,
  createJob,
  executions,
  jobWhere,
  patchSpec,
  sleep,
  untilNextMinute,
  withOperator,
} from './operator.js';

describe('journey: operator — suspend and resume', function () {
  const scene = withOperator('op-pause');

  it('pauses with no runs, and resumes from now', async function () {
    this.timeout(300_000);
    await quietMoment();
    await createJob(scene.ns, 'pausable', { pattern: '* * * * *' });
    await jobWhere(scene.ns, 'pausable', 'Running', 30_000, (j) => j.status?.phase === 'Running');
    await patchSpec(scene.ns, 'pausable', { suspend: true });
    const paused = await jobWhere(
      scene.ns,
      'pausable',
      'Paused',
      30_000,
      (j) => j.status?.phase === 'Paused',
    );
    expect(paused.status?.phase).to.equal('Paused');
    const cj = await clients().batch.readNamespacedCronJob({ name: 'pausable', namespace: scene.ns });
    expect(cj.spec?.suspend).to.equal(true);
    // Stay paused across a tick, and resume a few seconds after the following one: the
    // CronJob controller would start that tick late (within startingDeadlineSeconds) if let.
    await sleep(untilNextMinute(65));
    expect(executions(scene.runtime.calls), 'no run while paused').to.have.length(0);
    const resumedAt = Date.now();
    await patchSpec(scene.ns, 'pausable', { suspend: false });
    const resumed = await jobWhere(
      scene.ns,
      'pausable',
      'Running again',
      30_000,
      (j) => j.status?.phase === 'Running',
    );
    const next = new Date(resumed.status?.nextExecutionTime ?? 0).getTime();
    expect(next).to.equal(Math.ceil(resumedAt / 60_000) * 60_000); // the first tick after now
    await jobWhere(
      scene.ns,
      'pausable',
      'a run after resuming',
      90_000,
      (j) => (j.status?.executions ?? 0) >= 1,
    );
    const calls = await callsAtLeast(scene.runtime.calls, 1);
    expect(calls.map((c) => new Date(c.scheduled).getTime())).to.deep.equal([next]);
  });
});
