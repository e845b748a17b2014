// Informers over the objects the operator reads: QinlingJobs (in the watched namespaces) and the
// CronJobs and Jobs it manages. Reads come from these caches.
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { Informer } from '../kube/informer.js';
import { BoundedWatch, listWatch } from '../kube/watch.js';
import { qinlingJobInformer } from '../kube/qinlingjobs.js';
import type { Logger } from 'pino';
import { LABEL_JOB_UID, LABEL_MANAGED_BY, MANAGER } from '../domain/types.js';
import type { Kube } from '../kube/client.js';

const managed = `${LABEL_MANAGED_BY}=${MANAGER}`;

export function makeInformers(kube: Kube, namespaces: string[], log: Logger, watchTimeoutSeconds = 0) {
  const watch = new BoundedWatch(kube.kc, watchTimeoutSeconds);
  const jobs = qinlingJobInformer(kube, watch, log, namespaces);
  const cronJobs = new Informer<V1CronJob>(
    'cronjobs',
    log,
    (ns) =>
      listWatch(
        ns ? `/apis/batch/v1/namespaces/${ns}/cronjobs` : '/apis/batch/v1/cronjobs',
        watch,
        () =>
          ns
            ? kube.batch.listNamespacedCronJob({ namespace: ns, labelSelector: managed })
            : kube.batch.listCronJobForAllNamespaces({ labelSelector: managed }),
        managed,
      ),
    namespaces,
  );
  const runs = new Informer<V1Job>(
    'jobs',
    log,
    (ns) =>
      listWatch(
        ns ? `/apis/batch/v1/namespaces/${ns}/jobs` : '/apis/batch/v1/jobs',
        watch,
        () =>
          ns
            ? kube.batch.listNamespacedJob({ namespace: ns, labelSelector: managed })
            : kube.batch.listJobForAllNamespaces({ labelSelector: managed }),
        managed,
      ),
    namespaces,
  );
  /** The runs of one QinlingJob (by its uid label), without a scan of the namespace. */
  const runsOf = runs.index((j) => j.metadata?.labels?.[LABEL_JOB_UID]);
  return { jobs, cronJobs, runs, runsOf };
}

export type Informers = ReturnType<typeof makeInformers>;
