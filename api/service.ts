// What the facade decides: who sees which job, and the create/update/delete rules on top of the
// domain's wire mapping. Talks to storage only through JobStore.
import { createHash, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { badRequest, DomainError } from '../domain/errors.js';
import { wireRuns, type WireRuns } from '../domain/ledger.js';
import { MESSAGES } from '../domain/rules.js';
import type { QinlingJob, RunRequest } from '../domain/types.js';
import { DEFAULT_UPCOMING, upcomingCount, wireSchedule, type WireSchedule } from '../domain/upcoming.js';
import {
  finished,
  inputFromRunNow,
  specFromCreate,
  specFromUpdate,
  toWire,
  wireStatus,
  zoneShown,
  type WireJob,
} from '../domain/wire.js';
import type { Caller } from './auth.js';
import { byCreation, unavailable, type JobStore } from './store.js';
import { lowerBound } from '../kube/informer.js';

export interface ServiceOptions {
  /** Make (and label) a namespace for a project on its first job. */
  createNamespaces: boolean;
  /**
   * The namespaces whose jobs are served (those the operator runs); all when absent. Jobs
   * elsewhere do not exist here, a project without a served namespace cannot make jobs, and no
   * namespace is ever made (it would not be served).
   */
  namespaces?: ReadonlySet<string>;
  /** Most jobs one project may hold (0: no limit); the namespace's ResourceQuota backs it. */
  maxJobsPerProject?: number;
  /** Most bytes of function input (UTF-8) one project's jobs may hold together (0: no limit). */
  maxInputBytesPerProject?: number;
  /**
   * Admins may change and delete other projects' jobs. Off by default: Qinling's contract grants
   * admins listing (all_projects, project_id), and reading one of the jobs so listed; writing
   * into another project is a separate, explicit grant.
   */
  adminCrossProjectWrites?: boolean;
}

/**
 * Query parameters of GET /v1/jobs. Beyond Qinling's all_projects and project_id, the
 * compatible additions: `limit` and `marker` (the last id of the previous page) and the filters
 * `status`, `function_id` and `name`. Without them, every job is returned, as the client expects.
 */
export interface ListQuery {
  all_projects?: string;
  project_id?: string;
  limit?: string;
  marker?: string;
  status?: string;
  function_id?: string;
  name?: string;
}

const MAX_LIMIT = 1000;
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A UUID in any letter case (oslo's is_uuid_like); only the lower-case form can be a uid. */
const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const notFound = (id: string) => new DomainError('NotFound', `Job not found [id=${id}]`);
const noNamespace = (projectId: string) =>
  new DomainError('Forbidden', `Project ${projectId} has no namespace for jobs on this cluster.`);
const isConflict = (err: unknown) => (err as { code?: number }).code === 409;

/** `POST /v1/jobs/{id}/run` answers 202 with this: the request the operator will start once. */
export interface WireRunRequest {
  id: string;
  job_id: string;
  requested_by: string;
}

/** As many requests as the CRD keeps in a job's spec. */
const MAX_RUN_REQUESTS = 10;

/** Who asked, as the run's X-Qinling-Requested-By says it: printable ASCII, 256 at most. */
function requester(caller: Caller): string {
  const who = `${caller.userId}@${caller.projectId}`;
  return who.replace(/[^\x20-\x7e%]|%/g, (c) => encodeURIComponent(c)).slice(0, 256);
}

export class JobService {
  /** Creates under way per namespace: what the quota check counts beside the cache. */
  private readonly creating = new Map<string, { jobs: number; bytes: number }>();

  constructor(
    private readonly store: JobStore,
    private readonly opts: ServiceOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private wire(job: QinlingJob): WireJob {
    return toWire(job, this.store.projectOf(job.metadata.namespace) ?? '', this.now());
  }

  /** A job REST serves: in a served namespace that is some project's. */
  private listed(job: QinlingJob): boolean {
    return this.served(job.metadata.namespace) && this.store.projectOf(job.metadata.namespace) !== undefined;
  }

  /**
   * The project's quota, counted on the cache before anything is written: a job more, or input
   * bytes more, than it allows is refused. `replacing` is the job a PUT changes (its bytes are
   * counted once, as the new input). Concurrent creates on several replicas can each pass this
   * count; the namespace's ResourceQuota is the hard bound the apiserver enforces.
   */
  private checkQuota(namespace: string, projectId: string, input: string, replacing?: QinlingJob): void {
    const inFlight = this.creating.get(namespace) ?? { jobs: 0, bytes: 0 };
    const maxJobs = this.opts.maxJobsPerProject ?? 0;
    const maxBytes = this.opts.maxInputBytesPerProject ?? 0;
    if (maxJobs === 0 && maxBytes === 0) return;
    const jobs = this.store.list(namespace);
    if (!replacing && maxJobs > 0 && jobs.length + inFlight.jobs >= maxJobs)
      throw new DomainError(
        'Forbidden',
        `Quota exceeded: project ${projectId} may hold at most ${maxJobs} jobs; delete some first.`,
      );
    if (maxBytes === 0) return;
    let bytes = Buffer.byteLength(input, 'utf8') + inFlight.bytes;
    for (const j of jobs)
      if (j.metadata.uid !== replacing?.metadata.uid)
        bytes += Buffer.byteLength(j.spec.functionInput ?? '', 'utf8');
    if (bytes > maxBytes)
      throw new DomainError(
        'TooLarge',
        `Quota exceeded: the jobs of project ${projectId} may hold at most ${maxBytes} bytes of function input.`,
      );
  }

  private ready(): void {
    if (!this.store.ready()) throw unavailable();
  }

  private served(namespace: string | undefined): namespace is string {
    return namespace !== undefined && (this.opts.namespaces?.has(namespace) ?? true);
  }

  /**
   * The job if the caller may see it; another project's job does not exist for them. An admin
   * sees every project's jobs, but may change them only with adminCrossProjectWrites. Under
   * kubernetes auth, reading it from the cache also needs RBAC's yes for `get` there.
   */
  private async visible(caller: Caller, id: string, write = false): Promise<QinlingJob> {
    // Qinling's routes typed the id as a UUID: anything else is the client's error, not a miss.
    if (!UUID_LIKE.test(id)) throw new DomainError('BadRequest', `Expected a uuid but received ${id}.`);
    this.ready();
    const job = this.store.byId(id) ?? (await this.readThrough(caller, id));
    if (!job || !this.listed(job)) throw notFound(id);
    if (this.store.projectOf(job.metadata.namespace) !== caller.projectId) {
      if (!caller.isAdmin) throw notFound(id);
      if (write && !this.opts.adminCrossProjectWrites)
        throw new DomainError(
          'Forbidden',
          "Operation not allowed: admins may not change other projects' jobs.",
        );
    }
    if (caller.can && !(await caller.can('get', job.metadata.namespace))) throw notFound(id);
    return job;
  }

  /** A job this replica's cache lacks, from the apiserver: only a well-formed id, only the caller's project. */
  private async readThrough(caller: Caller, id: string): Promise<QinlingJob | undefined> {
    if (!UID.test(id)) return undefined;
    const ns = await this.store.namespaceOf(caller.projectId, false);
    return ns && this.served(ns) ? this.store.readThrough(id, [ns]) : undefined;
  }

  /**
   * A create holds a reservation (one job, its input bytes) from the moment its quota check
   * passes until the job is in this replica's view (the store's overlay holds it from the
   * create's answer), so concurrent creates of one project cannot pass its count together, and
   * still run concurrently while the project is under its quota. The apiserver's ResourceQuota
   * bounds several replicas.
   */
  async create(caller: Caller, body: unknown, idempotencyKey?: string): Promise<WireJob> {
    this.ready();
    const spec = specFromCreate(body, this.now());
    // Under kubernetes auth a namespace is made only for a caller RBAC lets make jobs anywhere
    // (a RoleBinding cannot exist in a namespace not made yet), never to squat a name for others.
    const make =
      this.opts.createNamespaces &&
      !this.opts.namespaces &&
      (!caller.can || (await caller.can('create', '')));
    const ns = await this.store.namespaceOf(caller.projectId, make);
    if (!this.served(ns)) throw noNamespace(caller.projectId);
    const release = this.reserve(ns, caller.projectId, spec.functionInput ?? '');
    try {
      await this.authorize(caller, 'create', ns);
      return await this.createIn(ns, caller, spec, idempotencyKey);
    } finally {
      release();
    }
  }

  /**
   * A dry run of a create (`POST /v1/jobs?dry_run=true`): the same checks (body, namespace,
   * quota, rights), nothing stored; the job as it would be, with its first runs.
   */
  async dryRun(caller: Caller, body: unknown): Promise<WireJob & { first_runs: string[] }> {
    this.ready();
    const now = this.now();
    const spec = specFromCreate(body, now);
    const ns = await this.store.namespaceOf(caller.projectId, false);
    if (ns !== undefined) {
      if (!this.served(ns)) throw noNamespace(caller.projectId);
      this.checkQuota(ns, caller.projectId, spec.functionInput ?? '');
      await this.authorize(caller, 'create', ns);
    }
    const job: QinlingJob = {
      apiVersion: 'qinling.io/v1',
      kind: 'QinlingJob',
      metadata: { name: '', namespace: ns ?? '', uid: '', creationTimestamp: now.toISOString() },
      spec,
    };
    const first = wireSchedule(job, zoneShown(job), now, DEFAULT_UPCOMING).runs.map((r) => r.time);
    return { ...toWire(job, caller.projectId, now), first_runs: first };
  }

  /** Checks the quota counting in-flight creates, and holds one more until `release()`. */
  private reserve(namespace: string, projectId: string, input: string): () => void {
    const held = this.creating.get(namespace) ?? { jobs: 0, bytes: 0 };
    this.checkQuota(namespace, projectId, input); // counts `held`, the creates under way
    const bytes = Buffer.byteLength(input, 'utf8');
    held.jobs++;
    held.bytes += bytes;
    this.creating.set(namespace, held);
    return () => {
      held.jobs--;
      held.bytes -= bytes;
      if (held.jobs === 0) this.creating.delete(namespace);
    };
  }

  /**
   * With an Idempotency-Key, the job's name derives from the project and the key, so a retried
   * POST (say, after a lost response) finds the job it made instead of making a second one.
   */
  private async createIn(
    ns: string,
    caller: Caller,
    spec: ReturnType<typeof specFromCreate>,
    idempotencyKey: string | undefined,
  ): Promise<WireJob> {
    if (idempotencyKey === undefined) return this.wire(await this.store.create(ns, spec, undefined));
    if (!/^[\x21-\x7e]{1,255}$/.test(idempotencyKey))
      throw new DomainError('BadRequest', 'Invalid Idempotency-Key: 1 to 255 visible ASCII characters.');
    const name = `job-${createHash('sha256').update(`${caller.projectId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}`;
    try {
      return this.wire(await this.store.create(ns, spec, name));
    } catch (err) {
      if (!isConflict(err)) throw err;
      const earlier = await this.store.get(ns, name);
      if (!earlier)
        throw new DomainError('Conflict', 'A job for this Idempotency-Key is being deleted; retry.');
      const same = Object.entries(spec).every(([k, v]) =>
        isDeepStrictEqual(v, (earlier.spec as Record<string, unknown>)[k]),
      );
      if (!same) throw new DomainError('Conflict', 'This Idempotency-Key was used for a different job.');
      return this.wire(earlier);
    }
  }

  /**
   * The caller's jobs, filtered, ordered and paged; turned into wire jobs one by one as the
   * result is read (a list is written out as it is made, never built whole).
   */
  async list(caller: Caller, q: ListQuery): Promise<{ size: number; jobs: Iterable<WireJob> }> {
    this.ready();
    const all = q.all_projects !== undefined && /^(true|1|yes)$/i.test(q.all_projects);
    if ((all || q.project_id !== undefined) && !caller.isAdmin) {
      throw new DomainError(
        'Forbidden',
        'Operation not allowed: listing other projects needs the admin role.',
      );
    }
    let jobs: readonly QinlingJob[]; // oldest first: the store keeps them in that order
    let keep: (j: QinlingJob) => boolean = () => true;
    if (all) {
      jobs = this.store.list();
      const project = q.project_id;
      keep =
        project === undefined
          ? (j) => this.listed(j)
          : (j) => this.listed(j) && this.store.projectOf(j.metadata.namespace) === project;
    } else {
      const project = q.project_id ?? caller.projectId;
      const ns = await this.store.namespaceOf(project, false);
      if (ns && caller.can && !(await caller.can('list', ns))) {
        throw new DomainError('Forbidden', 'Operation not allowed: you may not list jobs in this project.');
      }
      jobs = ns !== undefined && this.served(ns) ? this.store.list(ns) : [];
    }
    const matches = (j: QinlingJob) =>
      keep(j) &&
      (q.status === undefined || wireStatus(j) === q.status) &&
      (q.function_id === undefined || j.spec.functionId === q.function_id) &&
      (q.name === undefined || j.spec.name === q.name);
    const paged = page(jobs, matches, q, (id) => this.store.byId(id));
    const wire = (j: QinlingJob) => this.wire(j);
    return {
      size: paged.length,
      jobs: (function* () {
        for (const j of paged) yield wire(j);
      })(),
    };
  }

  async get(caller: Caller, id: string): Promise<WireJob> {
    return this.wire(await this.visible(caller, id));
  }

  /** What ran: the job's run ledger, newest first (limit/marker), and its counters. */
  async runs(caller: Caller, id: string, q: { limit?: unknown; marker?: unknown }): Promise<WireRuns> {
    return wireRuns(await this.visible(caller, id), q);
  }

  /** The next `count` runs (default 5, at most 1000), with the DST overlaps and gaps among them. */
  async schedule(caller: Caller, id: string, count: unknown): Promise<WireSchedule> {
    const n = upcomingCount(count);
    const job = await this.visible(caller, id);
    return wireSchedule(job, zoneShown(job), this.now(), n);
  }

  /**
   * Asks for a run now: adds a run request to the job's spec, which the operator starts exactly
   * once. With an Idempotency-Key, the request's id comes from it: the same key again finds its
   * request and adds nothing. Requests already taken are removed to make room (status keeps them).
   */
  async runNow(caller: Caller, id: string, body: unknown, idempotencyKey?: string): Promise<WireRunRequest> {
    const functionInput = inputFromRunNow(body);
    const found = await this.visible(caller, id, true);
    const requestId = idempotencyKey
      ? `k-${createHash('sha256').update(`${caller.projectId}\n${idempotencyKey}`).digest('hex').slice(0, 32)}`
      : randomUUID();
    const request: RunRequest = {
      id: requestId,
      requestedBy: requester(caller),
      ...(functionInput !== undefined ? { functionInput } : {}),
    };
    const answer = (j: QinlingJob): WireRunRequest => ({
      id: requestId,
      job_id: j.metadata.uid,
      requested_by: request.requestedBy ?? '',
    });
    return this.onLatest(id, found, async (job, attempt) => {
      const taken = job.status?.runRequests ?? [];
      const asked = job.spec.runRequests ?? [];
      if (asked.some((r) => r.id === requestId) || taken.some((t) => t.id === requestId)) return answer(job);
      if (finished(job)) throw badRequest(MESSAGES.runFinished);
      const done = new Set(taken.filter((t) => t.started || t.refused).map((t) => t.id));
      const waiting = asked.filter((r) => !done.has(r.id));
      if (waiting.length >= MAX_RUN_REQUESTS)
        throw new DomainError(
          'Conflict',
          `${MAX_RUN_REQUESTS} run requests are waiting for this job; retry later.`,
        );
      if (attempt === 0) await this.authorize(caller, 'patch', job.metadata.namespace);
      return answer(await this.store.update(job, { runRequests: [...waiting, request] }));
    });
  }

  /** Retries on a conflict with the latest version: the operator's status writes come and go. */
  async update(caller: Caller, id: string, body: unknown): Promise<WireJob> {
    return this.onLatest(id, await this.visible(caller, id, true), async (job, attempt) => {
      const patch = specFromUpdate(body, job, this.now());
      if (Object.keys(patch).length === 0) return this.wire(job);
      if (patch.functionInput !== undefined)
        this.checkQuota(
          job.metadata.namespace,
          this.store.projectOf(job.metadata.namespace) ?? '',
          patch.functionInput,
          job,
        );
      if (attempt === 0) await this.authorize(caller, 'patch', job.metadata.namespace);
      return this.wire(await this.store.update(job, patch, this.now()));
    });
  }

  /** `write` on the job, and again on its latest version after a conflict (5 tries in all). */
  private async onLatest<T>(
    id: string,
    first: QinlingJob,
    write: (job: QinlingJob, attempt: number) => Promise<T>,
  ): Promise<T> {
    let job = first;
    for (let attempt = 0; ; attempt++) {
      try {
        return await write(job, attempt);
      } catch (err) {
        if (!isConflict(err)) throw err;
        if (attempt >= 4) throw new DomainError('Conflict', 'The job kept changing meanwhile; retry.');
        const latest = await this.store.latest(job);
        if (!latest) throw notFound(id);
        job = latest;
      }
    }
  }

  async remove(caller: Caller, id: string): Promise<void> {
    const job = await this.visible(caller, id, true);
    await this.authorize(caller, 'delete', job.metadata.namespace);
    await this.store.remove(job);
  }

  /** Under kubernetes auth the facade writes as itself, for a caller RBAC allows the same write. */
  private async authorize(
    caller: Caller,
    verb: 'create' | 'patch' | 'delete',
    namespace: string,
  ): Promise<void> {
    if (caller.can && !(await caller.can(verb, namespace)))
      throw new DomainError('Forbidden', `Operation not allowed: you may not ${verb} jobs in this project.`);
  }
}

/**
 * One page of the matching jobs of `jobs` (oldest first): the marker is found by binary search,
 * and the list is read from there only until the page is full, so a page costs its own size,
 * not the project's.
 */
function page(
  jobs: readonly QinlingJob[],
  matches: (j: QinlingJob) => boolean,
  q: ListQuery,
  byId: (id: string) => QinlingJob | undefined,
): QinlingJob[] {
  let limit = Infinity;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new DomainError('BadRequest', 'Invalid limit: must be a positive integer.');
    limit = Math.min(limit, MAX_LIMIT); // a larger limit is clamped
  }
  let start = 0;
  if (q.marker !== undefined) {
    const marker = byId(q.marker);
    const at = marker ? lowerBound(jobs, marker, byCreation) : -1;
    // The marker is one of the listed jobs (Qinling: a marker outside the result is refused).
    if (!marker || jobs[at]?.metadata.uid !== marker.metadata.uid || !matches(marker))
      throw new DomainError('BadRequest', `Invalid marker: ${q.marker}`);
    start = at + 1;
  }
  const out: QinlingJob[] = [];
  for (let i = start; i < jobs.length && out.length < limit; i++) {
    const j = jobs[i] as QinlingJob;
    if (matches(j)) out.push(j);
  }
  return out;
}
