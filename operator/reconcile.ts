// One reconcile pass for one QinlingJob: read the world from the caches, ask the planner, and
// make the few writes it calls for. Idempotent and level-based: any pass may be repeated.
import {
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1CronJob,
  type V1Job,
} from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { PlannerConfig } from '../domain/config.js';
import { cronJobName } from '../domain/children.js';
import { operatorRunsAll } from '../domain/next.js';
import { observeManualRun, observeRun, type ObservedRun, type PodReport } from '../domain/observe.js';
import { readAttemptReport } from '../domain/retry.js';
import { owned, plan, type Observed, type Plan, type PlannedEvent } from '../domain/planner.js';
import { WITHDRAW_MARGIN_MS } from '../domain/early.js';
import {
  ANNOTATION_DEAD_LETTER,
  ANNOTATION_RUN_REQUEST,
  ANNOTATION_SCHEDULED,
  API_VERSION,
  FINALIZER,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type QinlingJob,
} from '../domain/types.js';
import type { Informers } from './informers.js';
import { isNotFound, statusCode, type Kube } from '../kube/client.js';
import type { Metrics } from './metrics.js';
import { isSubset } from './subset.js';
import { isTrimmed, templateMatches, trimTemplate } from './templates.js';
import type { Expectations } from './expectations.js';

export interface Outcome {
  requeueAfterMs?: number;
  /** The caches were behind this operator's own last write: nothing done, the echo queues the key. */
  waited?: true;
}

export class Reconciler {
  /** What a finished run's pod said, read once per Job. */
  private readonly podReports = new LRUCache<string, PodReport>({ max: 10_000 });

  constructor(
    private readonly kube: Kube,
    private readonly informers: Informers,
    private readonly cfg: PlannerConfig,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    /** Our writes the caches have not shown yet: a pass behind them waits for their echo. */
    private readonly expectations?: Expectations,
  ) {}

  async reconcile(namespace: string, name: string): Promise<Outcome> {
    const key = `${namespace}/${name}`;
    let job = this.informers.jobs.get(namespace, name);
    if (!job) {
      this.expectations?.forget(key);
      await this.suspendOrphan(namespace, name);
      return {};
    }
    const cached = this.informers.cronJobs.get(namespace, cronJobName(name));
    const seen = { job: job.metadata.resourceVersion, cronJob: cached?.metadata?.resourceVersion };
    if (this.expectations?.behind(key, seen)) return { waited: true };
    if (job.metadata.deletionTimestamp) {
      await this.release(job);
      return {};
    }
    const now = this.now();
    const observed = await this.observe(job, cached);
    let p = plan(job, observed, now, this.cfg);
    // First, as it races the clock: early runs taken back before their pods call, and active
    // runs a newer one replaces (overlapPolicy Replace), stopped before it starts.
    for (const run of [...(p.withdrawRuns ?? []), ...(p.replaceRuns ?? [])])
      await this.withdrawRun(namespace, run);
    // A CronJob that may fire on its own is made only under the finalizer; and the input before
    // the CronJob whose pods read it, and before any run started below. The input is written
    // only when the CronJob's template is to change (its annotation carries the input's hash), so
    // a steady state costs no call and the operator caches no ConfigMap. The two writes do not
    // depend on each other: they go together, one round trip for both.
    const protecting =
      !operatorRunsAll(job) && p.cronJob && !job.metadata.finalizers?.includes(FINALIZER)
        ? this.protect(job)
        : undefined;
    const input = p.input && p.cronJob && templateChanges(p.cronJob, cached) ? p.input : undefined;
    const [protectedJob, inputWritten] = await Promise.all([
      protecting,
      input ? this.writeInput(job, input) : true,
    ]);
    if (protectedJob) job = protectedJob;
    if (!inputWritten) {
      p = plan(job, { ...observed, foreignInput: input?.metadata?.name ?? '' }, now, this.cfg);
    }
    if (!cached && p.cronJob && !(await this.createCronJob(key, p.cronJob))) {
      // The name is taken by a CronJob the cache does not hold: someone else's (it lacks our
      // label), or ours just created. Plan again with it, so a foreign one is left alone.
      const existing = await this.readCronJob(namespace, name);
      p = plan(job, await this.observe(job, existing), now, this.cfg);
      await this.applyCronJob(key, p, existing);
    } else if (cached) {
      await this.applyCronJob(key, p, cached);
    }
    // Status first: a run the operator starts is claimed there (with the resourceVersion as the
    // lock against a second leader) before its Job exists, so it is never forgotten nor doubled.
    const written = await this.writeStatus(job, p);
    // pauseAfterFailures reached: the pause is in status; now the spec, at the version just
    // written (a change in between is a 409, and the next pass decides again).
    if (p.suspendJob) await this.suspendJob(job, written);
    for (const run of p.startRuns) await this.startRun(run);
    for (const name of p.deleteRuns ?? []) await this.deleteRun(job.metadata.namespace, name);
    // Events are best effort and off the worker's path: at a tick with many runs due, a worker
    // moves on to the next job instead of waiting a round trip per Event.
    for (const e of p.events) void this.event(job, e);
    return p.requeueAfterMs !== undefined ? { requeueAfterMs: p.requeueAfterMs } : {};
  }

