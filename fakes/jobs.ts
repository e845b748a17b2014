// QinlingJobs for the planner's table tests: one job, `nightly` in namespace p1, with its spec,
// status and generation as each case needs.
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
