// Overlap (issue 16): with overlapPolicy Forbid and a runtime that hangs past the next tick, the
// run due while the first still calls is Skipped (ledger, Event), never started, never Missed.
import { expect } from 'chai';
import { callsAtLeast, clearOfTick, createJob, executions, jobWhere, withOperator } from './operator.js';
import { clients } from './support.js';

describe('journey: overlapPolicy Forbid with a runtime that hangs', function () {
  const scene = withOperator('overlap');

  it('the next slot is Skipped while the first run hangs', async function () {
    this.timeout(300_000);
    await clearOfTick();
    scene.runtime.answer.hang = true;
    await createJob(scene.ns, 'forbid', {
      pattern: '* * * * *',
      overlapPolicy: 'Forbid',
      attemptDeadlineSeconds: 170,
    });
    const [first] = await callsAtLeast(scene.runtime.calls, 1, 100_000);
    const next = new Date(new Date(first?.scheduled ?? 0).getTime() + 60_000).toISOString();
    const j = await jobWhere(scene.ns, 'forbid', `the run for ${next} skipped`, 90_000, (x) =>
      (x.status?.recentRuns ?? []).some((r) => r.scheduledTime === next && r.result === 'Skipped'),
    );
    const skipped = j.status?.recentRuns?.find((r) => r.scheduledTime === next);
    expect(skipped?.message).to.match(/overlapPolicy Forbid/);
    expect(j.status?.recentRuns?.find((r) => r.scheduledTime === first?.scheduled)?.result).to.equal(
      'Running',
    );
    expect(executions(scene.runtime.calls).map((c) => c.scheduled)).to.deep.equal([first?.scheduled]);
    expect(j.status?.missedRuns ?? 0).to.equal(0);
    const events = await clients().core.listNamespacedEvent({ namespace: scene.ns });
    expect(events.items.some((e) => e.reason === 'RunSkipped' && e.message?.includes(next))).to.equal(true);
    scene.runtime.answer.hang = false;
  });
});