  private async observe(job: QinlingJob, cronJob: V1CronJob | undefined): Promise<Observed> {
    const manualRuns: NonNullable<Observed['manualRuns']> = [];
    const deadLetterJobs = new Set<string>();
    const { uid, namespace } = job.metadata;
    for (const j of this.informers.runsOf(uid)) {
      const m = j.metadata;
      if (m?.namespace !== namespace) continue;
      if (m.annotations?.[ANNOTATION_DEAD_LETTER] !== undefined) {
        if (m.ownerReferences?.some((o) => o.controller && o.uid === uid)) deadLetterJobs.add(m.name ?? '');
      } else if (m.annotations?.[ANNOTATION_RUN_REQUEST] !== undefined) {
        const r = observeManualRun(j, uid, await this.podReportOf(job, j));
        if (r) manualRuns.push(r);
      }
    }
    return {
      ...(cronJob ? { cronJob } : {}),
      runs: await this.observeRuns(job, cronJob),
      manualRuns,
      deadLetterJobs,
    };
  }

  private async readCronJob(namespace: string, name: string): Promise<V1CronJob | undefined> {
    try {
      return await this.kube.batch.readNamespacedCronJob({ name: cronJobName(name), namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Adds the finalizer; on a stale read the 409 requeues the key quietly. Returns the job at the
   * version the patch made, so this pass's status write is not refused as stale (a 409 and a
   * requeue per new job, before the cache caught up).
   */
  private async protect(job: QinlingJob): Promise<QinlingJob> {
    const { namespace, name, resourceVersion } = job.metadata;
    const finalizers = [...(job.metadata.finalizers ?? []), FINALIZER];
    const rv = await this.patchJob(
      namespace,
      name,
      { metadata: { resourceVersion, finalizers } },
      PatchStrategy.MergePatch,
    );
    return { ...job, metadata: { ...job.metadata, finalizers, ...(rv ? { resourceVersion: rv } : {}) } };
  }

  /** A patch of the QinlingJob itself (its metadata or spec), not of its status; the version it made. */
  private async patchJob(
    namespace: string,
    name: string,
    body: unknown,
    strategy: PatchStrategy,
  ): Promise<string | undefined> {
    const patched = (await this.kube.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body },
      setHeaderOptions('Content-Type', strategy),
    )) as Partial<QinlingJob> | undefined;
    const rv = patched?.metadata?.resourceVersion;
    this.expectations?.wrote(`${namespace}/${name}`, 'job', rv);
    return rv;
  }

  /**
   * The job is being deleted: suspend its CronJob, if it is this job's (patched whatever the
   * cache says of `suspend`: a CronJob just made or unsuspended may not show yet), then let the
   * delete finish. The test on the list keeps a concurrent change of the finalizers intact.
   */
  private async release(job: QinlingJob): Promise<void> {
    const { namespace, name, uid } = job.metadata;
    await this.withdrawEarlyRuns(namespace, uid);
    const at = job.metadata.finalizers?.indexOf(FINALIZER) ?? -1;
    if (at < 0) return;
    const cj =
      this.informers.cronJobs.get(namespace, cronJobName(name)) ?? (await this.readCronJob(namespace, name));
    if (cj?.metadata?.ownerReferences?.some((o) => o.uid === uid)) {
      try {
        await this.kube.batch.patchNamespacedCronJob(
          {
            name: cj.metadata.name ?? '',
            namespace,
            body: [{ op: 'add', path: '/spec/suspend', value: true }],
          },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    try {
      await this.patchJob(
        namespace,
        name,
        [
          { op: 'test', path: `/metadata/finalizers/${at}`, value: FINALIZER },
          { op: 'remove', path: `/metadata/finalizers/${at}` },
        ],
        PatchStrategy.JsonPatch,
      );
      this.log.info({ namespace, job: name }, 'suspended the CronJob of a deleted job; delete released');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The job is gone: its CronJob must not start another run while garbage collection catches up. */
  private async suspendOrphan(namespace: string, name: string): Promise<void> {
    const cj = this.informers.cronJobs.get(namespace, cronJobName(name));
    const ownedByGone = cj?.metadata?.ownerReferences?.some((o) => o.kind === KIND && o.name === name);
    if (!cj || !ownedByGone || cj.spec?.suspend) return;
    try {
      await this.kube.batch.patchNamespacedCronJob(
        {
          name: cj.metadata?.name ?? '',
          namespace,
          body: [{ op: 'replace', path: '/spec/suspend', value: true }],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      this.log.info({ namespace, cronJob: cj.metadata?.name }, 'suspended the CronJob of a deleted job');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async observeRuns(job: QinlingJob, cronJob: V1CronJob | undefined): Promise<ObservedRun[]> {
    const runs: ObservedRun[] = [];
    for (const j of this.informers.runsOf(job.metadata.uid)) {
      const a = j.metadata?.annotations ?? {};
      if (j.metadata?.namespace !== job.metadata.namespace) continue;
      // A run by hand or a dead letter's delivery is no slot's run: no pods call for it here.
      if (a[ANNOTATION_RUN_REQUEST] !== undefined || a[ANNOTATION_DEAD_LETTER] !== undefined) continue;
      const r = observeRun(j, cronJob, await this.podReportOf(job, j), job.metadata.uid);
      if (r) runs.push(r);
    }
    return runs;
  }

  /**
   * What a finished run's pod said (its termination message: each attempt, with the runtime's
   * HTTP status): for a failed run also why. Read once per Job (a pods call per finished run);
   * a succeeded run the ledger already holds as final is not read again (after a restart the
   * history's Jobs would cost a call each for nothing). Best effort: a pods error costs the
   * report, not the pass.
   */
  private async podReportOf(owner: QinlingJob, job: V1Job): Promise<PodReport | undefined> {
    const has = (type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === 'True');
    const failed = has('Failed');
    if (!failed) {
      if (!has('Complete')) return undefined;
      const name = job.metadata?.name;
      const kept = owner.status?.recentRuns?.find((r) => r.jobName === name);
      if (kept && kept.result !== 'Running') return undefined;
    }
    const uid = job.metadata?.uid ?? '';
    const known = this.podReports.get(uid);
    if (known !== undefined) return known;
    try {
      const pods = await this.kube.core.listNamespacedPod({
        namespace: job.metadata?.namespace ?? '',
        labelSelector: `batch.kubernetes.io/controller-uid=${uid}`,
      });
      const t = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated;
      if (!t) return undefined; // not terminated yet (or gone): ask again next pass
      const attempts = readAttemptReport(t.message);
      const said = attempts ? attempts.at(-1)?.message : t.message?.trim().split('\n').slice(-3).join(' | ');
      const report: PodReport = {
        message: `exit code ${t.exitCode}${said ? `: ${said}` : ''}`,
        ...(attempts ? { attempts } : {}),
      };
      this.podReports.set(uid, report);
      return report;
    } catch (err) {
      this.log.debug({ err, job: job.metadata?.name }, 'could not read the pod of a finished run');
      return undefined;
    }
  }

  /**
   * Creates or updates the input ConfigMap; false when its name is taken by one the job does not
   * own, which is left alone.
   */
  private async writeInput(job: QinlingJob, want: V1ConfigMap): Promise<boolean> {
    const namespace = want.metadata?.namespace ?? '';
    const name = want.metadata?.name ?? '';
    try {
      await this.kube.core.createNamespacedConfigMap({ namespace, body: want });
      this.log.info({ namespace, configMap: name }, 'created input ConfigMap');
      return true;
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
    }
    let have: V1ConfigMap;
    try {
      have = await this.kube.core.readNamespacedConfigMap({ name, namespace });
    } catch (err) {
      if (isNotFound(err)) throw conflict(); // deleted in between: look again
      throw err;
    }
    if (!owned(job, have)) return false;
    const data = isDeepStrictEqual(have.data ?? {}, want.data ?? {}) && !have.binaryData;
    if (data && isSubset(want.metadata, have.metadata)) return true; // written already (a race)
    // A replace at the version read: a concurrent writer (a second leader) makes it a 409.
    await this.kube.core.replaceNamespacedConfigMap({
      name,
      namespace,
      body: { ...want, metadata: { ...want.metadata, resourceVersion: have.metadata?.resourceVersion } },
    });
    this.log.info({ namespace, configMap: name }, 'updated input ConfigMap');
    return true;
  }

  /** Creates the CronJob; false when its name is already taken. */
  private async createCronJob(key: string, want: V1CronJob): Promise<boolean> {
    const namespace = want.metadata?.namespace ?? '';
    try {
      const made = await this.kube.batch.createNamespacedCronJob({ namespace, body: want });
      this.expectations?.wrote(key, 'cronJob', made.metadata?.resourceVersion);
      this.log.info({ namespace, cronJob: want.metadata?.name }, 'created CronJob');
      return true;
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
      return false;
    }
  }

  private async applyCronJob(key: string, p: Plan, existing: V1CronJob | undefined): Promise<void> {
    const want = p.cronJob;
    if (!want) return;
    const ns = want.metadata?.namespace ?? '';
    if (!existing) {
      if (!(await this.createCronJob(key, want))) throw conflict(); // look again with fresh data
      return;
    }
    const same =
      isSubset(withoutTemplate(want), withoutTemplate(existing)) &&
      templateMatches(want, existing) &&
      isSubset(want.metadata?.labels, existing.metadata?.labels) &&
      isSubset(want.metadata?.ownerReferences, existing.metadata?.ownerReferences);
    if (same) {
      trimTemplate(existing, want); // the cache keeps its digest from here on (templates.ts)
      return;
    }
    // A hold (the CronJob as it is, suspended) of a cached copy that no longer keeps its
    // template: the server's template goes back unchanged.
    let spec = want.spec ?? existing.spec;
    if (spec && !spec.jobTemplate && isTrimmed(existing)) {
      const full = await this.kube.batch
        .readNamespacedCronJob({ name: existing.metadata?.name ?? '', namespace: ns })
        .catch((err: unknown) => {
          throw isNotFound(err) ? conflict() : err; // deleted in between: look again
        });
      spec = { ...spec, jobTemplate: full.spec?.jobTemplate ?? {} };
    }
    // A replace, not a patch: whatever someone changed by hand is put back as a whole.
    const body: V1CronJob = {
      ...existing,
      metadata: {
        ...existing.metadata,
        labels: { ...existing.metadata?.labels, ...want.metadata?.labels },
        ownerReferences: want.metadata?.ownerReferences ?? [],
      },
      ...(spec ? { spec } : {}),
    };
    delete body.status;
    const replaced = await this.kube.batch.replaceNamespacedCronJob({
      name: existing.metadata?.name ?? '',
      namespace: ns,
      body,
    });
    this.expectations?.wrote(key, 'cronJob', replaced.metadata?.resourceVersion);
  }

  /**
   * Deletes an early run's Job before its time, pods first (foreground): the Job is gone from the
   * cache only once its pods are, so a claim dropped then was never called (early.ts).
   */
  private async withdrawRun(namespace: string, name: string): Promise<void> {
    try {
      await this.kube.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Foreground' });
      this.log.info({ namespace, job: name }, 'withdrew an early run before its time');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * A job deleted (or being deleted): its early runs are taken back now, not when garbage
   * collection reaches them, so a job deleted before its time does not call after it.
   */
  async withdrawEarlyRuns(namespace: string, uid: string): Promise<void> {
    const cutoff = this.now().getTime() + WITHDRAW_MARGIN_MS;
    for (const j of this.informers.runsOf(uid)) {
      const at = Date.parse(j.metadata?.annotations?.[ANNOTATION_SCHEDULED] ?? '');
      // Only the job's own runs (controlled by it): a Job that merely carries its label is not.
      const ours = j.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid);
      if (!ours || j.metadata?.namespace !== namespace || j.metadata.deletionTimestamp || !(at > cutoff))
        continue;
      await this.withdrawRun(namespace, j.metadata.name ?? '');
    }
  }

  /** A finished run Job of ours past the history limits (its pods go with it); gone already is fine. */
  private async deleteRun(namespace: string, name: string): Promise<void> {
    try {
      await this.kube.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async startRun(run: V1Job): Promise<void> {
    try {
      await this.kube.batch.createNamespacedJob({ namespace: run.metadata?.namespace ?? '', body: run });
      this.log.info({ namespace: run.metadata?.namespace, job: run.metadata?.name }, 'started run');
    } catch (err) {
      if (statusCode(err) !== 409) throw err; // the name is the lock: it was started before
    }
  }

  /** Sets spec.suspend (an automatic pause), at `resourceVersion`. */
  private async suspendJob(job: QinlingJob, resourceVersion: string | undefined): Promise<void> {
    const { namespace, name } = job.metadata;
    await this.patchJob(
      namespace,
      name,
      { metadata: { resourceVersion }, spec: { suspend: true } },
      PatchStrategy.MergePatch,
    );
    this.log.warn({ namespace, job: name }, 'paused the job after failures in a row (pauseAfterFailures)');
  }

  /** Writes the planned status (unless unchanged); the job's resourceVersion after it. */
  private async writeStatus(job: QinlingJob, p: Plan): Promise<string | undefined> {
    if (sameJson(job.status ?? {}, p.status)) return job.metadata.resourceVersion;
    const written: unknown = await this.kube.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: job.metadata.namespace,
      plural: PLURAL,
      name: job.metadata.name,
      body: { ...job, status: p.status },
    });
    // Counted only once the status that counts them is written: a conflict counts nothing twice.
    this.metrics.executionsStarted.inc(p.counted.length);
    for (const r of p.counted) {
      if (r.startTime)
        this.metrics.scheduleSkew.observe((r.startTime.getTime() - r.scheduledTime.getTime()) / 1000);
    }
    this.metrics.missedRuns.inc(p.missed);
    const grew = (k: 'succeeded' | 'failed') => Math.max((p.status[k] ?? 0) - (job.status?.[k] ?? 0), 0);
    this.metrics.runsFinished.inc({ result: 'Succeeded' }, grew('succeeded'));
    this.metrics.runsFinished.inc({ result: 'Failed' }, grew('failed'));
    if (p.missed > 0) {
      this.log.warn(
        { namespace: job.metadata.namespace, job: job.metadata.name, missed: p.missed },
        'runs missed',
      );
    }
    const rv = (written as QinlingJob | undefined)?.metadata?.resourceVersion;
    this.expectations?.wrote(`${job.metadata.namespace}/${job.metadata.name}`, 'job', rv);
    return rv;
  }

  private async event(job: QinlingJob, e: PlannedEvent): Promise<void> {
    const now = this.now();
    try {
      await this.kube.core.createNamespacedEvent({
        namespace: job.metadata.namespace,
        body: {
          metadata: { generateName: `${job.metadata.name}.`, namespace: job.metadata.namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: KIND,
            name: job.metadata.name,
            namespace: job.metadata.namespace,
            uid: job.metadata.uid,
          },
          type: e.type,
          reason: e.reason,
          message: e.message,
          source: { component: 'qinling-jobs-operator' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      this.log.warn({ err, reason: e.reason }, 'could not record event'); // events are best effort
    }
  }
}

/**
 * Equal as JSON, whatever the key order: the apiserver returns keys sorted, the planner builds
 * them in its own order, and comparing text would write an unchanged status on every pass.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/** Whether writing `want` over `existing` changes what its pods run (or creates it). */
function templateChanges(want: V1CronJob, existing: V1CronJob | undefined): boolean {
  return !existing || !templateMatches(want, existing);
}

/** A CronJob's spec but its pod template (compared apart, templates.ts). */
function withoutTemplate(cj: V1CronJob): Partial<NonNullable<V1CronJob['spec']>> | undefined {
  if (!cj.spec) return undefined;
  const rest: Partial<NonNullable<V1CronJob['spec']>> = { ...cj.spec };
  delete rest.jobTemplate;
  return rest;
}

/** Handled by the controller like a 409 from the apiserver: a quiet, prompt requeue. */
function conflict(): Error {
  return Object.assign(new Error('conflict'), { code: 409 });
}
