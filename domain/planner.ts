// The reconcile planner: (job, observed CronJob and runs, now) -> desired CronJob, status, the
// run to start, events and when to look again. Pure: all I/O is the caller's.
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { desiredCronJob, runJob, cronJobName } from './children.js';
import type { PlannerConfig } from './config.js';
import { setCondition } from './conditions.js';
import type { ObservedRun } from './observe.js';
import { firstRun, nextTick, parsePattern, prevTick, ScheduleError, validTimeZone } from './schedule.js';
import type { LastExecution, Phase, QinlingJob, QinlingJobStatus } from './types.js';

export interface Observed {
  cronJob?: V1CronJob;
  runs: ObservedRun[];
}

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan {
  status: QinlingJobStatus;
  /** The CronJob as it should be; undefined: leave whatever exists alone. */
  cronJob?: V1CronJob;
  /** A run the operator must start now. */
  startRun?: V1Job;
  events: PlannedEvent[];
  /** Look again after this long, even if nothing changes. */
  requeueAfterMs?: number;
}

/** Runs the CronJob controller has this long past their time before they count as missed. */
const MISSED_GRACE_MS = 30_000;
/** Longest a CronJob this pass creates may take to exist; a tick nearer than this is the operator's. */
const CRONJOB_CREATE_MARGIN_MS = 5000;

export function validate(job: QinlingJob): string | undefined {
  const s = job.spec;
  if (!s.functionId && !s.functionAlias) return 'functionId or functionAlias must be specified.';
  if (!s.pattern && !s.firstExecutionTime) return 'pattern or first_execution_time must be specified.';
  if (!s.pattern && (s.count ?? 1) > 1) return 'pattern must be provided if count is greater than 1.';
  if (s.count !== undefined && s.count < 1) return 'count must be at least 1.';
  for (const t of [s.firstExecutionTime, s.nextExecutionTime]) {
    if (t !== undefined && Number.isNaN(Date.parse(t))) return `Invalid time: ${t}`;
  }
  if (s.timeZone !== undefined && !validTimeZone(s.timeZone)) return `Invalid time zone: ${s.timeZone}`;
  if (s.pattern) {
    try {
      parsePattern(s.pattern);
    } catch (err) {
      return `The specified pattern is not valid: ${s.pattern} (${(err as ScheduleError).message})`;
    }
  }
  return undefined;
}

const iso = (d: Date | undefined) => d?.toISOString();
const date = (s: string | undefined) => (s ? new Date(s) : undefined);

export function plan(job: QinlingJob, observed: Observed, now: Date, cfg: PlannerConfig): Plan {
  const prev = job.status ?? {};
  const events: PlannedEvent[] = [];
  const base: QinlingJobStatus = {
    ...prev,
    observedGeneration: job.metadata.generation,
    cronJobName: cronJobName(job.metadata.name),
  };
  const invalid = validate(job);
  if (invalid) {
    const status: QinlingJobStatus = {
      ...base,
      phase: 'Failed',
      conditions: setCondition(
        prev.conditions,
        now,
        job.metadata.generation,
        'Valid',
        'False',
        'InvalidSpec',
        invalid,
      ),
    };
    if (prev.phase !== 'Failed' || conditionMessage(prev, 'Valid') !== invalid) {
      events.push({ type: 'Warning', reason: 'InvalidSpec', message: invalid });
    }
    // A CronJob made while the spec was valid must not keep firing an invalid job.
    const cj = owned(job, observed.cronJob) ? observed.cronJob : undefined;
    const cronJob = cj && cj.spec ? { ...cj, spec: { ...cj.spec, suspend: true } } : undefined;
    return { status, ...(cronJob ? { cronJob } : {}), events };
  }
  return new Pass(job, observed, now, cfg, base, events).run();
}

function conditionMessage(s: QinlingJobStatus, type: string): string | undefined {
  return s.conditions?.find((c) => c.type === type)?.message;
}

export function owned(job: QinlingJob, cj: V1CronJob | undefined): boolean {
  return cj?.metadata?.ownerReferences?.some((o) => o.controller && o.uid === job.metadata.uid) ?? false;
}

/** One planning pass over a valid job. */
class Pass {
  private readonly tz: string;
  private readonly s: number;
  private requeue: number[] = [];

  constructor(
    private readonly job: QinlingJob,
    private readonly observed: Observed,
    private readonly now: Date,
    private readonly cfg: PlannerConfig,
    private readonly status: QinlingJobStatus,
    private readonly events: PlannedEvent[],
  ) {
    this.tz = job.spec.timeZone ?? cfg.defaultTimeZone;
    this.s = cfg.startingDeadlineSeconds * 1000;
  }

