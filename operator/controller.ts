// The controller: informer events become keys on the work queue; N workers reconcile them.
// Errors back off per key, conflicts are requeued quietly, planned waits become delayed adds.
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KIND, LABEL_JOB_UID, type QinlingJob } from '../domain/types.js';
import type { Informers } from './informers.js';
import { isConflict } from '../kube/client.js';
import type { Metrics } from './metrics.js';
import type { WorkQueue } from './queue.js';
import type { Reconciler } from './reconcile.js';

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/** How often every job is looked at even if nothing announced a change. */
const RESYNC_MS = 10 * 60_000;

export class Controller {
  private readonly keyByUid = new Map<string, string>();
  private running = false;
  private resync?: NodeJS.Timeout;
  private readonly workers: Promise<void>[] = [];

  constructor(
    readonly queue: WorkQueue,
    private readonly informers: Informers,
    private readonly reconciler: Reconciler,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    informers.jobs.on((verb, j: QinlingJob) => {
      const k = key(j.metadata.namespace, j.metadata.name);
      if (verb === 'delete') {
        this.keyByUid.delete(j.metadata.uid);
        // Garbage collection deletes its runs too, in its own time: early ones go now.
        if (this.running) void this.withdraw(j);
      } else this.keyByUid.set(j.metadata.uid, k);
      this.enqueue(k);
    });
    informers.cronJobs.on((_verb, cj: V1CronJob) => {
      const owner = cj.metadata?.ownerReferences?.find((o) => o.controller && o.kind === KIND);
      if (owner) this.enqueue(key(cj.metadata?.namespace ?? '', owner.name));
    });
    informers.runs.on((_verb, j: V1Job) => {
      const k = this.keyByUid.get(j.metadata?.labels?.[LABEL_JOB_UID] ?? '');
      if (k) this.enqueue(k);
    });
  }

  /**
   * Starts the workers (on becoming leader), queues every known job once, and again every
   * resync period (jittered), as controller-runtime's SyncPeriod: whatever no event announced
   * (a missed watch event, a clock jump) is looked at within one period.
   */
  start(workers: number, resyncMs = RESYNC_MS): void {
    if (this.running) return;
    this.running = true;
    this.resyncAll();
    for (let i = 0; i < workers; i++) this.workers.push(this.work());
    const tick = () => {
      this.resync = setTimeout(
        () => {
          this.resyncAll();
          tick();
        },
        resyncMs * (0.9 + Math.random() * 0.2),
      );
      this.resync.unref();
    };
    tick();
  }

  /**
   * Events queue work only while leading: a standby keeps its caches, not a queue, so a new term
   * starts from the due-first resync instead of the order the caches filled in.
   */
  private enqueue(k: string): void {
    if (this.running) this.queue.add(k);
  }

  /** Every known job, soonest next run first: a new leader starts what is overdue before the rest. */
  private resyncAll(): void {
    const due = (j: QinlingJob) => Date.parse(j.status?.nextExecutionTime ?? '') || Infinity;
    const jobs = [...this.informers.jobs.list()].sort((a, b) => due(a) - due(b));
    for (const j of jobs) this.queue.add(key(j.metadata.namespace, j.metadata.name));
  }

  private async withdraw(j: QinlingJob): Promise<void> {
    try {
      await this.reconciler.withdrawEarlyRuns(j.metadata.namespace, j.metadata.uid);
    } catch (err) {
      this.log.warn({ err, job: j.metadata.name }, 'could not withdraw the early runs of a deleted job');
    }
  }

  /** Stops the workers (after their passes end); start() may follow, as on a new term as leader. */
  async stop(): Promise<void> {
    if (this.resync) clearTimeout(this.resync);
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.workers.length = 0;
    this.queue.reset();
    this.running = false;
  }

  private async work(): Promise<void> {
    for (;;) {
      const k = await this.queue.get();
      if (k === undefined) return;
      await this.process(k);
      this.queue.done(k);
    }
  }

  private async process(k: string): Promise<void> {
    const [namespace = '', name = ''] = k.split('/');
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      const out = await this.reconciler.reconcile(namespace, name);
      this.queue.forget(k);
      this.metrics.reconcileTotal.inc({ result: out.waited ? 'waited' : 'success' });
      if (out.requeueAfterMs !== undefined) this.queue.addAfter(k, out.requeueAfterMs);
    } catch (err) {
      if (isConflict(err)) {
        // Someone wrote first (or our cache was behind): look again with fresh data, quietly,
        // backing off like any failure so a stale cache cannot make a write storm.
        this.metrics.reconcileTotal.inc({ result: 'conflict' });
        this.queue.addRateLimited(k);
      } else {
        this.metrics.reconcileTotal.inc({ result: 'error' });
        const delay = this.queue.addRateLimited(k);
        this.log.warn({ err, key: k, retryInMs: delay }, 'reconcile failed');
      }
    } finally {
      end();
    }
  }
}
