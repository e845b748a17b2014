import { expect } from 'chai';
import type { V1CronJob } from '@kubernetes/client-node';
import { defaultPlannerConfig as cfg } from './config.js';
import type { ObservedRun } from './observe.js';
import { job, UID } from '../fakes/jobs.js';
import { plan, type Observed } from './planner.js';

const at = (s: string) => new Date(s);

function ownedCronJob(
  suspend: boolean,
  lastScheduleTime?: string,
  created = '2026-11-27T11:00:00Z',
): V1CronJob {
  return {
    metadata: {
      name: 'nightly',
      uid: 'cj-uid',
      creationTimestamp: at(created),
      ownerReferences: [
        { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'nightly', uid: UID, controller: true },
      ],
    },
    spec: { schedule: '* * * * *', suspend, jobTemplate: {} },
    status: lastScheduleTime ? { lastScheduleTime: at(lastScheduleTime) } : {},
  };
}

const run = (
  scheduled: string,
  result: ObservedRun['result'] = 'Succeeded',
  message?: string,
): ObservedRun => ({
  jobName: `nightly-${at(scheduled).getTime() / 60_000}`,
  scheduledTime: at(scheduled),
  result,
  ...(message ? { message } : {}),
});

const none: Observed = { runs: [] };

describe('planner: a new recurring job', () => {
  const p = plan(job({ pattern: '*/5 * * * *' }), none, at('2026-11-27T12:01:10Z'), cfg);

  it('is Running with the next tick as first and next execution', () => {
    expect(p.status.phase).to.equal('Running');
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:05:00.000Z');
    expect(p.status.firstExecutionTime).to.equal(p.status.nextExecutionTime);
    expect(p.status.executions).to.equal(0);
    expect(p.status.remaining).to.equal(undefined);
    expect(p.status.cronJobName).to.equal('nightly');
  });

  it('lists the next 5 runs in status.upcoming, nextExecutionTime first', () => {
    expect(p.status.upcoming).to.deep.equal(
      ['05', '10', '15', '20', '25'].map((m) => `2026-11-27T12:${m}:00.000Z`),
    );
    expect(p.status.upcoming?.[0]).to.equal(p.status.nextExecutionTime);
  });

  it('upcoming holds no more runs than the count has left, none while paused, and a one-shot its one time', () => {
    const now = at('2026-11-27T12:01:10Z');
    expect(plan(job({ pattern: '*/5 * * * *', count: 2 }), none, now, cfg).status.upcoming).to.have.length(2);
    expect(plan(job({ pattern: '*/5 * * * *', suspend: true }), none, now, cfg).status.upcoming).to.equal(
      undefined,
    );
    const oneShot = plan(job({ firstExecutionTime: '2026-11-27T13:00:00Z' }), none, now, cfg);
    expect(oneShot.status.upcoming).to.deep.equal(['2026-11-27T13:00:00.000Z']);
  });

  it('wants an owned, unsuspended CronJob with a time zone and restricted, no-retry pods', () => {
    const cj = p.cronJob;
    expect(cj?.spec?.suspend).to.equal(false);
    expect(cj?.spec?.schedule).to.equal('*/5 * * * *');
    expect(cj?.spec?.timeZone).to.equal('Etc/UTC');
    expect(cj?.spec?.startingDeadlineSeconds).to.equal(cfg.startingDeadlineSeconds);
    expect(cj?.metadata?.ownerReferences?.[0]).to.include({ kind: 'QinlingJob', uid: UID, controller: true });
    expect(cj?.metadata?.labels?.['qinling.io/job-uid']).to.equal(UID);
    const jt = cj?.spec?.jobTemplate.spec;
    expect(jt?.backoffLimit).to.equal(0);
    const pod = jt?.template.spec;
    expect(pod?.restartPolicy).to.equal('Never');
    expect(pod?.securityContext).to.deep.include({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.containers[0]?.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('needs no requeue before the tick (the CronJob fires it)', () =>
    expect(p.startRuns[0]).to.equal(undefined));

  it('gives run pods the invoker pull secrets, when there are any', () => {
    expect(p.cronJob?.spec?.jobTemplate.spec?.template.spec?.imagePullSecrets).to.equal(undefined);
    const withSecrets = { ...cfg, invokerPullSecrets: ['regcred', 'mirror'] };
    const q = plan(job({ pattern: '*/5 * * * *' }), none, at('2026-11-27T12:01:10Z'), withSecrets);
    expect(q.cronJob?.spec?.jobTemplate.spec?.template.spec?.imagePullSecrets).to.deep.equal([
      { name: 'regcred' },
      { name: 'mirror' },
    ]);
  });
});

describe('planner: a first tick too near for the CronJob to fire it', () => {
  const spec = { pattern: '* * * * *' };
  it('is started by the operator when the CronJob cannot exist before it', () => {
    const p = plan(job(spec), none, at('2026-11-27T15:00:59.900Z'), cfg);
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T15:01:00.000Z');
    expect(p.status.nextRunByOperator).to.equal(true);
    expect(p.cronJob?.spec?.suspend).to.equal(true);
    // The CronJob landed at the tick: the controller would skip it, the operator starts it.
    const due = plan(
      job(spec, p.status),
      { runs: [], cronJob: ownedCronJob(true, undefined, '2026-11-27T15:01:00Z') },
      at('2026-11-27T15:01:00.050Z'),
      cfg,
    );
    expect(due.startRuns[0]?.metadata?.name).to.equal(
      `nightly-${at('2026-11-27T15:01:00Z').getTime() / 1000}`,
    );
    const after = plan(
      job(spec, due.status),
      {
        runs: [run('2026-11-27T15:01:00Z', 'Running')],
        cronJob: ownedCronJob(true, undefined, '2026-11-27T15:01:00Z'),
      },
      at('2026-11-27T15:01:01Z'),
      cfg,
    );
    expect(after.status.nextExecutionTime).to.equal('2026-11-27T15:02:00.000Z');
    expect(after.status.nextRunByOperator).to.equal(false);
    expect(after.cronJob?.spec?.suspend).to.equal(false);
  });

  it('is taken over when a CronJob turns out to be created at or after the tick', () => {
    const status = plan(job(spec), none, at('2026-11-27T15:00:30Z'), cfg).status;
    expect(status.nextRunByOperator).to.equal(false);
    const late = plan(
      job(spec, status),
      { runs: [], cronJob: ownedCronJob(false, undefined, '2026-11-27T15:01:00Z') },
      at('2026-11-27T15:01:00.200Z'),
      cfg,
    );
    expect(late.status.nextRunByOperator).to.equal(true);
    expect(late.startRuns[0]?.metadata?.name).to.equal(
      `nightly-${at('2026-11-27T15:01:00Z').getTime() / 1000}`,
    );
  });

  it('is not replayed when long missed: the job seen hours after its creation moves on from now', () => {
    const old = job(spec);
    old.metadata.creationTimestamp = '2026-11-27T10:00:00Z';
    for (const cronJob of [undefined, ownedCronJob(true, undefined, '2026-11-27T11:59:00Z')]) {
      const p = plan(old, { runs: [], ...(cronJob ? { cronJob } : {}) }, at('2026-11-27T12:00:30Z'), cfg);
      expect(p.events.map((e) => e.reason)).to.include('MissedRun');
      expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:01:00.000Z');
      expect(p.status.nextRunByOperator).to.equal(false);
      expect(p.startRuns[0]).to.equal(undefined);
    }
  });

  it('is left to the CronJob when it exists in time', () => {
    const p = plan(job(spec), none, at('2026-11-27T15:00:50Z'), cfg);
    expect(p.status.nextRunByOperator).to.equal(false);
    expect(p.cronJob?.spec?.suspend).to.equal(false);
  });
});

describe('planner: the function input is stored once, in the job’s ConfigMap', () => {
  const input = ['{"q": "it\'s \\"quoted\\"", "cmd": "$(rm -rf /)", "cost": "$$5"}', 'line2 ünï'].join('\n');
  const spec = { pattern: '* * * * *', functionInput: input };
  it('plans the ConfigMap beside the CronJob, with the input as it is (no $ escaping)', () => {
    const p = plan(job(spec), none, at('2026-11-27T12:00:00Z'), cfg);
    expect(p.input?.metadata?.name).to.equal('nightly-input');
    expect(p.input?.data).to.deep.equal({ input });
    expect(JSON.stringify(p.cronJob)).to.not.contain('rm -rf');
  });
  it('plans none for an invalid job (its CronJob is only held)', () => {
    const p = plan(
      job({ ...spec, pattern: '0 0 30 2 *' }),
      { runs: [], cronJob: ownedCronJob(false) },
      at('2026-11-27T12:00:00Z'),
      cfg,
    );
    expect(p.input).to.equal(undefined);
    expect(p.cronJob?.spec?.suspend).to.equal(true);
  });
  it('a ConfigMap of that name not ours: Ready=False NameConflict, the CronJob held, nothing started', () => {
    const oneShot = { firstExecutionTime: '2026-11-27T12:00:00Z', functionInput: input };
    const due = job(oneShot, { nextExecutionTime: '2026-11-27T12:00:00.000Z', nextRunByOperator: true });
    const observed = { runs: [], cronJob: ownedCronJob(false), foreignInput: 'nightly-input' };
    const p = plan(due, observed, at('2026-11-27T12:00:00.100Z'), cfg);
    expect(p.status.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'NameConflict',
      message: 'ConfigMap nightly-input exists and is not owned by this job; it is left alone',
    });
    expect(p.events.map((e) => e.reason)).to.include('NameConflict');
    expect(p.cronJob?.spec?.suspend).to.equal(true);
    expect(p.cronJob?.spec?.jobTemplate).to.deep.equal({}); // left as it was
    expect(p.input).to.equal(undefined);
    expect(p.startRuns).to.deep.equal([]);
  });
});

describe('planner: firstExecutionTime ahead', () => {
  const spec = { pattern: '* * * * *', firstExecutionTime: '2026-11-27T12:30:00Z' };
  it('holds the CronJob suspended until the tick before the first run is past the deadline', () => {
    const p = plan(job(spec), { runs: [], cronJob: ownedCronJob(true) }, at('2026-11-27T12:10:00Z'), cfg);
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:30:00.000Z');
    expect(p.cronJob?.spec?.suspend).to.equal(true);
    // tick before the first run: 12:29:00; + startingDeadlineSeconds (20 s) + 1 s
    expect(p.requeueAfterMs).to.equal((19 * 60 + 21) * 1000);
  });
  it('lets the CronJob run once that tick cannot fire any more', () => {
    const p = plan(
      job(spec, { nextExecutionTime: '2026-11-27T12:30:00.000Z' }),
      { runs: [], cronJob: ownedCronJob(true) },
      at('2026-11-27T12:29:21Z'),
      cfg,
    );
    expect(p.cronJob?.spec?.suspend).to.equal(false);
  });
});

describe('planner: count (every run started by the operator, so none is ever extra)', () => {
  const spec = { pattern: '* * * * *', count: 2 };
  const cj = ownedCronJob(true);
  const s0 = plan(job(spec), { runs: [], cronJob: cj }, at('2026-11-27T12:00:10Z'), cfg).status;
  it('starts with remaining = count, the operator owning the runs and the CronJob suspended', () => {
    expect(s0.remaining).to.equal(2);
    expect(s0.nextExecutionTime).to.equal('2026-11-27T12:01:00.000Z');
    expect(s0.nextRunByOperator).to.equal(true);
    expect(
      plan(job(spec, s0), { runs: [], cronJob: cj }, at('2026-11-27T12:00:11Z'), cfg).cronJob?.spec?.suspend,
    ).to.equal(true);
  });
  const due1 = plan(job(spec, s0), { runs: [], cronJob: cj }, at('2026-11-27T12:01:00.010Z'), cfg);
  it('at the tick: claims the run in status and starts it as a Job named after the second', () => {
    expect(due1.status.claimedTimes).to.deep.equal(['2026-11-27T12:01:00.000Z']);
    expect(due1.startRuns.map((j) => j.metadata?.name)).to.deep.equal([
      `nightly-${at('2026-11-27T12:01:00Z').getTime() / 1000}`,
    ]);
    expect(due1.startRuns[0]?.metadata?.annotations?.['qinling.io/scheduled-time']).to.equal(
      '2026-11-27T12:01:00.000Z',
    );
    // The QinlingJob's, not the CronJob's: upstream's controller would flag it as unexpected.
    expect(due1.startRuns[0]?.metadata?.ownerReferences).to.deep.equal([
      { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'nightly', uid: UID, controller: true },
    ]);
    expect(due1.status.executions).to.equal(0);
  });
  const opRun = (t: string, result: ObservedRun['result'] = 'Running'): ObservedRun => ({
    ...run(t, result),
    jobName: `nightly-${at(t).getTime() / 1000}`,
  });
  const after1 = plan(
    job(spec, due1.status),
    { runs: [opRun('2026-11-27T12:01:00Z')], cronJob: cj },
    at('2026-11-27T12:01:01Z'),
    cfg,
  );
  it('once its Job is seen: counted, the claim settled, the next tick planned', () => {
    expect(after1.status.executions).to.equal(1);
    expect(after1.status.remaining).to.equal(1);
    expect(after1.status.claimedTimes).to.equal(undefined);
    expect(after1.status.nextExecutionTime).to.equal('2026-11-27T12:02:00.000Z');
    expect(after1.startRuns).to.deep.equal([]);
    // The next tick's run is claimed and made `lead` before its time (early.ts).
    expect(after1.requeueAfterMs).to.equal(59_000 - cfg.leadSeconds * 1000);
  });
  const due2 = plan(
    job(spec, after1.status),
    { runs: [opRun('2026-11-27T12:01:00Z')], cronJob: cj },
    at('2026-11-27T12:02:00Z'),
    cfg,
  );
  const done = plan(
    job(spec, due2.status),
    { runs: [opRun('2026-11-27T12:01:00Z'), opRun('2026-11-27T12:02:00Z')], cronJob: cj },
    at('2026-11-27T12:02:01Z'),
    cfg,
  );
  it('after the last run: Done, remaining 0, suspended, nothing more to start', () => {
    expect(due2.startRuns.length).to.equal(1);
    expect(done.status.phase).to.equal('Done');
    expect(done.status.remaining).to.equal(0);
    expect(done.status.executions).to.equal(2);
    expect(done.status.nextExecutionTime).to.equal(undefined);
    expect(done.cronJob?.spec?.suspend).to.equal(true);
    expect(done.startRuns).to.deep.equal([]);
  });
  it('counts a scheduled time once however often it is seen, and keeps the count when history is deleted', () => {
    const again = plan(
      job(spec, done.status),
      { runs: [opRun('2026-11-27T12:02:00Z')], cronJob: cj },
      at('2026-11-27T12:05:00Z'),
      cfg,
    );
    expect(again.status.executions).to.equal(2);
    const gone = plan(job(spec, done.status), { runs: [], cronJob: cj }, at('2026-11-27T12:05:00Z'), cfg);
    expect(gone.status.executions).to.equal(2);
    expect(gone.status.phase).to.equal('Done');
  });
  it('deletes its own finished runs past the history limits once a written status counted them', () => {
    const many = ['12:01', '12:02', '12:03', '12:04', '12:05'].map((m) => ({
      ...opRun(`2026-11-27T${m}:00Z`, 'Succeeded'),
      byOperator: true,
    }));
    const counted = many.map((r) => r.scheduledTime.toISOString());
    const p = plan(
      job({ pattern: '* * * * *', count: 10 }, { ...after1.status, countedTimes: counted }),
      { runs: many, cronJob: cj },
      at('2026-11-27T12:05:30Z'),
      cfg,
    );
    expect(p.deleteRuns).to.have.members(
      many.slice(0, 5 - cfg.successfulJobsHistoryLimit).map((r) => r.jobName),
    );
    const fresh = plan(
      job({ pattern: '* * * * *', count: 10 }, after1.status),
      { runs: many, cronJob: cj },
      at('2026-11-27T12:05:30Z'),
      cfg,
    );
    // after1's status counted 12:01 only: 12:02 is past the limit too, but not counted yet.
    expect(fresh.deleteRuns, 'only what a written status counted').to.deep.equal([many[0]?.jobName]);
  });
});

describe('planner: one-shot', () => {
  const spec = { firstExecutionTime: '2026-11-27T12:10:37Z' };
  it('waits with a suspended CronJob, then starts exactly one run at that second, then is Done', () => {
    const wait = plan(job(spec), { runs: [], cronJob: ownedCronJob(true) }, at('2026-11-27T12:08:00Z'), cfg);
    expect(wait.status.nextExecutionTime).to.equal('2026-11-27T12:10:37.000Z');
    expect(wait.status.remaining).to.equal(1);
    expect(wait.cronJob?.spec?.suspend).to.equal(true);
    expect(wait.cronJob?.spec?.schedule).to.equal('10 12 27 11 *');
    expect(wait.requeueAfterMs).to.equal(157_000 - cfg.leadSeconds * 1000); // made `lead` early
    const due = plan(
      job(spec, wait.status),
      { runs: [], cronJob: ownedCronJob(true) },
      at('2026-11-27T12:10:37.100Z'),
      cfg,
    );
    expect(due.startRuns[0]?.metadata?.name).to.equal(
      `nightly-${at(spec.firstExecutionTime).getTime() / 1000}`,
    );
    const done = plan(
      job(spec, due.status),
      { runs: [run(spec.firstExecutionTime, 'Running')], cronJob: ownedCronJob(true) },
      at('2026-11-27T12:10:38Z'),
      cfg,
    );
    expect(done.status.phase).to.equal('Done');
    expect(done.startRuns[0]).to.equal(undefined);
  });
  it('refuses a count above 1 without a pattern', () => {
    const p = plan(job({ ...spec, count: 3 }), none, at('2026-11-27T12:08:00Z'), cfg);
    expect(p.status.phase).to.equal('Failed');
    expect(p.status.conditions?.find((c) => c.type === 'Valid')?.message).to.equal(
      'pattern must be provided if count is greater than 1.',
    );
  });
});

describe('planner: pause, resume, override, cancel', () => {
  const running = plan(job({ pattern: '*/10 * * * *' }), none, at('2026-11-27T12:01:00Z'), cfg).status;
  it('pause: Paused and suspended, no run', () => {
    const p = plan(
      job({ pattern: '*/10 * * * *', suspend: true }, running),
      { runs: [], cronJob: ownedCronJob(false) },
      at('2026-11-27T12:02:00Z'),
      cfg,
    );
    expect(p.status.phase).to.equal('Paused');
    expect(p.cronJob?.spec?.suspend).to.equal(true);
  });
  it('resume: next execution recomputed from now', () => {
    const paused = { ...running, phase: 'Paused' as const };
    const p = plan(
      job({ pattern: '*/10 * * * *' }, paused),
      { runs: [], cronJob: ownedCronJob(true) },
      at('2026-11-27T12:47:00Z'),
      cfg,
    );
    expect(p.status.phase).to.equal('Running');
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:50:00.000Z');
  });
  it('override: the next run at the given time by the operator, later runs on the pattern', () => {
    const spec = { pattern: '*/10 * * * *', nextExecutionTime: '2026-11-27T12:04:30Z' };
    const p = plan(
      job(spec, running),
      { runs: [], cronJob: ownedCronJob(false) },
      at('2026-11-27T12:02:00Z'),
      cfg,
    );
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:04:30.000Z');
    expect(p.status.nextRunByOperator).to.equal(true);
    expect(p.cronJob?.spec?.suspend).to.equal(true);
    const after = plan(
      job(spec, p.status),
      { runs: [run('2026-11-27T12:04:30Z', 'Running')], cronJob: ownedCronJob(true) },
      at('2026-11-27T12:04:31Z'),
      cfg,
    );
    expect(after.status.nextExecutionTime).to.equal('2026-11-27T12:10:00.000Z');
    expect(after.status.nextRunByOperator).to.equal(false);
    // the override is applied once: it does not come back on the next pass
    const later = plan(
      job(spec, after.status),
      { runs: [run('2026-11-27T12:04:30Z')], cronJob: ownedCronJob(true) },
      at('2026-11-27T12:05:00Z'),
      cfg,
    );
    expect(later.status.nextExecutionTime).to.equal('2026-11-27T12:10:00.000Z');
    expect(later.cronJob?.spec?.suspend).to.equal(false);
  });
  it('cancel: Cancelled, suspended, no next time, still there', () => {
    const p = plan(
      job({ pattern: '*/10 * * * *', cancelled: true }, running),
      { runs: [], cronJob: ownedCronJob(false) },
      at('2026-11-27T12:02:00Z'),
      cfg,
    );
    expect(p.status.phase).to.equal('Cancelled');
    expect(p.status.nextExecutionTime).to.equal(undefined);
    expect(p.cronJob?.spec?.suspend).to.equal(true);
  });
});

describe('planner: failures and conflicts', () => {
  it('an invalid pattern: Failed, Valid=False, an event, no CronJob', () => {
    const p = plan(job({ pattern: '0 0 30 2 *' }), none, at('2026-11-27T12:00:00Z'), cfg);
    expect(p.status.phase).to.equal('Failed');
    const valid = p.status.conditions?.find((c) => c.type === 'Valid');
    expect(valid).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(valid?.message).to.contain('The specified pattern is not valid: 0 0 30 2 *');
    expect(p.events.map((e) => e.reason)).to.deep.equal(['InvalidSpec']);
    expect(p.cronJob).to.equal(undefined);
    const again = plan(job({ pattern: '0 0 30 2 *' }, p.status), none, at('2026-11-27T12:01:00Z'), cfg);
    expect(again.events).to.deep.equal([]); // said once, not on every pass
  });
  it('an invalid spec suspends a CronJob it made earlier', () => {
    const p = plan(
      job({ pattern: '@every 1m' }),
      { runs: [], cronJob: ownedCronJob(false) },
      at('2026-11-27T12:00:00Z'),
      cfg,
    );
    expect(p.cronJob?.spec?.suspend).to.equal(true);
  });
  it('a same-named CronJob it does not own: left alone, Ready=False NameConflict', () => {
    const foreign: V1CronJob = {
      metadata: { name: 'nightly', uid: 'x' },
      spec: { schedule: '* * * * *', jobTemplate: {} },
    };
    const p = plan(
      job({ pattern: '* * * * *' }),
      { runs: [], cronJob: foreign },
      at('2026-11-27T12:00:00Z'),
      cfg,
    );
    expect(p.cronJob).to.equal(undefined);
    expect(p.status.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'NameConflict',
    });
    expect(p.events.map((e) => e.reason)).to.include('NameConflict');
  });
  it('a failed run: lastExecution says how, and a Warning says why', () => {
    const s = plan(job({ pattern: '* * * * *' }), none, at('2026-11-27T12:00:10Z'), cfg).status;
    const p = plan(
      job({ pattern: '* * * * *' }, s),
      {
        runs: [run('2026-11-27T12:01:00Z', 'Failed', 'runtime answered HTTP 500')],
        cronJob: ownedCronJob(false, '2026-11-27T12:01:00Z'),
      },
      at('2026-11-27T12:01:05Z'),
      cfg,
    );
    expect(p.status.lastExecution).to.include({ result: 'Failed', message: 'runtime answered HTTP 500' });
    expect(p.events.find((e) => e.reason === 'RunFailed')?.message).to.contain('HTTP 500');
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:02:00.000Z');
  });
  it('a run the CronJob never started: MissedRun, and the next tick after now', () => {
    const s = plan(job({ pattern: '* * * * *' }), none, at('2026-11-27T12:00:10Z'), cfg).status;
    const p = plan(
      job({ pattern: '* * * * *' }, s),
      { runs: [], cronJob: ownedCronJob(false) },
      at('2026-11-27T12:05:10Z'),
      cfg,
    );
    // 12:01 to 12:04 are past their deadline; 12:05 may still start (within its deadline).
    expect(p.events.filter((e) => e.reason === 'MissedRun').length).to.equal(4);
    expect(p.status.missedRuns).to.equal(4);
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:05:00.000Z');
  });
});