  private get pattern(): string | undefined {
    return this.job.spec.pattern;
  }

  private after(ms: number): void {
    this.requeue.push(Math.max(ms, 0));
  }

  run(): Plan {
    const prevPhase = this.job.status?.phase;
    this.countRuns();
    const phase = this.phase();
    this.status.phase = phase;
    this.scheduleNext(prevPhase, phase);
    const st = this.status;
    this.condition('Valid', 'True', 'Valid', '');

    const existing = this.observed.cronJob;
    if (existing && !owned(this.job, existing)) {
      const msg = `CronJob ${existing.metadata?.name} exists and is not owned by this job; it is left alone`;
      if (conditionMessage(this.job.status ?? {}, 'Ready') !== msg) {
        this.events.push({ type: 'Warning', reason: 'NameConflict', message: msg });
      }
      this.condition('Ready', 'False', 'NameConflict', msg);
      return { status: st, events: this.events, ...this.requeueAfter() };
    }
    this.condition('Ready', 'True', 'CronJobReady', '');
    const next = date(st.nextExecutionTime);
    const cronJob = desiredCronJob(this.job, this.cfg, {
      suspend: this.holdCronJob(phase, next),
      timeZone: this.tz,
      ...(next && !this.pattern ? { oneShotAt: next } : {}),
    });
    const startRun = this.runDue(phase, next, existing);
    return {
      status: st,
      cronJob,
      ...(startRun ? { startRun } : {}),
      events: this.events,
      ...this.requeueAfter(),
    };
  }

  /** Sets one condition of this pass's status for the job's generation. */
  private condition(type: string, status: 'True' | 'False', reason: string, message: string): void {
    const st = this.status;
    st.conditions = setCondition(
      st.conditions,
      this.now,
      this.job.metadata.generation,
      type,
      status,
      reason,
      message,
    );
  }

  private requeueAfter(): { requeueAfterMs?: number } {
    return this.requeue.length > 0 ? { requeueAfterMs: Math.min(...this.requeue) } : {};
  }

  /** Counts each scheduled time once; the count lives in status, so lost Job history loses nothing. */
  private countRuns(): void {
    const st = this.status;
    const counted = date(st.lastScheduledTime)?.getTime() ?? -Infinity;
    const fresh = new Set<number>();
    for (const r of this.observed.runs)
      if (r.scheduledTime.getTime() > counted) fresh.add(r.scheduledTime.getTime());
    if (fresh.size > 0) {
      st.executions = (st.executions ?? 0) + fresh.size;
      st.lastScheduledTime = new Date(Math.max(...fresh)).toISOString();
    }
    st.executions ??= 0;
    const latest = [...this.observed.runs].sort(
      (a, b) => b.scheduledTime.getTime() - a.scheduledTime.getTime(),
    )[0];
    if (latest) {
      const before = st.lastExecution;
      const last: LastExecution = {
        scheduledTime: latest.scheduledTime.toISOString(),
        jobName: latest.jobName,
        result: latest.result,
        ...(latest.startTime ? { startTime: latest.startTime.toISOString() } : {}),
        ...(latest.completionTime ? { completionTime: latest.completionTime.toISOString() } : {}),
        ...(latest.message ? { message: latest.message } : {}),
      };
      if (before?.jobName !== last.jobName) {
        this.events.push({
          type: 'Normal',
          reason: 'RunStarted',
          message: `run for ${last.scheduledTime} is Job ${last.jobName}`,
        });
      }
      if (last.result === 'Failed' && (before?.jobName !== last.jobName || before.result !== 'Failed')) {
        this.events.push({
          type: 'Warning',
          reason: 'RunFailed',
          message: `Job ${last.jobName}: ${last.message ?? 'failed'}`,
        });
      }
      st.lastExecution = last;
    }
    const count = this.job.spec.count ?? (this.pattern ? undefined : 1);
    if (count !== undefined) st.remaining = Math.max(count - st.executions, 0);
    else delete st.remaining;
  }

  private phase(): Phase {
    const st = this.status;
    if (this.job.spec.cancelled) return 'Cancelled';
    if (st.remaining === 0) return 'Done';
    if (this.job.spec.suspend) return 'Paused';
    return 'Running';
  }

