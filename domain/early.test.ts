import { expect } from 'chai';
import type { V1CronJob } from '@kubernetes/client-node';
import { defaultPlannerConfig } from './config.js';
import { WITHDRAW_MARGIN_MS } from './early.js';
import type { ObservedRun } from './observe.js';
import { job, ownedCronJob } from '../fakes/jobs.js';
import { plan } from './planner.js';
import { ANNOTATION_GENERATION, ANNOTATION_SCHEDULED, type QinlingJobStatus } from './types.js';

const cfg = { ...defaultPlannerConfig, leadSeconds: 30 };
const T = '2026-11-27T12:10:37.000Z';
const t = Date.parse(T);
const at = (offsetMs: number) => new Date(t + offsetMs);
const NAME = `nightly-${t / 1000}`;

const cronJob: V1CronJob = {
  ...ownedCronJob('10 12 27 11 *'),
  spec: { schedule: '10 12 27 11 *', suspend: true, jobTemplate: {} },
  status: {},
};

const early = (over: Partial<ObservedRun> = {}): ObservedRun => ({
  jobName: NAME,
  byOperator: true,
  scheduledTime: new Date(T),
  result: 'Running',
  generation: 1,
  ...over,
});

const oneShot = { firstExecutionTime: T };

/** The one-shot's status once its run is claimed early (the pass at T − 20 s). */
function claimed(): QinlingJobStatus {
  const first = plan(job(oneShot), { runs: [], cronJob }, at(-60_000), cfg);
  return plan(job(oneShot, first.status), { runs: [], cronJob }, at(-20_000), cfg).status;
}

