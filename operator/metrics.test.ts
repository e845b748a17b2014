import { expectConventionalNames } from '../fakes/metric-names.js';
import { expect } from 'chai';
import { job } from '../fakes/jobs.js';
import { makeMetrics } from './metrics.js';

describe('operator metrics', () => {
  it('keeps the standard process_ and nodejs_ names, and qinling_jobs_ for its own', () =>
    expectConventionalNames(
      makeMetrics(
        () => [],
        () => 0,
      ).registry,
    ));

  it('per job, from the leader only: next run, last success, missed runs, consecutive failures', async () => {
    const jobs = [
      job(
        { pattern: '* * * * *' },
        {
          phase: 'Running',
          nextExecutionTime: '2026-11-27T12:01:00.000Z',
          lastSuccessTime: '2026-11-27T12:00:05.000Z',
          missedRuns: 2,
          consecutiveFailures: 3,
        },
      ),
    ];
    const m = makeMetrics(
      () => jobs,
      () => 0,
    );
    const series = async (name: string) => (await m.registry.getSingleMetric(name)?.get())?.values ?? [];
    expect(await series('qinling_jobs_job_consecutive_failures')).to.deep.equal([]); // not leading
    m.leader.set(1);
    const labels = { namespace: 'p1', qinlingjob: 'nightly' };
    expect(await series('qinling_jobs_job_next_run_timestamp_seconds')).to.deep.equal([
      { labels, value: Date.parse('2026-11-27T12:01:00Z') / 1000 },
    ]);
    expect((await series('qinling_jobs_job_last_success_timestamp_seconds'))[0]?.value).to.equal(
      Date.parse('2026-11-27T12:00:05Z') / 1000,
    );
    expect((await series('qinling_jobs_job_missed_runs'))[0]?.value).to.equal(2);
    expect((await series('qinling_jobs_job_consecutive_failures'))[0]?.value).to.equal(3);
  });
});
