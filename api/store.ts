// Where jobs live: QinlingJobs read from an informer cache (never an apiserver call per read),
// written to the apiserver, with read-your-writes: what this facade just wrote is served from an
// overlay until the cache has caught up, so a client sees its write in its next request.
import { randomBytes } from 'node:crypto';
import {
  PatchStrategy,
  setHeaderOptions,
  Watch,
  ListWatch,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors.js';
import {
  GROUP,
  PLURAL,
  VERSION,
  API_VERSION,
  KIND,
  type QinlingJob,
  type QinlingJobSpec,
} from '../domain/types.js';
import { ANNOTATION_UPDATED_AT } from '../domain/wire.js';
import { isNotFound, statusCode, type Kube } from '../kube/client.js';
import { Informer } from '../kube/informer.js';

export const LABEL_PROJECT = 'qinling.io/project-id';

/** What the facade needs from storage; the component tests use a fake of this. */
export interface JobStore {
  ready(): boolean;
  /** Every job, or those of one namespace. */
  list(namespace?: string): QinlingJob[];
  byId(id: string): QinlingJob | undefined;
  /** Creates a job; with `name`, a second create of that name fails with a 409-like error. */
  create(namespace: string, spec: QinlingJobSpec, name?: string): Promise<QinlingJob>;
  /** The job of that name as the apiserver has it now; undefined when there is none. */
  get(namespace: string, name: string): Promise<QinlingJob | undefined>;
  /** Changes spec fields, stamping updated_at; fails with a 409-like error on a stale version. */
  update(job: QinlingJob, patch: Partial<QinlingJobSpec>, at: Date): Promise<QinlingJob>;
  /** The job as the apiserver has it now (after a conflict); undefined when gone. */
  latest(job: QinlingJob): Promise<QinlingJob | undefined>;
  /** Suspends the job's CronJob first, so no run starts once the delete has returned. */
  remove(job: QinlingJob): Promise<void>;
  /** The namespace holding a project's jobs; made (and labelled) when `create` and missing. */
  namespaceOf(projectId: string, create: boolean): Promise<string | undefined>;
  projectOf(namespace: string): string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class KubeJobStore implements JobStore {
  private readonly jobs: Informer<QinlingJob>;
  private readonly namespaces: Informer<V1Namespace>;
  private readonly byUid = new Map<string, string>();
  /** Written here, not yet in the cache: uid -> object (or null for a delete). */
  private readonly overlay = new Map<string, QinlingJob | null>();

  constructor(
    private readonly kube: Kube,
    log: Logger,
  ) {
    const watch = new Watch(kube.kc);
    this.jobs = new Informer<QinlingJob>(
      'qinlingjobs',
      log,
      () =>
        new ListWatch<KubernetesObject>(
          `/apis/${GROUP}/${VERSION}/${PLURAL}`,
          watch,
          () =>
            kube.custom.listClusterCustomObject({
              group: GROUP,
              version: VERSION,
              plural: PLURAL,
            }) as Promise<never>,
          false,
        ),
      [],
    );
    this.namespaces = new Informer<V1Namespace>(
      'namespaces',
      log,
      () =>
        new ListWatch<KubernetesObject>('/api/v1/namespaces', watch, () => kube.core.listNamespace(), false),
      [],
    );
    this.jobs.on((verb, j) => {
      if (verb === 'delete') this.byUid.delete(j.metadata.uid);
      else this.byUid.set(j.metadata.uid, `${j.metadata.namespace}/${j.metadata.name}`);
      const pending = this.overlay.get(j.metadata.uid);
      // The cache has caught up with our write (or gone past it): drop the overlay entry.
      if (
        pending === null
          ? verb === 'delete'
          : pending && Number(j.metadata.resourceVersion) >= Number(pending.metadata.resourceVersion)
      ) {
        this.overlay.delete(j.metadata.uid);
      }
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.jobs.start(), this.namespaces.start()]);
  }

  stop(): Promise<void> {
    return Promise.all([this.jobs.stop(), this.namespaces.stop()]).then(() => undefined);
  }

  ready(): boolean {
    return this.jobs.hasSynced && this.namespaces.hasSynced;
  }

  list(namespace?: string): QinlingJob[] {
    const out = new Map<string, QinlingJob>();
    for (const j of this.jobs.list(namespace)) out.set(j.metadata.uid, j);
    for (const [uid, j] of this.overlay) {
      if (j === null) out.delete(uid);
      else if (!namespace || j.metadata.namespace === namespace) out.set(uid, j);
    }
    return [...out.values()];
  }

  byId(id: string): QinlingJob | undefined {
    const o = this.overlay.get(id);
    if (o !== undefined) return o ?? undefined;
    const key = this.byUid.get(id);
    if (!key) return undefined;
    const [ns = '', name = ''] = key.split('/');
    return this.jobs.get(ns, name);
  }

  async create(namespace: string, spec: QinlingJobSpec, name?: string): Promise<QinlingJob> {
    const metadata = name ? { name, namespace } : { generateName: 'job-', namespace };
    const body = { apiVersion: API_VERSION, kind: KIND, metadata, spec };
    const j = (await this.kube.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      body,
    })) as QinlingJob;
    this.remember(j);
    return j;
  }

  async update(job: QinlingJob, patch: Partial<QinlingJobSpec>, at: Date): Promise<QinlingJob> {
    const body = {
      metadata: {
        resourceVersion: job.metadata.resourceVersion, // a precondition: a stale read is a 409
        annotations: { [ANNOTATION_UPDATED_AT]: at.toISOString() },
      },
      spec: patch,
    };
    const j = (await this.kube.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: job.metadata.namespace,
        plural: PLURAL,
        name: job.metadata.name,
        body,
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as QinlingJob;
    this.remember(j);
    return j;
  }

  async get(namespace: string, name: string): Promise<QinlingJob | undefined> {
    try {
      return (await this.kube.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      })) as QinlingJob;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async latest(job: QinlingJob): Promise<QinlingJob | undefined> {
    try {
      const { namespace, name } = job.metadata;
      const j = (await this.kube.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      })) as QinlingJob;
      return j.metadata.uid === job.metadata.uid ? j : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async remove(job: QinlingJob): Promise<void> {
    const cronJob = job.status?.cronJobName;
    if (cronJob) {
      try {
        await this.kube.batch.patchNamespacedCronJob(
          { name: cronJob, namespace: job.metadata.namespace, body: { spec: { suspend: true } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    try {
      await this.kube.custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: job.metadata.namespace,
        plural: PLURAL,
        name: job.metadata.name,
        propagationPolicy: 'Background',
        body: { preconditions: { uid: job.metadata.uid } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.overlay.set(job.metadata.uid, null);
  }

  private remember(j: QinlingJob): void {
    this.overlay.set(j.metadata.uid, j);
    this.byUid.set(j.metadata.uid, `${j.metadata.namespace}/${j.metadata.name}`);
  }

  projectOf(namespace: string): string {
    return this.namespaces.get('', namespace)?.metadata?.labels?.[LABEL_PROJECT] ?? namespace;
  }

  async namespaceOf(projectId: string, create: boolean): Promise<string | undefined> {
    const all = this.namespaces.list();
    const labelled = all.find((n) => n.metadata?.labels?.[LABEL_PROJECT] === projectId);
    if (labelled?.metadata?.name) return labelled.metadata.name;
    const named = all.find((n) => n.metadata?.name === projectId && !n.metadata.labels?.[LABEL_PROJECT]);
    if (named) return projectId;
    if (!create) return undefined;
    const name = DNS_LABEL.test(projectId) ? projectId : `qinling-${randomBytes(5).toString('hex')}`;
    try {
      await this.kube.core.createNamespace({
        body: { metadata: { name, labels: { [LABEL_PROJECT]: projectId } } },
      });
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
    }
    return name;
  }
}

export function unavailable(): DomainError {
  return new DomainError('Unavailable', 'The job store is not ready yet; try again shortly.');
}
