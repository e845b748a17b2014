// Catch-up with a cap (issue 16): the operator away for four minutes over a job with
// catchupWindowSeconds 600 and maxCatchupRuns 2. Back, it runs exactly the two newest missed
// runs, late, each with its own scheduled time and Idempotency-Key (trigger catch-up in the
// ledger; their Jobs are made oldest first and then run together, so the calls may arrive in
// either order); the older missed runs are Missed. Without the policy (a second job
// beside it) every missed run stays Missed, as in Qinling.
import { expect } from 'chai';
import {
  callsAtLeast,
  createJob,
  executions,
  jobWhere,
  sleep,
  startOperator,
  untilNextMinute,
  withOperator,
} from './operator.js';
import { eventually } from './support.js';
import type { QinlingJob } from '../../domain/types.js';

describe('journey: catch-up after the operator was away', function () {
  const scene = withOperator('catchup');

  it('exactly the 2 newest missed runs run late, with their own keys; the rest are Missed', async function () {
    this.timeout(600_000);
    // Counted jobs: every run is the operator's, so all of them are missed while it is away.
    const cu = await createJob(scene.ns, 'catchup', {
      pattern: '* * * * *',
      count: 50,
      catchupWindowSeconds: 600,
      maxCatchupRuns: 2,
    });
    const plain = await createJob(scene.ns, 'plain', { pattern: '* * * * *', count: 50 });
    await callsAtLeast(scene.runtime.calls, 2, 100_000);
    // Stopped just after a tick's runs were made, away over four more ticks and their deadlines.
    if (untilNextMinute() < 40_000) await sleep(untilNextMinute() + 3000); // before the next run is made (lead)
    await scene.op.stop('SIGKILL');
    const gone = Date.now();
    const firstMissed = Math.ceil(gone / 60_000) * 60_000;
    await sleep(firstMissed - gone + 3 * 60_000 + 25_000); // ticks firstMissed..+3m all past their deadline
    const back = Date.now();
    scene.op = await startOperator(scene.ns, scene.runtime.url, { identity: 'back' });
    const missedSlots = [0, 1, 2, 3].map((i) => new Date(firstMissed + i * 60_000).toISOString());
    const newest = missedSlots.slice(-2);
    const byTime = (j: QinlingJob, t: string) => j.status?.recentRuns?.find((r) => r.scheduledTime === t);
    const j = await jobWhere(scene.ns, 'catchup', 'caught up', 90_000, (x) =>
      newest.every((t) => byTime(x, t)?.trigger === 'catch-up'),
    );
    for (const t of missedSlots.slice(0, 2)) expect(byTime(j, t)?.result, t).to.equal('Missed');
    await eventually('the catch-up calls', 60_000, () =>
      newest.every((t) =>
        executions(scene.runtime.calls).some((c) => c.jobId === cu.metadata.uid && c.scheduled === t),
      ),
    );
    const calls = executions(scene.runtime.calls).filter((c) => c.jobId === cu.metadata.uid);
    for (const t of missedSlots) {
      const mine = calls.filter((c) => c.scheduled === t);
      expect(
        mine.map((c) => c.key),
        t,
      ).to.deep.equal(newest.includes(t) ? [`${cu.metadata.uid}/${t}`] : []);
    }
    const late = calls.filter((c) => newest.includes(c.scheduled));
    expect(late).to.have.length(2);
    for (const c of late) expect(c.at.getTime()).to.be.at.least(back);
    // Beside it, the job without the policy: all four missed, none run late.
    const p = await jobWhere(scene.ns, 'plain', 'misses recorded', 60_000, (x) =>
      missedSlots.every((t) => byTime(x, t)?.result === 'Missed'),
    );
    expect(
      executions(scene.runtime.calls).filter(
        (c) => c.jobId === p.metadata.uid && missedSlots.includes(c.scheduled),
      ),
    ).to.deep.equal([]);
    expect(plain.metadata.uid).to.equal(p.metadata.uid);
  });
});