  /** status.nextExecutionTime and who starts that run (the CronJob, or the operator). */
  private scheduleNext(prevPhase: Phase | undefined, phase: Phase): void {
    const st = this.status;
    const spec = this.job.spec;
    const pattern = this.pattern;
    if (phase === 'Done' || phase === 'Cancelled') {
      delete st.nextExecutionTime;
      delete st.nextRunByOperator;
      return;
    }
    let next = date(st.nextExecutionTime);
    let byOperator = st.nextRunByOperator ?? false;
    if (!next) {
      // Planned from the job's creation, as Qinling did at create time, so the REST facade can
      // show the same first run before the operator has seen the job.
      const created = date(this.job.metadata.creationTimestamp) ?? this.now;
      next = pattern
        ? firstRun(pattern, this.tz, created, date(spec.firstExecutionTime))
        : date(spec.firstExecutionTime);
      byOperator = !pattern;
      st.firstExecutionTime = iso(next);
    } else if (prevPhase === 'Paused' && phase === 'Running' && pattern) {
      next = nextTick(pattern, this.tz, this.now); // Qinling: resuming skips what was missed
      byOperator = false;
    }
    if (spec.nextExecutionTime && spec.nextExecutionTime !== st.appliedNextExecutionTime) {
      next = new Date(spec.nextExecutionTime);
      byOperator = true;
      st.appliedNextExecutionTime = spec.nextExecutionTime;
    }
    const ran = date(st.lastScheduledTime);
    if (next && ran && ran.getTime() >= next.getTime() && pattern) {
      next = nextTick(pattern, this.tz, ran);
      byOperator = false;
    }
    // A tick the CronJob cannot fire is the operator's, unless it is already missed (then the
    // rule below moves on from now, as for any missed tick).
    if (next && pattern && !byOperator && !this.missed(next) && !this.cronJobCanFire(next)) byOperator = true;
    if (next && pattern && !byOperator && phase === 'Running') {
      const missedBy = this.now.getTime() - next.getTime();
      if (this.missed(next)) {
        this.events.push({
          type: 'Warning',
          reason: 'MissedRun',
          message: `the run for ${next.toISOString()} did not start in time`,
        });
        next = nextTick(pattern, this.tz, this.now);
      } else if (missedBy > -1) {
        this.after(this.s + MISSED_GRACE_MS - missedBy + 1);
      }
    }
    // With a count, the last run is started by the operator, so no extra tick can ever fire.
    if (pattern && st.remaining === 1) byOperator = true;
    st.nextExecutionTime = iso(next);
    st.nextRunByOperator = byOperator;
  }

  /** Whether a pattern run at `t` is past starting: the controller's deadline and our grace. */
  private missed(t: Date): boolean {
    return this.now.getTime() - t.getTime() > this.s + MISSED_GRACE_MS;
  }

  /**
   * Whether the CronJob controller can fire the tick `t`: it fires only ticks after the CronJob's
   * creation (to the second). A CronJob not made yet is made in this pass; a tick too close to
   * now for that is the operator's to start, like an override.
   */
  private cronJobCanFire(t: Date): boolean {
    const created = date(this.observed.cronJob?.metadata?.creationTimestamp?.toString());
    if (created) return created.getTime() < t.getTime();
    return this.now.getTime() + CRONJOB_CREATE_MARGIN_MS < t.getTime();
  }

  /**
   * Whether the CronJob stays suspended. It runs only in phase Running, for pattern runs, and only
   * once no tick before the next run can still fire: the controller starts a missed tick within
   * startingDeadlineSeconds, so the tick before `next` must be older than that, or already done.
   */
  private holdCronJob(phase: Phase, next: Date | undefined): boolean {
    if (phase !== 'Running' || !next || !this.pattern || this.status.nextRunByOperator) return true;
    const before = prevTick(this.pattern, this.tz, next);
    const cj = this.observed.cronJob;
    const done =
      date(cj?.status?.lastScheduleTime?.toString()) ??
      date(cj?.metadata?.creationTimestamp?.toString()) ??
      this.now;
    const safe = Math.max(done.getTime(), this.now.getTime() - this.s) >= before.getTime();
    if (!safe) this.after(before.getTime() + this.s + 1000 - this.now.getTime());
    return !safe;
  }

  /** A run the operator starts itself when its time has come (and only once: the name is the lock). */
  private runDue(phase: Phase, next: Date | undefined, cronJob: V1CronJob | undefined): V1Job | undefined {
    if (phase !== 'Running' || !next || !this.status.nextRunByOperator) return undefined;
    const wait = next.getTime() - this.now.getTime();
    if (wait > 0) {
      this.after(wait);
      return undefined;
    }
    if (!cronJob?.metadata?.uid) {
      this.after(1000); // the CronJob (the run's owner and template) is being made
      return undefined;
    }
    if (this.observed.runs.some((r) => r.scheduledTime.getTime() === next.getTime())) return undefined;
    return runJob(this.job, cronJob, this.cfg, next);
  }
}
