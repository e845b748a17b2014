// What REST shows is true at once (issue 10): PUT next_execution_time to an off-grid second is
// answered with that time, the run arrives within 2 s after it, and then the next time is the
// pattern's. A PUT of only the pattern keeps the next run (Qinling), which happens, and then the
// new pattern takes over.
import { expect } from 'chai';
import { withFacade } from './facade.js';
import { callsAtLeast, FUNCTION_ID, quietMoment, sleep, withOperator } from './operator.js';
import { eventually } from './support.js';

interface Wire {
  id: string;
  pattern: string | null;
  next_execution_time: string | null;
}

describe('journey: REST next_execution_time is the time that fires', function () {
  const scene = withOperator('api-next');
  const facade = withFacade(scene, 'next');

  const rest = facade.call;
  const call = (method: string, path: string, body?: unknown) => rest<Wire>(method, path, body);

  it('an off-grid PUT is answered, shown, run at its second, then the pattern resumes', async function () {
    this.timeout(300_000);
    const job = await call('POST', '/v1/jobs', { function_id: FUNCTION_ID, pattern: '*/30 * * * *' });
    await eventually(
      'the operator to plan it',
      30_000,
      async () => (await call('GET', `/v1/jobs/${job.id}`)).pattern,
    );
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 75_000 + 17_000);
    if (at.getUTCSeconds() === 0) at.setUTCSeconds(17);
    const wire = at.toISOString().replace('.000Z', 'Z');
    const put = await call('PUT', `/v1/jobs/${job.id}`, { next_execution_time: wire });
    expect(put.next_execution_time).to.equal(wire);
    expect((await call('GET', `/v1/jobs/${job.id}`)).next_execution_time).to.equal(wire);
    const [c] = await callsAtLeast(scene.runtime.calls, 1, at.getTime() - Date.now() + 30_000);
    expect(c?.scheduled).to.equal(at.toISOString());
    const lateMs = (c?.at.getTime() ?? 0) - at.getTime();
    console.log(`      (operator-started run: runtime call ${lateMs} ms after its second)`);
    expect(lateMs).to.be.within(0, 2000);
    const after = await eventually('the pattern next', 30_000, async () => {
      const j = await call('GET', `/v1/jobs/${job.id}`);
      return j.next_execution_time !== wire ? j : undefined;
    });
    const next = new Date(after.next_execution_time ?? '');
    expect(next.getUTCMinutes() % 30).to.equal(0);
    expect(next.getUTCSeconds()).to.equal(0);
    expect(next.getTime()).to.be.greaterThan(at.getTime());
  });

  it('a PUT of only the pattern keeps the next run, which happens; then the new pattern takes over', async function () {
    this.timeout(300_000);
    await quietMoment();
    const job = await call('POST', '/v1/jobs', { function_id: FUNCTION_ID, pattern: '* * * * *' });
    const planned = await eventually(
      'planned',
      30_000,
      async () => (await call('GET', `/v1/jobs/${job.id}`)).next_execution_time,
    );
    const before = scene.runtime.calls.length;
    const put = await call('PUT', `/v1/jobs/${job.id}`, { pattern: '0 0 1 1 *' });
    expect(put.next_execution_time).to.equal(planned);
    const calls = await eventually('the kept run', 90_000, () => {
      const mine = scene.runtime.calls.slice(before).filter((x) => x.headers['x-qinling-job-id'] === job.id);
      return mine.length > 0 ? mine : undefined;
    });
    expect(calls[0]?.headers['x-qinling-scheduled-time']).to.equal(new Date(planned ?? '').toISOString());
    const after = await eventually('the new pattern next', 30_000, async () => {
      const j = await call('GET', `/v1/jobs/${job.id}`);
      return j.next_execution_time !== planned ? j : undefined;
    });
    expect(after.next_execution_time?.slice(5)).to.equal('01-01T00:00:00Z');
    await sleep(65_000); // past another minute: the old pattern fires no more
    expect(
      scene.runtime.calls.slice(before).filter((x) => x.headers['x-qinling-job-id'] === job.id),
    ).to.have.length(1);
  });
});