describe('early runs: made before their time, counted at it, taken back while there is time', () => {
  it('a one-shot is claimed and its Job made `lead` before its time, not sooner', () => {
    const first = plan(job(oneShot), { runs: [], cronJob }, at(-60_000), cfg);
    expect(first.startRuns).to.deep.equal([]);
    expect(first.requeueAfterMs).to.equal(30_000);
    const p = plan(job(oneShot, first.status), { runs: [], cronJob }, at(-20_000), cfg);
    expect(p.status.claimedTimes).to.deep.equal([T]);
    expect(p.startRuns.map((r) => r.metadata?.name)).to.deep.equal([NAME]);
    const made = p.startRuns[0];
    expect(made?.metadata?.annotations?.[ANNOTATION_SCHEDULED]).to.equal(T);
    expect(made?.metadata?.annotations?.[ANNOTATION_GENERATION]).to.equal('1');
    // The pod waits up to `lead` for its time: its deadline has that much more.
    expect(made?.spec?.activeDeadlineSeconds).to.equal(cfg.invokeTimeoutSeconds + 60 + cfg.leadSeconds);
    expect(p.events.filter((e) => e.reason === 'LateRun')).to.deep.equal([]);
  });

  it('seen before its time it counts for nothing: not Done, next unchanged, not made again', () => {
    const p = plan(job(oneShot, claimed()), { runs: [early()], cronJob }, at(-10_000), cfg);
    expect(p.status.phase).to.equal('Running');
    expect(p.status.executions).to.equal(0);
    expect(p.status.remaining).to.equal(1);
    expect(p.status.nextExecutionTime).to.equal(T);
    expect(p.status.claimedTimes).to.deep.equal([T]);
    expect(p.startRuns).to.deep.equal([]);
    expect(p.withdrawRuns).to.equal(undefined);
    expect(p.requeueAfterMs, 'looks again just after its time, to count it').to.equal(10_100);
  });

  it('counts at its time: the one-shot is Done', () => {
    const p = plan(job(oneShot, claimed()), { runs: [early()], cronJob }, at(500), cfg);
    expect(p.status.phase).to.equal('Done');
    expect(p.status.executions).to.equal(1);
    expect(p.status.claimedTimes).to.equal(undefined);
  });

  it('paused before its time: the Job is withdrawn, then the claim goes once the Job is gone', () => {
    const paused = job({ ...oneShot, suspend: true }, claimed());
    const p = plan(paused, { runs: [early()], cronJob }, at(-10_000), cfg);
    expect(p.withdrawRuns).to.deep.equal([NAME]);
    expect(p.status.claimedTimes, 'kept while the Job is seen').to.deep.equal([T]);
    const deleting = plan(paused, { runs: [early({ deleting: true })], cronJob }, at(-9_000), cfg);
    expect(deleting.withdrawRuns, 'deleted once').to.equal(undefined);
    expect(deleting.status.claimedTimes).to.deep.equal([T]);
    const gone = plan(
      job({ ...oneShot, suspend: true }, deleting.status),
      { runs: [], cronJob },
      at(-8_000),
      cfg,
    );
    expect(gone.status.claimedTimes).to.equal(undefined);
    expect(gone.status.executions).to.equal(0);
    expect(gone.startRuns).to.deep.equal([]);
    // Resumed after its time: a one-shot runs late rather than never, exactly once.
    const resumed = plan(job(oneShot, gone.status), { runs: [], cronJob }, at(60_000), cfg);
    expect(resumed.startRuns.map((r) => r.metadata?.name)).to.deep.equal([NAME]);
  });

  it('paused within the margin of its time: left to run, and counted', () => {
    const paused = job({ ...oneShot, suspend: true }, claimed());
    const p = plan(paused, { runs: [early()], cronJob }, at(-WITHDRAW_MARGIN_MS + 500), cfg);
    expect(p.withdrawRuns).to.equal(undefined);
    const after = plan(
      job({ ...oneShot, suspend: true }, p.status),
      { runs: [early()], cronJob },
      at(100),
      cfg,
    );
    expect(after.status.executions).to.equal(1);
    expect(after.status.remaining).to.equal(0);
  });

  it('a withdrawn Job still seen at its time counts: it may have called, and a count is never exceeded', () => {
    const cancelled = job({ ...oneShot, cancelled: true }, claimed());
    const p = plan(cancelled, { runs: [early({ deleting: true })], cronJob }, at(1_000), cfg);
    expect(p.status.executions).to.equal(1);
  });

  it('a claim whose Job was never seen is dropped when the job is cancelled in time', () => {
    const p = plan(job({ ...oneShot, cancelled: true }, claimed()), { runs: [], cronJob }, at(-10_000), cfg);
    expect(p.status.phase).to.equal('Cancelled');
    expect(p.status.claimedTimes).to.equal(undefined);
    expect(p.startRuns).to.deep.equal([]);
  });

  it('a spec edit before its time re-makes the run from the new spec', () => {
    const edited = job({ ...oneShot, functionInput: 'new' }, claimed(), 2);
    const p = plan(edited, { runs: [early()], cronJob }, at(-10_000), cfg);
    expect(p.withdrawRuns).to.deep.equal([NAME]);
    expect(p.status.claimedTimes, 'still wanted at that time').to.deep.equal([T]);
    const gone = plan(
      job({ ...oneShot, functionInput: 'new' }, p.status, 2),
      { runs: [], cronJob },
      at(-8_000),
      cfg,
    );
    expect(gone.status.claimedTimes).to.deep.equal([T]);
    expect(gone.startRuns.map((r) => r.metadata?.annotations?.[ANNOTATION_GENERATION])).to.deep.equal(['2']);
    const current = plan(edited, { runs: [early({ generation: 2 })], cronJob }, at(-7_000), cfg);
    expect(current.withdrawRuns).to.equal(undefined);
  });

  it('a counted pattern job whose next time is moved by an override withdraws the early run', () => {
    const spec = { pattern: '*/5 * * * *', count: 3 };
    const tick = '2026-11-27T12:15:00.000Z';
    const first = plan(job(spec), { runs: [], cronJob }, new Date('2026-11-27T12:11:00Z'), cfg);
    expect(first.status.nextExecutionTime).to.equal(tick);
    const c = plan(job(spec, first.status), { runs: [], cronJob }, new Date('2026-11-27T12:14:40Z'), cfg);
    expect(c.status.claimedTimes).to.deep.equal([tick]);
    const name = `nightly-${Date.parse(tick) / 1000}`;
    const moved = job({ ...spec, nextExecutionTime: '2026-11-27T13:00:00Z' }, c.status, 2);
    const run = early({ jobName: name, scheduledTime: new Date(tick) });
    const p = plan(moved, { runs: [run], cronJob }, new Date('2026-11-27T12:14:50Z'), cfg);
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T13:00:00.000Z');
    expect(p.withdrawRuns).to.deep.equal([name]);
  });

  it('a tick the CronJob fires is not made early', () => {
    const spec = { pattern: '*/5 * * * *' };
    const cj = {
      ...cronJob,
      spec: { ...cronJob.spec, schedule: '*/5 * * * *', suspend: false },
    } as V1CronJob;
    const first = plan(job(spec), { runs: [], cronJob: cj }, new Date('2026-11-27T12:11:00Z'), cfg);
    const p = plan(job(spec, first.status), { runs: [], cronJob: cj }, new Date('2026-11-27T12:14:40Z'), cfg);
    expect(p.status.nextRunByOperator).to.equal(false);
    expect(p.startRuns).to.deep.equal([]);
    expect(p.status.claimedTimes).to.equal(undefined);
  });

  it('with no lead, the run is claimed at its time, as before', () => {
    const none = { ...cfg, leadSeconds: 0 };
    const first = plan(job(oneShot), { runs: [], cronJob }, at(-60_000), none);
    expect(first.requeueAfterMs).to.equal(60_000);
    expect(plan(job(oneShot, first.status), { runs: [], cronJob }, at(-1), none).startRuns).to.deep.equal([]);
    expect(plan(job(oneShot, first.status), { runs: [], cronJob }, at(0), none).startRuns).to.have.length(1);
  });
});
