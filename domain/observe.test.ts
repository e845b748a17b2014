import { expect } from 'chai';
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { expiredRuns } from './count.js';
import type { ObservedRun } from './observe.js';
import { observeRun, scheduledTimeOf } from './observe.js';

const cronJob: V1CronJob = {
  metadata: { name: 'nightly', uid: 'cj-uid' },
  spec: { schedule: '* * * * *', jobTemplate: {} },
};
const minutes = Date.parse('2026-11-27T12:05:00Z') / 60_000;
const seconds = Date.parse('2026-11-27T12:04:30Z') / 1000;

function jobOf(
  name: string,
  annotations: Record<string, string>,
  ownerUid = 'cj-uid',
  kind = 'CronJob',
): V1Job {
  return {
    metadata: {
      name,
      annotations,
      ownerReferences: [{ apiVersion: 'batch/v1', kind, name: 'nightly', uid: ownerUid, controller: true }],
    },
  };
}
const JOB_UID = 'qj-uid';
const byJob = (name: string, annotations: Record<string, string>, uid = JOB_UID) =>
  jobOf(name, annotations, uid, 'QinlingJob');

describe('observe: which Jobs are our runs (only those can count)', () => {
  const ctl = { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-11-27T13:05:00+01:00' };
  const ours = { 'qinling.io/scheduled-time': '2026-11-27T12:04:30.000Z' };
  const cases: [string, V1Job, string | undefined][] = [
    ['a CronJob controller run', jobOf(`nightly-${minutes}`, ctl), '2026-11-27T12:05:00.000Z'],
    ['an operator run', jobOf(`nightly-${seconds}`, ours), '2026-11-27T12:04:30.000Z'],
    [
      'kubectl create job --from (manual)',
      jobOf(`nightly-${minutes}`, { ...ctl, 'cronjob.kubernetes.io/instantiate': 'manual' }),
      undefined,
    ],
    ['a name far in the future without a timestamp', jobOf('nightly-999999999', {}), undefined],
    ['a name that does not match its timestamp', jobOf('nightly-999999999', ctl), undefined],
    ['a look-alike controlled by another CronJob', jobOf(`nightly-${minutes}`, ctl, 'other-uid'), undefined],
    ['another CronJob name prefix', jobOf(`nightly2-${minutes}`, ctl), undefined],
    [
      'an operator run controlled by the QinlingJob',
      byJob(`nightly-${seconds}`, ours),
      '2026-11-27T12:04:30.000Z',
    ],
    ['a controller-named Job controlled by the QinlingJob', byJob(`nightly-${minutes}`, ctl), undefined],
    ['an operator run of another QinlingJob', byJob(`nightly-${seconds}`, ours, 'other-qj'), undefined],
  ];
  for (const [name, job, want] of cases) {
    it(name, () => expect(scheduledTimeOf(job, cronJob, JOB_UID)?.toISOString()).to.equal(want));
  }
  it('says which runs are the operator’s (their history is its to keep)', () => {
    expect(observeRun(byJob(`nightly-${seconds}`, ours), cronJob, undefined, JOB_UID)?.byOperator).to.equal(
      true,
    );
    expect(observeRun(jobOf(`nightly-${seconds}`, ours), cronJob, undefined, JOB_UID)?.byOperator).to.equal(
      undefined,
    );
  });
  it('nothing counts before the CronJob (its uid) is known', () => {
    expect(scheduledTimeOf(jobOf(`nightly-${minutes}`, ctl), undefined)).to.equal(undefined);
  });
});

describe('history: the operator deletes its own finished runs past the limits, once counted', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 10, 27, 12, m));
  const r = (m: number, result: ObservedRun['result'], byOperator = true): ObservedRun => ({
    jobName: `nightly-${t(m).getTime() / 1000}`,
    scheduledTime: t(m),
    result,
    ...(byOperator ? { byOperator } : {}),
  });
  const limits = { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 };
  const all = (ms: number[]) => ms.map((m) => t(m).toISOString());

  it('keeps the newest of each result, deletes the older counted ones', () => {
    const runs = [r(1, 'Succeeded'), r(2, 'Succeeded'), r(3, 'Failed'), r(4, 'Succeeded'), r(5, 'Failed')];
    expect(expiredRuns(runs, all([1, 2, 3, 4, 5]), limits)).to.deep.equal([
      r(1, 'Succeeded').jobName,
      r(3, 'Failed').jobName,
    ]);
  });
  it('never a run no written status has counted yet, a running one, or the CronJob controller’s', () => {
    const runs = [
      r(1, 'Succeeded'),
      r(2, 'Succeeded', false),
      r(3, 'Running'),
      r(4, 'Succeeded'),
      r(5, 'Succeeded'),
    ];
    expect(expiredRuns(runs, all([2, 3, 4, 5]), limits)).to.deep.equal([]);
    expect(expiredRuns(runs, all([1, 2, 3, 4, 5]), limits)).to.deep.equal([r(1, 'Succeeded').jobName]);
  });
  it('keeps at least one whatever the limit', () => {
    expect(
      expiredRuns([r(1, 'Failed'), r(2, 'Failed')], all([1, 2]), { ...limits, failedJobsHistoryLimit: 0 }),
    ).to.deep.equal([r(1, 'Failed').jobName]);
  });
});
