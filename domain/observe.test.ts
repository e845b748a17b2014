import { expect } from 'chai';
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { scheduledTimeOf } from './observe.js';

const cronJob: V1CronJob = { metadata: { name: 'nightly', uid: 'cj-uid' } };
const minutes = Date.parse('2026-11-27T12:05:00Z') / 60_000;
const seconds = Date.parse('2026-11-27T12:04:30Z') / 1000;

function jobOf(name: string, annotations: Record<string, string>, ownerUid = 'cj-uid'): V1Job {
  return {
    metadata: {
      name,
      annotations,
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: ownerUid, controller: true },
      ],
    },
  };
}

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
  ];
  for (const [name, job, want] of cases) {
    it(name, () => expect(scheduledTimeOf(job, cronJob)?.toISOString()).to.equal(want));
  }
  it('nothing counts before the CronJob (its uid) is known', () => {
    expect(scheduledTimeOf(jobOf(`nightly-${minutes}`, ctl), undefined)).to.equal(undefined);
  });
});
