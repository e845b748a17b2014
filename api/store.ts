// Where jobs live: QinlingJobs read from an informer cache (never an apiserver call per read),
// written to the apiserver, with read-your-writes: what this facade just wrote is served from an
// overlay until the cache has caught up, so a client sees its write in its next request.
import type { V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors.js';
import {
  GROUP,
  PLURAL,
  VERSION,
  API_VERSION,
  KIND,
  FINALIZER,
  type QinlingJob,
  type QinlingJobSpec,
} from '../domain/types.js';
import { ANNOTATION_UPDATED_AT } from '../domain/wire.js';
import { operatorRunsAll } from '../domain/next.js';
import type { Kube, KubeRequest, KubeResponse } from '../kube/client.js';
import { Informer, lowerBound } from '../kube/informer.js';
import { BoundedWatch, listWatch } from '../kube/watch.js';
import { qinlingJobInformer } from '../kube/qinlingjobs.js';
import {
  derivedNamespace,
  LABEL_PROJECT,
  mapProjects,
  namespaceName,
  projectMetadata,
  type ProjectMap,
  type TenancyOptions,
} from './tenancy.js';

export { LABEL_PROJECT, derivedNamespace };

/** What the facade needs from storage; the component tests use a fake of this. */
export interface JobStore {
  ready(): boolean;
  /** Every job, or those of one namespace. */
  /** Oldest first (creation time, then uid): the order REST lists and pages in. */
  list(namespace?: string): readonly QinlingJob[];
  byId(id: string): QinlingJob | undefined;
  /** A job the cache does not hold yet, read from the apiserver (another replica just made it). */
  readThrough(id: string, namespaces: string[]): Promise<QinlingJob | undefined>;
  /** Creates a job; with `name`, a second create of that name fails with a 409-like error. */
  create(namespace: string, spec: QinlingJobSpec, name?: string): Promise<QinlingJob>;
  /** The job of that name as the apiserver has it now; undefined when there is none. */
  get(namespace: string, name: string): Promise<QinlingJob | undefined>;
  /**
   * Changes spec fields, stamping updated_at when `at` is given (a run request is no update of
   * the job); fails with a 409-like error on a stale version.
   */
  update(job: QinlingJob, patch: Partial<QinlingJobSpec>, at?: Date): Promise<QinlingJob>;
  /** The job as the apiserver has it now (after a conflict); undefined when gone. */
  latest(job: QinlingJob): Promise<QinlingJob | undefined>;
  /**
   * Deletes the job and waits (bounded) until it is gone: the operator suspends its CronJob
   * before it lets the delete finish, so no run starts once the delete has returned.
   */
  remove(job: QinlingJob): Promise<void>;
  /**
   * The namespace holding a project's jobs; made (labelled, with its quota) when `create` and
   * missing. A project two namespaces claim is refused (Unavailable) until an admin resolves it.
   */
  namespaceOf(projectId: string, create: boolean): Promise<string | undefined>;
  /** The project whose jobs a namespace holds; undefined for a namespace that is no project's. */
  projectOf(namespace: string): string | undefined;
}

/** The ResourceQuota the facade gives each namespace it makes; a count of 0 is left out. */
export interface NamespaceQuota {
  qinlingJobs: number;
  cronJobs: number;
  jobs: number;
  pods: number;
  configMaps: number;
}

export const QUOTA_NAME = 'qinling-jobs';
export const QUOTA_REFUSED =
  "Quota exceeded: the project's namespace holds as many jobs as its quota allows; delete some first.";
/** Longest an overlay entry waits for its watch event (a relist can skip it). */
export const OVERLAY_TTL_MS = 30_000;
/** How many of a job's latest versions the store remembers having seen (a burst of writes). */
const SEEN_VERSIONS = 8;

export interface StoreOptions {
  now?: () => number;
  /** 0: the jittered 5-10 min. */
  watchTimeoutSeconds?: number;
  /** The two caches; made over the apiserver when absent (component tests pass their own). */
  caches?: { jobs: Informer<QinlingJob>; namespaces: Informer<V1Namespace> };
  /** Which namespace is which project's; by default labels only, nothing reserved beyond kube-* and default. */
  tenancy?: TenancyOptions;
  /** The quota of the namespaces the facade makes; none when absent. */
  quota?: NamespaceQuota;
  /** The namespaces served (cached per namespace); all when absent or empty. */
  served?: string[];
  /** Longest a DELETE waits for the job to be gone (the operator suspends its CronJob first). */
  deleteWaitMs?: number;
  /** Longest a new project's first job waits for its namespace quota to be in force. */
  quotaWaitMs?: number;
}

export const DELETE_WAIT_MS = 5000;
/** Longest the first job of a new project waits for its namespace's quota to be in force. */
export const QUOTA_WAIT_MS = 10_000;

/**
 * Every QinlingJob (of the served namespaces, when given: the API's rights are then Roles in
 * those) and every namespace, each as one informer cache.
 */
export function storeCaches(kube: Kube, log: Logger, watchTimeoutSeconds: number, served: string[] = []) {
  const watch = new BoundedWatch(kube.kc, watchTimeoutSeconds);
  const jobs = qinlingJobInformer(kube, watch, log, served);
  const namespaces = new Informer<V1Namespace>(
    'namespaces',
    log,
    () => listWatch('/api/v1/namespaces', watch, () => kube.core.listNamespace()),
    [],
  );
  return { jobs, namespaces };
}

export class KubeJobStore implements JobStore {
  private readonly jobs: Informer<QinlingJob>;
  /** The cached jobs oldest first, per namespace and over all. */
  private readonly sorted: (namespace?: string) => readonly QinlingJob[];
  private readonly namespaces: Informer<V1Namespace>;
  private readonly byUid = new Map<string, string>();
  /**
   * Written here, not yet in the cache: uid -> object (or null for a delete), until the watch
   * shows that write (or a later one) or OVERLAY_TTL_MS pass, so no entry outlives its event.
   */
  private readonly overlay = new Map<string, { job: QinlingJob | null; until: number }>();
  private readonly now: () => number;
  /** The latest resourceVersions the watch delivered per uid, newest first. */
  private readonly seen = new Map<string, string[]>();
  /** Deletes waiting for their object to go (the operator's finalizer): uid -> done. */
  private readonly deleting = new Map<string, () => void>();
  private readonly deleteWaitMs: number;
  private readonly quotaWaitMs: number;
  private readonly tenancy: TenancyOptions;
  private readonly quota: NamespaceQuota | undefined;
  /** The project map, recomputed on the first use after a namespace changed. */
  private projects: ProjectMap | undefined;
  /** Conflicts already logged, so a refused project logs once per change, not once per request. */
  private logged = new Set<string>();

  constructor(
    private readonly kube: Kube,
    private readonly log: Logger,
    opts: StoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.deleteWaitMs = opts.deleteWaitMs ?? DELETE_WAIT_MS;
    this.quotaWaitMs = opts.quotaWaitMs ?? QUOTA_WAIT_MS;
    this.tenancy = opts.tenancy ?? { byName: false, reserved: new Set() };
    this.quota = opts.quota;
    const caches = opts.caches ?? storeCaches(kube, log, opts.watchTimeoutSeconds ?? 0, opts.served);
    this.jobs = caches.jobs;
    this.sorted = this.jobs.ordered(byCreation);
    this.namespaces = caches.namespaces;
    this.namespaces.on(() => {
      this.projects = undefined;
    });
    this.jobs.on((verb, j) => {
      const uid = j.metadata.uid;
      if (verb === 'delete') {
        this.byUid.delete(uid);
        this.seen.delete(uid);
        this.deleting.get(uid)?.();
      } else {
        this.byUid.set(uid, `${j.metadata.namespace}/${j.metadata.name}`);
        const rv = j.metadata.resourceVersion ?? '';
        this.seen.set(uid, [rv, ...(this.seen.get(uid) ?? []).slice(0, SEEN_VERSIONS - 1)]);
      }
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

  list(namespace?: string): readonly QinlingJob[] {
    const cached = this.sorted(namespace);
    const writes = [...this.overlay.keys()]
      .map((uid) => ({ uid, o: this.pending(uid) }))
      .filter(({ o }) => o && (o.job === null || !namespace || o.job.metadata.namespace === namespace));
    if (writes.length === 0) return cached; // the common case: no copy
    // Our own writes the watch has not shown yet: a few, each placed by binary search.
    const out = [...cached];
    for (const { uid, o } of writes) {
      const key = o?.job ?? this.cachedByUid(uid); // the order's fields never change
      if (!key) continue;
      const at = lowerBound(out, key, byCreation);
      const here = out[at]?.metadata.uid === uid;
      if (o?.job) out.splice(at, here ? 1 : 0, o.job);
      else if (here) out.splice(at, 1);
    }
    return out;
  }

  private cachedByUid(uid: string): QinlingJob | undefined {
    const key = this.byUid.get(uid);
    if (key === undefined) return undefined;
    const [namespace = '', name = ''] = key.split('/');
    return this.jobs.get(namespace, name);
  }

  byId(id: string): QinlingJob | undefined {
    const o = this.pending(id);
    if (o !== undefined) return o.job ?? undefined;
    return this.cachedByUid(id);
  }

  /**
   * A job this cache does not hold yet, read through from the apiserver: another facade replica
   * may have made it a moment ago (a client's create and show can land on different replicas).
   * The uid is no field a custom resource can be selected by, so this lists the metadata only of
   * the given namespaces' jobs (the caller's project: bounded by its own jobs) and reads the one.
   */
  async readThrough(id: string, namespaces: string[]): Promise<QinlingJob | undefined> {
    for (const ns of namespaces) {
      const list = (await this.call({
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
   * Every call the facade makes for a caller goes through here, as the facade (under kubernetes
   * auth the service has asked RBAC about the caller first). Errors become domain
   * errors; 404 is `undefined`; 409 keeps its code for the service's retry.
   */
  private async call(r: KubeRequest): Promise<unknown> {
    let res;
    try {
      res = await this.kube.request(r);
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
    // The namespace's ResourceQuota (the hard bound behind the service's own count).
    if (res.status === 403 && /\bexceeded quota\b/.test(message))
      throw new DomainError('Forbidden', QUOTA_REFUSED);
    // The quota controller has not counted this kind yet (a CRD it has just discovered): passing.
    if (res.status === 403 && /\bstatus unknown for quota\b/.test(message))
      throw new DomainError('Unavailable', 'The project’s quota is not counted yet; try again shortly.');
    if (res.status === 403) throw new DomainError('Forbidden', 'Operation not allowed');
    if (res.status === 400 || res.status === 422) throw new DomainError('BadRequest', 'Invalid input');
    throw new DomainError('Unavailable', `The Kubernetes API answered ${res.status}; try again.`);
  }

  private path(namespace: string, name?: string): string {
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  async create(namespace: string, spec: QinlingJobSpec, name?: string): Promise<QinlingJob> {
    // A job whose CronJob may fire on its own is made with the operator's finalizer in place
    // (ADR 0005): the operator would add it before making that CronJob, one write more per job.
    const protect = operatorRunsAll({ spec }) ? {} : { finalizers: [FINALIZER] };
    const metadata = { ...(name ? { name } : { generateName: 'job-' }), namespace, ...protect };
    const body = { apiVersion: API_VERSION, kind: KIND, metadata, spec };
    const j = (await this.call({ method: 'POST', path: this.path(namespace), body })) as QinlingJob;
    this.remember(j);
    return j;
  }

  async update(job: QinlingJob, patch: Partial<QinlingJobSpec>, at?: Date): Promise<QinlingJob> {
    const body = {
      metadata: {
        resourceVersion: job.metadata.resourceVersion, // a precondition: a stale read is a 409
        ...(at ? { annotations: { [ANNOTATION_UPDATED_AT]: at.toISOString() } } : {}),
      },
      spec: patch,
    };
    const path = this.path(job.metadata.namespace, job.metadata.name);
    const j = (await this.call({
      method: 'PATCH',
      path,
      body,
      contentType: 'application/merge-patch+json',
    })) as QinlingJob | undefined;
    if (!j) throw new DomainError('NotFound', `Job not found [id=${job.metadata.uid}]`);
    this.remember(j);
    return j;
  }

  async get(namespace: string, name: string): Promise<QinlingJob | undefined> {
    return (await this.call({ method: 'GET', path: this.path(namespace, name) })) as QinlingJob | undefined;
  }

  async latest(job: QinlingJob): Promise<QinlingJob | undefined> {
    const j = await this.get(job.metadata.namespace, job.metadata.name);
    return j?.metadata.uid === job.metadata.uid ? j : undefined;
  }

  async remove(job: QinlingJob): Promise<void> {
    const { namespace, name, uid } = job.metadata;
    // The tombstone goes first: were it written after the DELETE returned, the watch's delete
    // event could already have passed, and nothing would ever clear it.
    const before = this.overlay.get(uid);
    this.overlay.set(uid, { job: null, until: this.now() + OVERLAY_TTL_MS });
    const gone = this.gone(uid);
    try {
      await this.call({
        method: 'DELETE',
        path: this.path(namespace, name),
        body: { propagationPolicy: 'Background', preconditions: { uid } },
      });
    } catch (err) {
      gone.cancel();
      if (before) this.overlay.set(uid, before);
      else this.overlay.delete(uid);
      throw err;
    }
    // A job whose CronJob may fire on its own carries the operator's finalizer: the object goes
    // once the operator has suspended that CronJob. Waiting for it keeps "no run starts once
    // the delete has returned"; an operator away makes this wait end at its bound, not hang.
    await gone.done;
  }

  /** Resolves when the cache sees the job deleted, or after deleteWaitMs. */
  private gone(uid: string): { done: Promise<void>; cancel: () => void } {
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => finish(), this.deleteWaitMs);
      finish = () => {
        clearTimeout(timer);
        this.deleting.delete(uid);
        resolve();
      };
      this.deleting.set(uid, finish);
    });
    return { done, cancel: finish };
  }

  private remember(j: QinlingJob): void {
    this.byUid.set(j.metadata.uid, `${j.metadata.namespace}/${j.metadata.name}`);
    // The watch can deliver our write (and the operator's next ones) before the apiserver's
    // answer is read: then the cache is already as new, and an entry would wait for an event
    // that has passed, serving this older version over the operator's for its whole deadline.
    if (this.seen.get(j.metadata.uid)?.includes(j.metadata.resourceVersion ?? '')) return;
    this.overlay.set(j.metadata.uid, { job: j, until: this.now() + OVERLAY_TTL_MS });
  }

  /** Entries in the read-your-writes overlay (for tests and metrics). */
  get overlaySize(): number {
    return this.overlay.size;
  }

  private projectMap(): ProjectMap {
    if (this.projects) return this.projects;
    const m = mapProjects(this.namespaces.list(), this.tenancy);
    const seen = new Set<string>();
    for (const [project, names] of m.conflicts) {
      const line = `${project}\n${names.join(',')}`;
      seen.add(line);
      if (!this.logged.has(line))
        this.log.error(
          { project, namespaces: names },
          'more than one namespace claims this project: its jobs are refused until an admin removes the label from all but one',
        );
    }
    for (const name of m.ignored) {
      seen.add(name);
      if (!this.logged.has(name))
        this.log.warn({ namespace: name }, 'a reserved namespace carries a project label: ignored');
    }
    this.logged = seen;
    this.projects = m;
    return m;
  }

  /** A call as the facade itself (namespaces, quotas): unreachable is Unavailable. */
  private async send(r: KubeRequest): Promise<KubeResponse> {
    try {
      return await this.kube.request(r);
    } catch {
      throw new DomainError('Unavailable', 'The Kubernetes API is unreachable; try again.');
    }
  }

  /** An apiserver refusal of the facade's own write: logged in full, answered without internals. */
  private failure(status: number, body: unknown, what: string): DomainError {
    this.log.error(
      { status, message: (body as { message?: string } | undefined)?.message },
      `${what} failed`,
    );
    return new DomainError('Unavailable', 'The job store could not be prepared for this project; try again.');
  }

  /** Projects refused because several namespaces claim them (for /metrics and tests). */
  get conflicts(): number {
    return this.projectMap().conflicts.size;
  }

  projectOf(namespace: string): string | undefined {
    return this.projectMap().projectOf.get(namespace);
  }

  async namespaceOf(projectId: string, create: boolean): Promise<string | undefined> {
    const m = this.projectMap();
    if (m.conflicts.has(projectId))
      throw new DomainError(
        'Unavailable',
        `Project ${projectId} is claimed by more than one namespace; an administrator must resolve it.`,
      );
    const found = m.namespaceOf.get(projectId);
    if (found !== undefined || !create) return found;
    // The project's name may be taken by a namespace that is not the project's (unlabelled, or
    // another's, or reserved): then the derived name, which no one else has reason to choose.
    for (const name of new Set([namespaceName(projectId, this.tenancy), derivedNamespace(projectId)])) {
      if (await this.claim(name, projectId)) return name;
    }
    throw new DomainError('Unavailable', `No namespace can be made for project ${projectId}.`);
  }

  /** Makes a namespace for the project, or finds it made for it (by another replica); false if taken. */
  private async claim(name: string, projectId: string): Promise<boolean> {
    const cached = this.namespaces.get('', name);
    if (cached) return mapProjects([cached], this.tenancy).namespaceOf.get(projectId) === name;
    const { labels, annotations } = projectMetadata(projectId);
    const res = await this.send({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } },
    });
    if (res.status === 409) {
      const now = await this.send({ method: 'GET', path: `/api/v1/namespaces/${name}` });
      const ns = now.status === 200 ? (now.body as V1Namespace) : undefined;
      return ns !== undefined && mapProjects([ns], this.tenancy).namespaceOf.get(projectId) === name;
    }
    if (res.status < 200 || res.status >= 300) throw this.failure(res.status, res.body, 'create namespace');
    this.log.info({ namespace: name, project: projectId }, 'made a namespace for a project');
    if (this.quota) await this.limit(name, this.quota);
    return true;
  }

  /** The namespace's ResourceQuota: what any number of the project's writes can never exceed. */
  private async limit(namespace: string, q: NamespaceQuota): Promise<void> {
    const hard: Record<string, string> = {};
    const counts: [string, number][] = [
      [`count/${PLURAL}.${GROUP}`, q.qinlingJobs],
      ['count/cronjobs.batch', q.cronJobs],
      ['count/jobs.batch', q.jobs],
      ['pods', q.pods],
      ['count/configmaps', q.configMaps],
    ];
    for (const [k, v] of counts) if (v > 0) hard[k] = String(v);
    if (Object.keys(hard).length === 0) return;
    const res = await this.send({
      method: 'POST',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/resourcequotas`,
      body: {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: QUOTA_NAME, labels: { 'app.kubernetes.io/managed-by': 'qinling-jobs' } },
        spec: { hard },
      },
    });
    if (res.status !== 409 && (res.status < 200 || res.status >= 300))
      throw this.failure(res.status, res.body, 'create resourcequota');
    await this.inForce(namespace, Object.keys(hard));
  }

  /**
   * The quota is in force once the quota controller has filled its status: until `status.hard`
   * is there the apiserver admits creates without counting them, and until `status.used` counts a
   * resource it refuses every create of it ("status unknown for quota"; the controller counts a
   * custom resource only once its discovery has seen the CRD). The project's first job waits for
   * both (bounded), so no burst gets past the bound and the first create is not refused.
   */
  private async inForce(namespace: string, keys: string[]): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/resourcequotas/${QUOTA_NAME}`;
    const deadline = Date.now() + this.quotaWaitMs; // wall-clock: the controller's pace
    for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 1000)) {
      const res = await this.send({ method: 'GET', path });
      const status = (res.body as { status?: QuotaStatus } | undefined)?.status;
      const hard = status?.hard ?? {};
      const used = status?.used ?? {};
      if (res.status === 200 && keys.every((k) => k in hard && k in used)) return;
      await new Promise((r) => setTimeout(r, delay));
    }
    this.log.warn(
      { namespace },
      'the namespace quota is not in force yet; the facade’s own count still holds',
    );
  }
}

interface QuotaStatus {
  hard?: Record<string, string>;
  used?: Record<string, string>;
}

/** Oldest first, then by id; plain string order (localeCompare cost ~100 ms per 10,000 jobs). */
export function byCreation(a: QinlingJob, b: QinlingJob): number {
  const x = String(a.metadata.creationTimestamp ?? '');
  const y = String(b.metadata.creationTimestamp ?? '');
  if (x !== y) return x < y ? -1 : 1;
  return a.metadata.uid < b.metadata.uid ? -1 : a.metadata.uid > b.metadata.uid ? 1 : 0;
}

export function unavailable(): DomainError {
  return new DomainError('Unavailable', 'The job store is not ready yet; try again shortly.');
}
