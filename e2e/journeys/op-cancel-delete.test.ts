// Behaviours 8 and 9: cancel stops all further runs and keeps the job visible as Cancelled;
// delete stops all further runs and its CronJob and Jobs are collected.
import { expect } from 'chai';
import { clients, eventually } from './support.js';
import {
  callsAtLeast,
  createJob,
  deleteJob,
  executions,
  getJob,
  jobWhere,
  patchSpec,
  sleep,
  untilNextMinute,
  withOperator,
} from './operator.js';

describe('journey: operator — cancel and delete', function () {
  const { batch, core } = clients();
  const scene = withOperator('op-cancel');

  it('after one run each: cancel keeps the job, delete removes it and its children; no run after either', async function () {
    this.timeout(240_000);
    const [cancelled, deleted] = await Promise.all([
      createJob(scene.ns, 'to-cancel', { pattern: '* * * * *' }),
      createJob(scene.ns, 'to-delete', { pattern: '* * * * *' }),
    ]);
    await jobWhere(scene.ns, 'to-cancel', 'a first run', 130_000, (j) => (j.status?.executions ?? 0) >= 1);
    await jobWhere(scene.ns, 'to-delete', 'a first run', 30_000, (j) => (j.status?.executions ?? 0) >= 1);
    // Both first runs' calls have arrived (a run is counted when its Job starts, the call follows).
    const firstRuns = await callsAtLeast(scene.runtime.calls, 2);
    const lastScheduled = Math.max(...firstRuns.map((x) => new Date(x.scheduled).getTime()));
    await patchSpec(scene.ns, 'to-cancel', { cancelled: true });
    await deleteJob(scene.ns, 'to-delete');

    const c = await jobWhere(
      scene.ns,
      'to-cancel',
      'Cancelled',
      20_000,
      (j) => j.status?.phase === 'Cancelled',
    );
    expect(c.status?.nextExecutionTime).to.equal(undefined);
    expect(
      (await batch.readNamespacedCronJob({ name: 'to-cancel', namespace: scene.ns })).spec?.suspend,
    ).to.equal(true);
    await eventually('the deleted job’s CronJob, Jobs and Pods to be collected', 60_000, async () => {
      const [cjs, jobs, pods] = await Promise.all([
        batch.listNamespacedCronJob({
          namespace: scene.ns,
          labelSelector: `qinling.io/job-uid=${deleted.metadata.uid}`,
        }),
        batch.listNamespacedJob({
          namespace: scene.ns,
          labelSelector: `qinling.io/job-uid=${deleted.metadata.uid}`,
        }),
        core.listNamespacedPod({
          namespace: scene.ns,
          labelSelector: `qinling.io/job-uid=${deleted.metadata.uid}`,
        }),
      ]);
      return cjs.items.length + jobs.items.length + pods.items.length === 0;
    });
    await sleep(untilNextMinute(20)); // past the next tick
    const late = executions(scene.runtime.calls).filter(
      (x) => new Date(x.scheduled).getTime() > lastScheduled,
    );
    expect(late, 'no run after cancel or delete').to.deep.equal([]);
    expect(executions(scene.runtime.calls)).to.have.length(2);
    const still = await getJob(scene.ns, 'to-cancel');
    expect(still.metadata.uid).to.equal(cancelled.metadata.uid);
    expect(still.status?.phase).to.equal('Cancelled');
  });
});
