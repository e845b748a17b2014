// Where jobs live: QinlingJobs read from an informer cache (never an apiserver call per read),
// written to the apiserver, with read-your-writes: what this facade just wrote is served from an
// overlay until the cache has caught up, so a client sees its write in its next request.
import { createHash } from 'node:crypto';
import { ListWatch, type KubernetesObject, type V1Namespace } from '@kubernetes/client-node';
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
import { statusCode, type Kube, type KubeRequest } from '../kube/client.js';
import { impersonationHeaders, type Impersonation } from './auth.js';
import { Informer } from '../kube/informer.js';
import { BoundedWatch } from '../kube/watch.js';

export const LABEL_PROJECT = 'qinling.io/project-id';

/** What the facade needs from storage; the component tests use a fake of this. */
export interface JobStore {
  ready(): boolean;
  /** Every job, or those of one namespace. */
  list(namespace?: string): QinlingJob[];
  byId(id: string): QinlingJob | undefined;
  /** A job the cache does not hold yet, read from the apiserver (another replica just made it). */
  readThrough(id: string, namespaces: string[]): Promise<QinlingJob | undefined>;
  /** Creates a job; with `name`, a second create of that name fails with a 409-like error. */
  create(namespace: string, spec: QinlingJobSpec, name?: string, as?: Impersonation): Promise<QinlingJob>;
  /** The job of that name as the apiserver has it now; undefined when there is none. */
  get(namespace: string, name: string, as?: Impersonation): Promise<QinlingJob | undefined>;
  /** Changes spec fields, stamping updated_at; fails with a 409-like error on a stale version. */
  update(job: QinlingJob, patch: Partial<QinlingJobSpec>, at: Date, as?: Impersonation): Promise<QinlingJob>;
  /** The job as the apiserver has it now (after a conflict); undefined when gone. */
  latest(job: QinlingJob, as?: Impersonation): Promise<QinlingJob | undefined>;
  /** Suspends the job's CronJob first, so no run starts once the delete has returned. */
  remove(job: QinlingJob, as?: Impersonation): Promise<void>;
  /** The namespace holding a project's jobs; made (and labelled) when `create` and missing. */
  namespaceOf(projectId: string, create: boolean): Promise<string | undefined>;
  projectOf(namespace: string): string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Longest an overlay entry waits for its watch event (a relist can skip it). */
export const OVERLAY_TTL_MS = 30_000;

/**
 * The namespace for a project id that is not a DNS label: derived from the id, so concurrent
 * first creates (or a second before the watch shows the first) all choose the same one.
 */
export function derivedNamespace(projectId: string): string {
  return `qinling-${createHash('sha256').update(projectId).digest('hex').slice(0, 16)}`;
}

export interface StoreOptions {
  now?: () => number;
  /** 0: the jittered 5-10 min. */
  watchTimeoutSeconds?: number;
  /** The two caches; made over the apiserver when absent (component tests pass their own). */
  caches?: { jobs: Informer<QinlingJob>; namespaces: Informer<V1Namespace> };
}

/** Every QinlingJob and every namespace, each as one informer cache. */
export function storeCaches(kube: Kube, log: Logger, watchTimeoutSeconds: number) {
  const watch = new BoundedWatch(kube.kc, watchTimeoutSeconds);
  const jobs = new Informer<QinlingJob>(
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
  const namespaces = new Informer<V1Namespace>(
    'namespaces',
    log,
    () =>
      new ListWatch<KubernetesObject>('/api/v1/namespaces', watch, () => kube.core.listNamespace(), false),
    [],
  );
  return { jobs, namespaces };
}

export class KubeJobStore implements JobStore {
  private readonly jobs: Informer<QinlingJob>;
  private readonly namespaces: Informer<V1Namespace>;
  private readonly byUid = new Map<string, string>();
  /**
   * Written here, not yet in the cache: uid -> object (or null for a delete), until the watch
   * shows that write (or a later one) or OVERLAY_TTL_MS pass, so no entry outlives its event.
   */
  private readonly overlay = new Map<string, { job: QinlingJob | null; until: number }>();
  private readonly now: () => number;

  constructor(
    private readonly kube: Kube,
    private readonly log: Logger,
    opts: StoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    const caches = opts.caches ?? storeCaches(kube, log, opts.watchTimeoutSeconds ?? 0);
    this.jobs = caches.jobs;
    this.namespaces = caches.namespaces;
    this.jobs.on((verb, j) => {
      if (verb === 'delete') this.byUid.delete(j.metadata.uid);
      else this.byUid.set(j.metadata.uid, `${j.metadata.namespace}/${j.metadata.name}`);
      // The cache has caught up with our write: its own event (resourceVersions are opaque, so
      // equal, never compared), or the object's delete. A relist may skip our write's event;
      // the entry's deadline covers that.
      const pending = this.overlay.get(j.metadata.uid);
      if (!pending) return;
      if (verb === 'delete' || pending.job?.metadata.resourceVersion === j.metadata.resourceVersion) {
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

  /** Synced and every watch running: what /readyz reports (requests are served from a synced cache). */
  current(): boolean {
    return this.jobs.isCurrent && this.namespaces.isCurrent;
  }

  /** The overlay's entry for a uid, if still within its deadline. */
  private pending(uid: string): { job: QinlingJob | null } | undefined {
    const o = this.overlay.get(uid);
    if (o && o.until <= this.now()) {
      this.overlay.delete(uid);
      return undefined;
    }
    return o;
  }

  list(namespace?: string): QinlingJob[] {
    const out = new Map<string, QinlingJob>();
    for (const j of this.jobs.list(namespace)) out.set(j.metadata.uid, j);
    for (const uid of [...this.overlay.keys()]) {
      const j = this.pending(uid)?.job;
      if (j === null) out.delete(uid);
      else if (j && (!namespace || j.metadata.namespace === namespace)) out.set(uid, j);
    }
    return [...out.values()];
  }

  byId(id: string): QinlingJob | undefined {
    const o = this.pending(id);
    if (o !== undefined) return o.job ?? undefined;
    const key = this.byUid.get(id);
    if (!key) return undefined;
    const [ns = '', name = ''] = key.split('/');
    return this.jobs.get(ns, name);
  }

  /**
   * A job this cache does not hold yet, read through from the apiserver: another facade replica
   * may have made it a moment ago (a client's create and show can land on different replicas).
   * The uid is no field a custom resource can be selected by, so this lists the metadata only of
   * the given namespaces' jobs (the caller's project: bounded by its own jobs) and reads the one.
   */
  async readThrough(id: string, namespaces: string[]): Promise<QinlingJob | undefined> {
    for (const ns of namespaces) {
      const list = (await this.call(undefined, {
        method: 'GET',
        path: this.path(ns),
        headers: { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' },
      })) as { items?: { metadata: { uid: string; name: string } }[] } | undefined;
      const name = list?.items?.find((x) => x.metadata.uid === id)?.metadata.name;
      if (!name) continue;
      const j = await this.get(ns, name);
      if (j?.metadata.uid === id) return j;
    }
    return undefined;
  }

  /**
   * Every call the facade makes for a caller goes through here: as the caller when they are to
   * be impersonated (kubernetes auth: RBAC decides), else as the facade. Errors become domain
   * errors; 404 is `undefined`; 409 keeps its code for the service's retry.
   */
  private async call(as: Impersonation | undefined, r: KubeRequest): Promise<unknown> {
    let res;
    try {
      res = await this.kube.request({ ...r, headers: { ...r.headers, ...impersonationHeaders(as) } });
    } catch {
      throw new DomainError('Unavailable', 'The Kubernetes API is unreachable; try again.');
    }
    if (res.status >= 200 && res.status < 300) return res.body;
    if (res.status === 404) return undefined;
    // The apiserver's text names objects, ServiceAccounts, webhooks and quotas: it goes to the
    // log, and the client gets Qinling's generic message for the class of error.
    const message = (res.body as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
    // A conflict is routine (a stale update, retried): not worth a warning.
    const level = res.status === 409 ? 'debug' : 'warn';
    this.log[level]({ status: res.status, method: r.method, path: r.path, message }, 'apiserver refused');
    // A conflict is the client's to retry: a 409 (Qinling's Conflict), never a 500; it keeps its
    // code so the service can retry the cases it knows (a stale update, an Idempotency-Key).
    if (res.status === 409) throw Object.assign(new DomainError('Conflict', 'Conflict'), { code: 409 });
    if (res.status === 403) throw new DomainError('Forbidden', 'Operation not allowed');
    if (res.status === 400 || res.status === 422) throw new DomainError('BadRequest', 'Invalid input');
    throw new DomainError('Unavailable', `The Kubernetes API answered ${res.status}; try again.`);
  }

  private path(namespace: string, name?: string): string {
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  async create(
    namespace: string,
    spec: QinlingJobSpec,
    name?: string,
    as?: Impersonation,
  ): Promise<QinlingJob> {
    const metadata = name ? { name, namespace } : { generateName: 'job-', namespace };
    const body = { apiVersion: API_VERSION, kind: KIND, metadata, spec };
    const j = (await this.call(as, { method: 'POST', path: this.path(namespace), body })) as QinlingJob;
    this.remember(j);
    return j;
  }

  async update(
    job: QinlingJob,
    patch: Partial<QinlingJobSpec>,
    at: Date,
    as?: Impersonation,
  ): Promise<QinlingJob> {
    const body = {
      metadata: {
        resourceVersion: job.metadata.resourceVersion, // a precondition: a stale read is a 409
        annotations: { [ANNOTATION_UPDATED_AT]: at.toISOString() },
      },
      spec: patch,
    };
    const path = this.path(job.metadata.namespace, job.metadata.name);
    const j = (await this.call(as, {
      method: 'PATCH',
      path,
      body,
      contentType: 'application/merge-patch+json',
    })) as QinlingJob | undefined;
    if (!j) throw new DomainError('NotFound', `Job not found [id=${job.metadata.uid}]`);
    this.remember(j);
    return j;
  }

  async get(namespace: string, name: string, as?: Impersonation): Promise<QinlingJob | undefined> {
    return (await this.call(as, { method: 'GET', path: this.path(namespace, name) })) as
      QinlingJob | undefined;
  }

  async latest(job: QinlingJob, as?: Impersonation): Promise<QinlingJob | undefined> {
    const j = await this.get(job.metadata.namespace, job.metadata.name, as);
    return j?.metadata.uid === job.metadata.uid ? j : undefined;
  }

  async remove(job: QinlingJob, as?: Impersonation): Promise<void> {
    const { namespace, name, uid } = job.metadata;
    const cronJob = job.status?.cronJobName;
    if (cronJob) {
      // As the facade: suspending the job's own CronJob is part of deleting it, not a user's act.
      await this.call(undefined, {
        method: 'PATCH',
        path: `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/cronjobs/${encodeURIComponent(cronJob)}`,
        body: { spec: { suspend: true } },
        contentType: 'application/merge-patch+json',
      });
    }
    // The tombstone goes first: were it written after the DELETE returned, the watch's delete
    // event could already have passed, and nothing would ever clear it.
    const before = this.overlay.get(uid);
    this.overlay.set(uid, { job: null, until: this.now() + OVERLAY_TTL_MS });
    try {
      await this.call(as, {
        method: 'DELETE',
        path: this.path(namespace, name),
        body: { propagationPolicy: 'Background', preconditions: { uid } },
      });
    } catch (err) {
      if (before) this.overlay.set(uid, before);
      else this.overlay.delete(uid);
      throw err;
    }
  }

  private remember(j: QinlingJob): void {
    this.overlay.set(j.metadata.uid, { job: j, until: this.now() + OVERLAY_TTL_MS });
    this.byUid.set(j.metadata.uid, `${j.metadata.namespace}/${j.metadata.name}`);
  }

  /** Entries in the read-your-writes overlay (for tests and metrics). */
  get overlaySize(): number {
    return this.overlay.size;
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
    const name = DNS_LABEL.test(projectId) ? projectId : derivedNamespace(projectId);
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
