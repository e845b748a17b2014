// QinlingJobs for the planner's table tests: one job, `nightly` in namespace p1, with its spec,
// status and generation as each case needs.
import type { V1CronJob } from '@kubernetes/client-node';
import type { QinlingJob, QinlingJobSpec, QinlingJobStatus } from '../domain/types.js';

export const UID = '5b2a7c1e-1111-4222-8333-944455556666';

export function job(spec: QinlingJobSpec, status?: QinlingJobStatus, generation = 1): QinlingJob {
  return {
    apiVersion: 'qinling.io/v1',
    kind: 'QinlingJob',
    metadata: { name: 'nightly', namespace: 'p1', uid: UID, generation },
    spec: { functionId: 'f-1', ...spec },
    ...(status ? { status } : {}),
  };
}

/** The job's CronJob as the operator made it (owned by the job), made an hour before the tests' now. */
export function ownedCronJob(schedule = '* * * * *'): V1CronJob {
  return {
    metadata: {
      name: 'nightly',
      uid: 'cj-uid',
      creationTimestamp: new Date('2026-11-27T11:00:00Z'),
      ownerReferences: [
        { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'nightly', uid: UID, controller: true },
      ],
    },
    spec: { schedule, jobTemplate: {} },
  };
}
