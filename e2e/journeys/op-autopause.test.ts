// Auto-pause and dead letters (issue 16) through the REST API: a job made with
// pause_after_failures 2 and a dead_letter_url, against a runtime that always fails, sends one
// dead letter per failed run (the sink down at first: retried, received once), pauses itself
// after the second failed run (spec.suspend, condition AutoPaused, an Event; REST shows it
// paused), and a PUT of status=running resumes it and clears the pause.
import { expect } from 'chai';
import { withFacade } from './facade.js';
import { FUNCTION_ID, jobByUid, sleep, withOperator } from './operator.js';
import { clients, eventually, recorder } from './support.js';
import type { QinlingJob } from '../../domain/types.js';

interface WireJob {
  id: string;
  status: string;
  pause_after_failures?: number;
}

describe('journey: a job pauses itself after failures in a row, and a PUT resumes it', function () {
  const scene = withOperator('autopause');
  const facade = withFacade(scene, 'pause');
  const call = facade.call;
  const runNow = async (uid: string) => {
    const res = await fetch(`${facade.url()}/v1/jobs/${uid}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': 'tok' },
      body: '{}',
    });
    expect(res.status).to.equal(202);
  };
  const job = (uid: string) =>
    eventually(`job ${uid}`, 30_000, async () => (await jobByUid(scene.ns, uid)) ?? undefined);
  const until = (uid: string, what: string, ok: (j: QinlingJob) => boolean) =>
    eventually(what, 120_000, async () => {
      const j = await jobByUid(scene.ns, uid);
      return j && ok(j) ? j : undefined;
    });

  it('two failed runs: paused with a condition and an Event; status=running clears it', async function () {
    this.timeout(300_000);
    scene.runtime.answer.status = 503;
    const sink = await recorder();
    sink.answer.next.push(503); // down for the first delivery's first try
    const created = await call<WireJob>('POST', '/v1/jobs', {
      function_id: FUNCTION_ID,
      pattern: '0 3 1 1 *',
      pause_after_failures: 2,
      dead_letter_url: `${sink.url}/dead-letters`,
    });
    expect(created.pause_after_failures).to.equal(2);
    const uid = created.id;
    await until(uid, 'planned', (j) => !!j.status?.nextExecutionTime);
    for (const n of [1, 2]) {
      await runNow(uid);
      await until(uid, `failure ${n} counted`, (j) => (j.status?.failed ?? 0) >= n);
    }
    const paused = await until(uid, 'paused by the operator', (j) => j.spec.suspend === true);
    expect(paused.status?.autoPaused).to.include({ failures: 2 });
    const cond = (
      await until(uid, 'phase Paused', (j) => j.status?.phase === 'Paused')
    ).status?.conditions?.find((c) => c.type === 'AutoPaused');
    expect(cond).to.include({ status: 'True', reason: 'ConsecutiveFailures' });
    expect((await call<WireJob>('GET', `/v1/jobs/${uid}`)).status).to.equal('paused');
    const events = await clients().core.listNamespacedEvent({ namespace: scene.ns });
    expect(events.items.filter((e) => e.reason === 'AutoPaused')).to.have.length(1);

    const resumed = await call<WireJob>('PUT', `/v1/jobs/${uid}`, { status: 'running' });
    expect(resumed.status).to.equal('running');
    const cleared = await until(
      uid,
      'the pause cleared',
      (j) => !j.status?.autoPaused && j.status?.phase === 'Running',
    );
    expect(cleared.spec.suspend).to.equal(false);
    expect(cleared.status?.conditions?.find((c) => c.type === 'AutoPaused')?.status).to.equal('False');
    expect(cleared.status?.nextExecutionTime).to.be.a('string');
    expect((await job(uid)).status?.consecutiveFailures).to.equal(2); // counted as they were

    // One dead letter per failed run, each received once (the first after a retry).
    const letters = () =>
      sink.calls.map((c) => ({
        code: c.url,
        ce: JSON.parse(c.body) as { id: string; data: Record<string, unknown> },
      }));
    await eventually('both dead letters', 120_000, () => letters().length >= 3);
    await sleep(3000); // nothing more comes
    const all = letters();
    expect(all).to.have.length(3);
    const ids = all.map((l) => l.ce.id);
    expect(new Set(ids).size).to.equal(2);
    // The first call met the sink down (503) and was tried again: its letter came twice, the other once.
    expect(ids.filter((id) => id === ids[0])).to.have.length(2);
    for (const l of all) {
      expect(l.code).to.equal('/dead-letters');
      expect(l.ce.data).to.include({ job_id: uid, http_status: 503, trigger: 'manual', attempts: 1 });
      expect(String(l.ce.id)).to.match(new RegExp(`^${uid}/manual/`));
    }
    expect(sink.calls[0]?.headers['content-type']).to.match(/^application\/cloudevents\+json/);
    expect(events.items.filter((e) => e.reason === 'DeadLetter').length).to.be.at.least(1);
    await sink.close();
  });
});
