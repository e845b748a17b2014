// Miss truth (issue 10): with kube-controller-manager stopped over a tick, nothing fires it; the
// operator reports the miss (Event MissedRun, status) within seconds of its deadline and moves
// on. Restarted, the controller starts no duplicate. Serial: every other journey needs it.
import { expect } from 'chai';
import { clients, clusterComponent, eventually } from '../support.js';
import {
  callsAtLeast,
  clearOfTick,
  createJob,
  executions,
  jobWhere,
  sleep,
  untilNextMinute,
  withOperator,
} from '../operator.js';
import { MISSED_GRACE_MS } from '../../../domain/settle.js';

const DEADLINE_S = 20;

describe('journey: serial — kube-controller-manager away over a tick', function () {
  const scene = withOperator('kcm-away');
  after(() => clusterComponent('start', 'kube-controller-manager'));

  it('reports the missed tick within seconds of its deadline, and no duplicate follows', async function () {
    this.timeout(420_000);
    await clearOfTick();
    await createJob(scene.ns, 'minutely', { pattern: '* * * * *' });
    const first = await callsAtLeast(scene.runtime.calls, 1, 100_000);
    await sleep(3000);
    await clusterComponent('stop', 'kube-controller-manager');
    const missed = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
    const due = missed.getTime() + DEADLINE_S * 1000 + MISSED_GRACE_MS;
    await sleep(untilNextMinute() + DEADLINE_S * 1000 + MISSED_GRACE_MS);
    const j = await jobWhere(scene.ns, 'minutely', 'the miss in status', 15_000, (x) =>
      (x.status?.recentMisses ?? []).includes(missed.toISOString()),
    );
    const seenLate = Date.now() - due;
    expect(new Date(j.status?.nextExecutionTime ?? 0).getTime()).to.be.greaterThan(missed.getTime());
    const events = await clients().core.listNamespacedEvent({ namespace: scene.ns });
    const ev = events.items.find(
      (e) => e.reason === 'MissedRun' && e.message?.includes(missed.toISOString()),
    );
    expect(ev, 'MissedRun event').to.not.equal(undefined);
    console.log(`      (miss reported ${(seenLate / 1000).toFixed(1)} s after deadline + grace)`);
    await clusterComponent('start', 'kube-controller-manager');
    const after = executions(scene.runtime.calls).length;
    await eventually(
      'a run after the restart',
      100_000,
      () => executions(scene.runtime.calls).length > after,
    );
    const times = executions(scene.runtime.calls).map((c) => c.scheduled);
    expect(times).to.not.include(missed.toISOString());
    expect(new Set(times).size).to.equal(times.length);
    expect(first.length).to.be.at.least(1);
  });
});
