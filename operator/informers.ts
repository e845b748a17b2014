// Informers over the objects the operator reads: QinlingJobs (in the watched namespaces) and the
// CronJobs and Jobs it manages. Reads come from these caches; an informer that stops on an error
// is restarted with a back-off, since client-node's does not restart itself.
import { ListWatch, Watch, type KubernetesObject, type V1CronJob, type V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, LABEL_MANAGED_BY, MANAGER, PLURAL, VERSION, type QinlingJob } from '../domain/types.js';
import type { Kube } from './kube.js';

type Handler<T> = (verb: 'add' | 'update' | 'delete', obj: T) => void;

/** One ListWatch per watched namespace (or one for all), read as a single cache. */
export class Informer<T> {
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private synced = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly log: Logger,
    make: (namespace: string | undefined) => ListWatch<KubernetesObject>,
    namespaces: string[],
  ) {
    for (const ns of namespaces.length > 0 ? namespaces : [undefined]) {
      const w = make(ns);
      // managedFields are a large share of every object and never read here: drop them from the
      // cached copy (the same object the cache holds), so 10,000 jobs fit in a small heap.
      const slim = (o: KubernetesObject) => delete o.metadata?.managedFields;
      w.on('add', slim);
      w.on('update', slim);
      this.watches.push(w);
    }
  }

  on(handler: Handler<T>): void {
    for (const w of this.watches) {
      w.on('add', (o) => handler('add', o as T));
      w.on('update', (o) => handler('update', o as T));
      w.on('delete', (o) => handler('delete', o as T));
      w.on('error', (err) => this.restart(w, err, 1000));
    }
  }

  private restart(w: ListWatch<KubernetesObject>, err: unknown, delayMs: number): void {
    if (this.stopped) return; // the abort of our own stop() arrives as an error too
    this.log.warn({ err, informer: this.name, delayMs }, 'watch stopped; restarting');
    setTimeout(() => {
      if (this.stopped) return;
      w.start().catch((e: unknown) => this.restart(w, e, Math.min(delayMs * 2, 30_000)));
    }, delayMs).unref();
  }

  async start(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.start()));
    this.synced = true;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    for (const w of this.watches) {
      const o = w.get(name, namespace);
      if (o) return o as T;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.watches.flatMap((w) => w.list(namespace)) as T[];
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.all(this.watches.map((w) => w.stop())).then(() => undefined);
  }
}

const managed = `${LABEL_MANAGED_BY}=${MANAGER}`;

export function makeInformers(kube: Kube, namespaces: string[], log: Logger) {
  const watch = new Watch(kube.kc);
  const jobs = new Informer<QinlingJob>(
    'qinlingjobs',
    log,
    (ns) =>
      new ListWatch<KubernetesObject>(
        ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        watch,
        () =>
          (ns
            ? kube.custom.listNamespacedCustomObject({
                group: GROUP,
                version: VERSION,
                namespace: ns,
                plural: PLURAL,
              })
            : kube.custom.listClusterCustomObject({
                group: GROUP,
                version: VERSION,
                plural: PLURAL,
              })) as Promise<never>,
        false,
      ),
    namespaces,
  );
  const cronJobs = new Informer<V1CronJob>(
    'cronjobs',
    log,
    (ns) =>
      new ListWatch<KubernetesObject>(
        ns ? `/apis/batch/v1/namespaces/${ns}/cronjobs` : '/apis/batch/v1/cronjobs',
        watch,
        () =>
          ns
            ? kube.batch.listNamespacedCronJob({ namespace: ns, labelSelector: managed })
            : kube.batch.listCronJobForAllNamespaces({ labelSelector: managed }),
        false,
        managed,
      ),
    namespaces,
  );
  const runs = new Informer<V1Job>(
    'jobs',
    log,
    (ns) =>
      new ListWatch<KubernetesObject>(
        ns ? `/apis/batch/v1/namespaces/${ns}/jobs` : '/apis/batch/v1/jobs',
        watch,
        () =>
          ns
            ? kube.batch.listNamespacedJob({ namespace: ns, labelSelector: managed })
            : kube.batch.listJobForAllNamespaces({ labelSelector: managed }),
        false,
        managed,
      ),
    namespaces,
  );
  return { jobs, cronJobs, runs };
}

export type Informers = ReturnType<typeof makeInformers>;
