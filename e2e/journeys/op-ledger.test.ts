// What ran (issue 15): the run ledger in status keeps a failed run with the runtime's HTTP
// status after its Job is deleted, counts consecutive failures up and resets them on a success,
// and shows the slots missed while the operator was away.
import { expect } from 'chai';
import { BatchV1Api } from '@kubernetes/client-node';
import {
  createJob,
  jobWhere,
  patchSpec,
  sleep,
  startOperator,
  untilNextMinute,
  withOperator,
} from './operator.js';
import { clients } from './support.js';
import type { QinlingJob, RunRecord } from '../../domain/types.js';

const byRequest = (j: QinlingJob, id: string): RunRecord | undefined =>
  j.status?.recentRuns?.find((r) => r.runRequest === id);
const final = (r: RunRecord | undefined) => r !== undefined && r.result !== 'Running';

describe('journey: the run ledger', function () {
  const scene = withOperator('ledger');
  const batch = clients().kc.makeApiClient(BatchV1Api);

  it('a failing runtime: Failed with its HTTP status, kept after the Job is gone; failures count up, a success resets', async function () {
    this.timeout(300_000);
    await createJob(scene.ns, 'flaky', { pattern: '0 3 1 1 *' });
    const asks: { id: string; requestedBy: string }[] = [];
    const ask = async (id: string) => {
      asks.push({ id, requestedBy: 'local-admin' });
      await patchSpec(scene.ns, 'flaky', { runRequests: [...asks] });
      return jobWhere(scene.ns, 'flaky', `run ${id} final in the ledger`, 120_000, (j) =>
        final(byRequest(j, id)),
      );
    };
    scene.runtime.answer.status = 503;
    const f1 = byRequest(await ask('f1'), 'f1');
    expect(f1).to.include({
      result: 'Failed',
      httpStatus: 503,
      trigger: 'manual',
      requestedBy: 'local-admin',
    });
    await batch.deleteNamespacedJob({
      name: f1?.jobName ?? '',
      namespace: scene.ns,
      propagationPolicy: 'Background',
    });
    const afterTwo = await ask('f2');
    expect(afterTwo.status).to.include({ failed: 2, consecutiveFailures: 2 });
    expect(byRequest(afterTwo, 'f1')).to.deep.equal(f1); // its Job is gone; its record is not
    scene.runtime.answer.status = 200;
    const healed = await ask('s1');
    expect(byRequest(healed, 's1')?.result).to.equal('Succeeded');
    expect(healed.status).to.include({ succeeded: 1, failed: 2 });
    expect(healed.status?.consecutiveFailures).to.equal(undefined); // 0: reset by the success
    expect(healed.status?.lastSuccessTime).to.be.a('string');
  });

  it('the operator away across two ticks: the ledger shows the missed slots', async function () {
    this.timeout(330_000);
    // Counted: the operator starts every run, so its ticks are missed while it is away.
    await createJob(scene.ns, 'away', { pattern: '* * * * *', count: 20 });
    await jobWhere(scene.ns, 'away', 'planned', 60_000, (j) => !!j.status?.nextExecutionTime);
    if (untilNextMinute() < 15_000) await sleep(untilNextMinute() + 1000);
    await scene.op.stop('SIGKILL');
    await sleep(untilNextMinute() + 2 * 60_000 + 5000); // two ticks and their deadlines pass
    scene.op = await startOperator(scene.ns, scene.runtime.url, { identity: 'back' });
    const j = await jobWhere(scene.ns, 'away', 'missed slots in the ledger', 90_000, (x) =>
      (x.status?.recentRuns ?? []).some((r) => r.result === 'Missed'),
    );
    const missed = (j.status?.recentRuns ?? []).filter((r) => r.result === 'Missed');
    expect(missed.length).to.be.at.least(2);
    for (const m of missed) {
      expect(m.trigger).to.equal('schedule');
      expect(new Date(m.scheduledTime).getUTCSeconds()).to.equal(0);
    }
    expect(j.status?.missedRuns).to.be.at.least(missed.length);
  });
});
