// What will run is what runs (issue 15): GET /v1/jobs/{id}/schedule lists the next runs, the
// QinlingJob's status.upcoming says the same, and over five minutes the runtime is called at
// exactly those times, in that order.
import { expect } from 'chai';
import { withFacade } from './facade.js';
import { callsAtLeast, FUNCTION_ID, jobByUid, withOperator } from './operator.js';
import { eventually } from './support.js';

interface Schedule {
  job_id: string;
  time_zone: string;
  runs: { time: string; local: string; overlap: boolean }[];
  skipped: string[];
}

describe('journey: REST schedule is what fires', function () {
  const scene = withOperator('api-sched');
  const facade = withFacade(scene, 'sched');

  const call = facade.call;

  it('GET /schedule?count=5 names the next 5 runs, status.upcoming agrees, and those 5 calls come', async function () {
    this.timeout(450_000);
    const job = await call<{ id: string; next_execution_time: string }>('POST', '/v1/jobs', {
      function_id: FUNCTION_ID,
      pattern: '* * * * *',
    });
    const s = await call<Schedule>('GET', `/v1/jobs/${job.id}/schedule?count=5`);
    const times = s.runs.map((r) => r.time);
    expect(times).to.have.length(5);
    expect(times[0]).to.equal(job.next_execution_time);
    expect(s.time_zone).to.equal('Etc/UTC');
    expect(s.skipped).to.deep.equal([]);
    const upcoming = await eventually('the operator to write status.upcoming', 30_000, async () => {
      const u = (await jobByUid(scene.ns, job.id))?.status?.upcoming;
      return u && u.length > 0 ? u : undefined;
    });
    // Read a moment after the schedule: the same runs, or one fewer when a minute passed between.
    const shown = upcoming.map((t) => t.replace('.000Z', 'Z'));
    const skip = shown[0] === times[0] ? 0 : 1;
    expect(shown.slice(0, 5 - skip)).to.deep.equal(times.slice(skip));
    const msToLast = new Date(times[4] ?? '').getTime() - Date.now();
    const calls = await callsAtLeast(scene.runtime.calls, 5, msToLast + 60_000);
    const mine = calls.filter((c) => c.jobId === job.id).slice(0, 5);
    expect(mine.map((c) => c.scheduled)).to.deep.equal(times.map((t) => new Date(t).toISOString()));
  });
});
