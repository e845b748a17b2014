// Early runs (domain/early.ts): an operator run's Job is made `lead` seconds before its time and
// its pod calls at the time, never before; until then it counts for nothing, and a pause or a
// delete before the time takes it back, so nothing calls.
import { expect } from 'chai';
import type { V1Job } from '@kubernetes/client-node';
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
  withOperator,
} from './operator.js';

/** An off-grid second about `s` seconds from now. */
function secondsAhead(s: number): Date {
  let at = new Date(Math.floor(Date.now() / 1000) * 1000 + s * 1000);
  if (at.getUTCSeconds() === 0) at = new Date(at.getTime() + 3000);
  return at;
}

describe('journey: operator — runs made early call at their time, and can be taken back', function () {
  const scene = withOperator('op-early', { args: ['--lead-seconds=30'] });

  const runsOf = async (uid: string): Promise<V1Job[]> =>
    (
      await clients().batch.listNamespacedJob({
        namespace: scene.ns,
        labelSelector: `qinling.io/job-uid=${uid}`,
      })
    ).items;
  const earlyJob = (uid: string) =>
    eventually('the early run Job', 40_000, async () => (await runsOf(uid))[0]);
  const callsFor = (uid: string) => executions(scene.runtime.calls).filter((c) => c.jobId === uid);

  it('a one-shot: its Job exists before the time, counts for nothing until then, and calls at the time', async function () {
    this.timeout(120_000);
    const at = secondsAhead(40);
    const made = await createJob(scene.ns, 'early', { firstExecutionTime: at.toISOString() });
    const run = await earlyJob(made.metadata.uid);
    const seenAt = Date.now();
    expect(seenAt, 'the Job was made before the time').to.be.below(at.getTime());
    expect(run.metadata?.annotations?.['qinling.io/scheduled-time']).to.equal(at.toISOString());
    await sleep(2000); // the operator has seen its Job: still nothing counted
    const before = await getJob(scene.ns, 'early');
    expect(Date.now(), 'still before the time').to.be.below(at.getTime());
    expect(before.status?.phase).to.equal('Running');
    expect(before.status?.executions ?? 0).to.equal(0);
    expect(before.status?.nextExecutionTime).to.equal(at.toISOString());
    expect(callsFor(made.metadata.uid)).to.deep.equal([]);
    const done = await jobWhere(scene.ns, 'early', 'Done', 60_000, (j) => j.status?.phase === 'Done');
    expect(done.status?.executions).to.equal(1);
    const calls = await callsAtLeast(scene.runtime.calls, 1);
    const mine = calls.filter((c) => c.jobId === made.metadata.uid);
    expect(mine).to.have.length(1);
    expect(mine[0]?.at.getTime(), 'never before its time').to.be.at.least(at.getTime());
  });

  it('paused before its time: the early Job is taken back, nothing calls; resumed, it runs once', async function () {
    this.timeout(150_000);
    const at = secondsAhead(45);
    const made = await createJob(scene.ns, 'paused', { firstExecutionTime: at.toISOString() });
    const uid = made.metadata.uid;
    await earlyJob(uid);
    await patchSpec(scene.ns, 'paused', { suspend: true });
    expect(Date.now(), 'paused with time to take it back').to.be.below(at.getTime() - 10_000);
    await eventually('the early Job gone', 30_000, async () =>
      (await runsOf(uid)).length === 0 ? true : undefined,
    );
    await sleep(Math.max(at.getTime() + 8000 - Date.now(), 0));
    expect(callsFor(uid), 'nothing called at the time').to.deep.equal([]);
    const held = await getJob(scene.ns, 'paused');
    expect(held.status?.phase).to.equal('Paused');
    expect(held.status?.executions ?? 0).to.equal(0);
    expect(held.status?.claimedTimes ?? []).to.deep.equal([]);
    await patchSpec(scene.ns, 'paused', { suspend: false });
    const done = await jobWhere(scene.ns, 'paused', 'Done', 60_000, (j) => j.status?.phase === 'Done');
    expect(done.status?.executions).to.equal(1);
    await eventually('its one late call', 30_000, () => (callsFor(uid).length > 0 ? true : undefined));
    await sleep(5000);
    expect(callsFor(uid)).to.have.length(1);
    expect(callsFor(uid)[0]?.scheduled).to.equal(at.toISOString());
  });

  it('deleted before its time: its early Job goes with it and nothing calls', async function () {
    this.timeout(120_000);
    const at = secondsAhead(45);
    const made = await createJob(scene.ns, 'deleted', { firstExecutionTime: at.toISOString() });
    await earlyJob(made.metadata.uid);
    await deleteJob(scene.ns, 'deleted');
    expect(Date.now()).to.be.below(at.getTime() - 10_000);
    await sleep(Math.max(at.getTime() + 8000 - Date.now(), 0));
    expect(callsFor(made.metadata.uid)).to.deep.equal([]);
    expect(await runsOf(made.metadata.uid)).to.deep.equal([]);
  });
});
