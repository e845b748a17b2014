// Behaviours 8 and 9: cancel stops all further runs and keeps the job visible as Cancelled;
// delete stops all further runs and its CronJob and Jobs are collected.
import { expect } from 'chai';
import { clients, eventually, recorder, testNamespace } from './support.js';
import {
  createJob,
  deleteJob,
  executions,
  getJob,
  jobWhere,
  patchSpec,
  sleep,
  startOperator,
  untilNextMinute,
  type OperatorProcess,
} from './operator.js';

describe('journey: operator — cancel and delete', function () {
  const { batch, core } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let runtime: Awaited<ReturnType<typeof recorder>>;
  let op: OperatorProcess;
  before(async () => {
    ns = await testNamespace('op-cancel');
    runtime = await recorder();
    op = await startOperator(ns.name, runtime.url);
  });
  after(async () => {
    await op.stop();
    await runtime.close();
    await ns.remove();
  });

  it('after one run each: cancel keeps the job, delete removes it and its children; no run after either', async function () {
    this.timeout(240_000);
    const [cancelled, deleted] = await Promise.all([
      createJob(ns.name, 'to-cancel', { pattern: '* * * * *' }),
      createJob(ns.name, 'to-delete', { pattern: '* * * * *' }),
    ]);
    await jobWhere(ns.name, 'to-cancel', 'a first run', 130_000, (j) => (j.status?.executions ?? 0) >= 1);
    await jobWhere(ns.name, 'to-delete', 'a first run', 30_000, (j) => (j.status?.executions ?? 0) >= 1);
    await patchSpec(ns.name, 'to-cancel', { cancelled: true });
    await deleteJob(ns.name, 'to-delete');
    const stoppedAt = Date.now();

    const c = await jobWhere(
      ns.name,
      'to-cancel',
      'Cancelled',
      20_000,
      (j) => j.status?.phase === 'Cancelled',
    );
    expect(c.status?.nextExecutionTime).to.equal(undefined);
    expect(
      (await batch.readNamespacedCronJob({ name: 'to-cancel', namespace: ns.name })).spec?.suspend,
    ).to.equal(true);
    await eventually('the deleted job’s CronJob, Jobs and Pods to be collected', 60_000, async () => {
      const [cjs, jobs, pods] = await Promise.all([
        batch.listNamespacedCronJob({
          namespace: ns.name,
          labelSelector: `qinling.io/job-uid=${deleted.metadata.uid}`,
        }),
        batch.listNamespacedJob({
          namespace: ns.name,
          labelSelector: `qinling.io/job-uid=${deleted.metadata.uid}`,
        }),
        core.listNamespacedPod({
          namespace: ns.name,
          labelSelector: `qinling.io/job-uid=${deleted.metadata.uid}`,
        }),
      ]);
      return cjs.items.length + jobs.items.length + pods.items.length === 0;
    });
    await sleep(untilNextMinute(20)); // past the next tick
    const late = executions(runtime.calls).filter((x) => x.at.getTime() > stoppedAt);
    expect(late, 'no run after cancel or delete').to.deep.equal([]);
    const still = await getJob(ns.name, 'to-cancel');
    expect(still.metadata.uid).to.equal(cancelled.metadata.uid);
    expect(still.status?.phase).to.equal('Cancelled');
  });
});
