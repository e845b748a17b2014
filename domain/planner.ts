// The reconcile planner: (job, observed CronJob and runs, now) -> desired CronJob, status, the
// runs to start, events and when to look again. Pure: all I/O is the caller's. It is a pipeline
// of small pure steps, each returning values: count what ran, decide the phase, take the
// intended next run, settle the ticks that are due, decide whether the CronJob may fire, and
// compute the one time to look again.
import type { V1ConfigMap, V1CronJob, V1Job, V1ObjectMeta } from '@kubernetes/client-node';
import { desiredCronJob, desiredInputConfigMap, runJob, cronJobName } from './children.js';
import type { PlannerConfig } from './config.js';
import { setCondition } from './conditions.js';
import { countRuns, expiredRuns, type Counted } from './count.js';
import { dueRuns, earlyTimes, withdrawals } from './early.js';
import type { PlannedEvent } from './events.js';
import { intendedNext, operatorRunsAll, scheduledWith, zoneOf, type Intended } from './next.js';
import type { ObservedRun } from './observe.js';
import { foldRuns, type SeenRun } from './ledger.js';
import { planRunRequests } from './manual.js';
import { planDeadLetters } from './deadletter.js';
import { MESSAGES, policyViolation } from './rules.js';
import { DEFAULT_UPCOMING, runsFrom } from './upcoming.js';
import { MISSED_GRACE_MS, settle, type Settled } from './settle.js';
import { parsePattern, prevTick, ScheduleError, validTimeZone } from './schedule.js';
import { stepper, timingOf } from './timing.js';
import { autoPause, overlapOf, type Overlap } from './policy.js';
import {
  ANNOTATION_RUN_REQUEST,
  ANNOTATION_SCHEDULED,
  type HandledRunRequest,
  type Phase,
  type QinlingJob,
  type QinlingJobStatus,
  type RunRecord,
} from './types.js';

export type { PlannedEvent } from './events.js';

export interface Observed {
  cronJob?: V1CronJob;
  /** Our runs (see observe.ts: Jobs our CronJob controls, named for their time). */
  runs: ObservedRun[];
  /** The name of a ConfigMap found where the job's input belongs, not owned by the job. */
  foreignInput?: string;
  /** The job's runs by hand whose Jobs exist (manual.ts). */
  manualRuns?: (ObservedRun & { requestId: string })[];
  /** Names of the job's dead-letter delivery Jobs that exist (deadletter.ts). */
  deadLetterJobs?: ReadonlySet<string>;
}

export interface Plan {
  status: QinlingJobStatus;
  /** The CronJob as it should be; undefined: leave whatever exists alone. */
  cronJob?: V1CronJob;
  /** The ConfigMap holding the input `cronJob`'s pods read: written before `cronJob` and runs. */
  input?: V1ConfigMap;
  /** Runs the operator must start now, each claimed in `status` first (write status, then create). */
  startRuns: V1Job[];
  events: PlannedEvent[];
  /** Runs counted by this pass. */
  counted: ObservedRun[];
  /** Ticks found missed by this pass. */
  missed: number;
  /** Look again after this long, even if nothing changes. */
  requeueAfterMs?: number;
  /** The operator's own finished run Jobs past the history limits, to delete once status is written. */
  deleteRuns?: string[];
  /** Early runs taken back before their time (see early.ts): deleted pods first, before anything else. */
  withdrawRuns?: string[];
  /** Active runs to stop for a newer one (overlapPolicy Replace): deleted, pods first, before it starts. */
  replaceRuns?: string[];
  /** Pause the job (spec.suspend) once status is written: pauseAfterFailures was reached. */
  suspendJob?: boolean;
}

/** Catch-up runs at most, when a window is set and no maxCatchupRuns. */
export const MAX_CATCHUP_RUNS = 100;

/** An overlap policy decides when a run is due, seeing the job as it is then: no run is made early. */
function leadMsOf(x: Step): number {
  return (x.job.spec.overlapPolicy ?? 'Allow') === 'Allow' ? x.cfg.leadSeconds * 1000 : 0;
}

/** Recent misses kept in status, newest last. */
export const KEEP_MISSES = 20;
/** Misses named one Event each per pass; beyond, one Event sums up the rest. */
const EVENTS_PER_PASS = 20;
/** Upstream's nextScheduleTimeDuration pad: look a little after the instant, not at it. */
const REQUEUE_PAD_MS = 100;

export function validate(job: QinlingJob): string | undefined {
  const s = job.spec;
  // The CRD's schema refuses these already; kept for objects stored before a rule existed.
  if (!s.functionId && !s.functionAlias) return MESSAGES.functionRequired;
  if (!s.pattern && !s.firstExecutionTime) return MESSAGES.whenRequired;
  if (!s.pattern && (s.count ?? 1) > 1) return MESSAGES.countNeedsPattern;
  if (s.count !== undefined && s.count < 1) return MESSAGES.countPositive;
  const policy = policyViolation(s);
  if (policy) return policy;
  for (const t of [s.firstExecutionTime, s.nextExecutionTime, s.startTime, s.endTime]) {
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
const ms = (s: string) => new Date(s).getTime();

export function owned(job: QinlingJob, cj: { metadata?: V1ObjectMeta } | undefined): boolean {
  return cj?.metadata?.ownerReferences?.some((o) => o.controller && o.uid === job.metadata.uid) ?? false;
}

function conditionMessage(s: QinlingJobStatus, type: string): string | undefined {
  return s.conditions?.find((c) => c.type === type)?.message;
}

function withCondition(
  st: QinlingJobStatus,
  job: QinlingJob,
  now: Date,
  c: [type: string, status: 'True' | 'False', reason: string, message: string],
): QinlingJobStatus {
  return { ...st, conditions: setCondition(st.conditions, now, job.metadata.generation, ...c) };
}

export function plan(job: QinlingJob, observed: Observed, now: Date, cfg: PlannerConfig): Plan {
  let p = planPass(job, observed, now, cfg);
  const w = withdrawals(job, observed.runs, p.status, now);
  if (w.dropClaims.length > 0) p = dropClaims(p, new Set(w.dropClaims));
  if (w.deleteRuns.length > 0) p = { ...p, withdrawRuns: w.deleteRuns };
  const expired = expiredRuns(observed.runs, job.status?.countedTimes, cfg);
  return expired.length > 0 ? { ...p, deleteRuns: expired } : p;
}

/** Claims of early runs taken back: gone from status, and not started. */
function dropClaims(p: Plan, drop: Set<string>): Plan {
  const claimedTimes = (p.status.claimedTimes ?? []).filter((c) => !drop.has(c));
  const status: QinlingJobStatus = { ...p.status, claimedTimes };
  if (claimedTimes.length === 0) delete status.claimedTimes;
  const startRuns = p.startRuns.filter((r) => {
    const a = r.metadata?.annotations ?? {};
    return a[ANNOTATION_RUN_REQUEST] !== undefined || !drop.has(a[ANNOTATION_SCHEDULED] ?? '');
  });
  return { ...p, status, startRuns };
}

function planPass(job: QinlingJob, observed: Observed, now: Date, cfg: PlannerConfig): Plan {
  const base: QinlingJobStatus = {
    ...job.status,
    observedGeneration: job.metadata.generation,
    cronJobName: cronJobName(job.metadata.name),
  };
  const invalid = validate(job);
  if (invalid) return planInvalid(job, observed, now, base, invalid);
  try {
    return planValid(job, observed, now, cfg, base);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    return planInvalid(job, observed, now, base, `The schedule cannot be computed: ${err.message}`);
  }
}

function planInvalid(
  job: QinlingJob,
  observed: Observed,
  now: Date,
  base: QinlingJobStatus,
  why: string,
): Plan {
  const status = withCondition({ ...base, phase: 'Failed' }, job, now, [
    'Valid',
    'False',
    'InvalidSpec',
    why,
  ]);
  const events: PlannedEvent[] = [];
  if (job.status?.phase !== 'Failed' || conditionMessage(job.status, 'Valid') !== why) {
    events.push({ type: 'Warning', reason: 'InvalidSpec', message: why });
  }
  // A CronJob made while the spec was valid must not keep firing an invalid job.
  const cj = owned(job, observed.cronJob) ? observed.cronJob : undefined;
  const cronJob = cj?.spec ? { ...cj, spec: { ...cj.spec, suspend: true } } : undefined;
  return { status, ...(cronJob ? { cronJob } : {}), startRuns: [], events, counted: [], missed: 0 };
}

function phaseOf(job: QinlingJob, remaining: number | undefined): Phase {
  if (job.spec.cancelled) return 'Cancelled';
  if (remaining === 0) return 'Done';
  if (job.spec.suspend) return 'Paused';
  return 'Running';
}

function remainingOf(job: QinlingJob, executions: number): number | undefined {
  const count = job.spec.count ?? (job.spec.pattern ? undefined : 1);
  return count === undefined ? undefined : Math.max(count - executions, 0);
}

interface Step {
  job: QinlingJob;
  observed: Observed;
  now: Date;
  cfg: PlannerConfig;
  tz: string;
  overlap: Overlap;
  /** The job's runs after an instant (timing.ts); none for a one-shot. */
  after: ((t: Date) => Date | undefined) | undefined;
}

function overlapReason(policy: Overlap['policy']): string {
  return policy === 'Forbid'
    ? 'another run was active (overlapPolicy Forbid)'
    : 'another run was active and one was already waiting (overlapPolicy BufferOne)';
}

function planValid(
  job: QinlingJob,
  observed: Observed,
  now: Date,
  cfg: PlannerConfig,
  base: QinlingJobStatus,
): Plan {
  // Runs made early (early.ts) count and settle nothing before their time.
  const due = { ...observed, runs: dueRuns(observed.runs, now) };
  const overlap = overlapOf(job, due.runs, observed.manualRuns ?? []);
  const tz = zoneOf(job, cfg.defaultTimeZone);
  const x: Step = { job, observed: due, now, cfg, tz, overlap, after: stepper(timingOf(job, tz)) };
  const counted = countRuns(base, due.runs);
  const remaining = remainingOf(job, counted.executions);
  let phase = phaseOf(job, remaining);
  const intended = intendedNext(job, x.tz, now);
  const s = schedule(x, intended, counted, phase, remaining);
  // Past its end bound, with nothing left to start, a pattern job is done.
  const ended = job.spec.endTime !== undefined && !s.next && !s.claim && s.catchup.length === 0;
  if (phase === 'Running' && ended && counted.claimedTimes.length === 0) phase = 'Done';
  const events = [...counted.events, ...missEvents(s.missed, s.skipped, cfg.startingDeadlineSeconds)];
  let status = statusOf(x, base, { intended, counted, phase, remaining, settled: s });
  status = withCondition(status, job, now, ['Valid', 'True', 'Valid', '']);
  const result = { counted: counted.fresh, missed: s.missed.length + s.skipped };
  const existing = observed.cronJob;
  if (existing && !owned(job, existing)) {
    const c = nameConflict(job, now, status, `CronJob ${existing.metadata?.name}`);
    return { status: c.status, startRuns: [], events: [...events, ...c.events], ...result };
  }
  if (observed.foreignInput) {
    const c = nameConflict(job, now, status, `ConfigMap ${observed.foreignInput}`);
    // Our CronJob's pods would read someone else's input: hold it, as for an invalid spec.
    const cronJob = existing?.spec ? { ...existing, spec: { ...existing.spec, suspend: true } } : undefined;
    const held = cronJob ? { cronJob } : {};
    return { status: c.status, ...held, startRuns: [], events: [...events, ...c.events], ...result };
  }
  status = withCondition(status, job, now, ['Ready', 'True', 'CronJobReady', '']);
  const next = date(status.nextExecutionTime);
  const hold = holdUntil(x, phase, next, status.nextRunByOperator ?? false);
  const cronJob = desiredCronJob(job, cfg, {
    suspend: hold !== undefined,
    timeZone: x.tz,
    ...(next && !job.spec.pattern ? { oneShotAt: next } : {}),
  });
  // A claim is made a Job until its Job is seen (an early one is seen before it counts).
  const early = earlyTimes(observed.runs, now);
  const claims = (status.claimedTimes ?? []).filter((c) => !early.has(ms(c)));
  // BufferOne: a claimed run waits until the active one has ended.
  const held = overlap.policy === 'BufferOne' && overlap.active.length > 0;
  const starts = phase === 'Running' && existing?.metadata?.uid && !held ? claims : [];
  const lateOnes = new Set(status.catchupTimes ?? []);
  const startRuns = starts.map((t) =>
    runJob(job, existing ?? cronJob, cfg, new Date(t), lateOnes.has(t) ? 'catch-up' : undefined),
  );
  const manualRuns = observed.manualRuns ?? [];
  const manualJobs = new Set(manualRuns.map((r) => r.jobName));
  const manual = planRunRequests(job, phase, existing, manualJobs, now, cfg, {
    policy: overlap.policy,
    busy: overlap.active.length > 0 || startRuns.length > 0 || held,
    waiting: held && claims.length > 0,
  });
  startRuns.push(...manual.startRuns);
  events.push(...manual.events);
  // Replace: a run starting now takes the active ones back (their pods are stopped).
  const replaced = overlap.policy === 'Replace' && startRuns.length > 0 ? overlap.active : [];
  if (manual.handled.length > 0) status = { ...status, runRequests: manual.handled };
  else delete status.runRequests;
  const ledger = withLedger(status, job.status ?? {}, due.runs, manualRuns, manual.handled, {
    missed: s.missed,
    overlapped: s.overlapped.map((t) => ({ t, why: overlapReason(overlap.policy) })),
    replaced: replaced.map((r) => ({
      jobName: r.jobName,
      why: 'stopped for a newer run (overlapPolicy Replace)',
    })),
  });
  status = ledger.status;
  const letters = planDeadLetters(
    job,
    job.status?.deadLetters ?? [],
    ledger.failedNow,
    status.recentRuns ?? [],
    observed.deadLetterJobs ?? new Set(),
    now,
    cfg,
  );
  startRuns.push(...letters.startRuns);
  if (letters.deadLetters.length > 0) status = { ...status, deadLetters: letters.deadLetters };
  else delete status.deadLetters;
  events.push(...letters.events);
  for (const t of s.overlapped)
    events.push({
      type: 'Normal',
      reason: 'RunSkipped',
      message: `the run for ${t.toISOString()} was skipped: ${overlapReason(overlap.policy)}`,
    });
  const pause = autoPause(job, job.status ?? {}, status, now);
  status = pause.status;
  events.push(...pause.events);
  // Pausing now: the run this pass claimed for later is not started (as if paused a moment before).
  const claimedNow = s.claim?.toISOString();
  if (pause.suspend && claimedNow && s.claim && s.claim.getTime() > now.getTime()) {
    const claimedTimes = (status.claimedTimes ?? []).filter((c) => c !== claimedNow);
    status = { ...status, claimedTimes };
    if (claimedTimes.length === 0) delete status.claimedTimes;
    for (let i = startRuns.length - 1; i >= 0; i--) {
      const a = startRuns[i]?.metadata?.annotations ?? {};
      if (a[ANNOTATION_RUN_REQUEST] === undefined && a[ANNOTATION_SCHEDULED] === claimedNow)
        startRuns.splice(i, 1);
    }
  }
  // Reported once, when the run is claimed (a claim is started again each pass until seen).
  for (const t of starts.filter((c) => c === claimedNow)) {
    const late = now.getTime() - ms(t);
    if (late > cfg.startingDeadlineSeconds * 1000) {
      events.push({
        type: 'Warning',
        reason: 'LateRun',
        message: `the run for ${t} starts ${Math.round(late / 1000)} s late`,
      });
    }
  }
  const wake = requeueAt(x, phase, s, { claims, early }, hold);
  return {
    status,
    cronJob,
    ...(job.spec.functionInput ? { input: desiredInputConfigMap(job) } : {}),
    startRuns,
    events,
    ...result,
    ...(replaced.length > 0 ? { replaceRuns: replaced.map((r) => r.jobName) } : {}),
    ...(pause.suspend ? { suspendJob: true } : {}),
    ...(wake !== undefined ? { requeueAfterMs: Math.max(wake - now.getTime(), 0) } : {}),
  };
}

/** A name the job needs is taken by an object it does not own: Ready=False, and one Warning. */
function nameConflict(
  job: QinlingJob,
  now: Date,
  status: QinlingJobStatus,
  what: string,
): { status: QinlingJobStatus; events: PlannedEvent[] } {
  const msg = `${what} exists and is not owned by this job; it is left alone`;
  const events: PlannedEvent[] =
    conditionMessage(job.status ?? {}, 'Ready') !== msg
      ? [{ type: 'Warning', reason: 'NameConflict', message: msg }]
      : [];
  return { status: withCondition(status, job, now, ['Ready', 'False', 'NameConflict', msg]), events };
}

/** The intended next run, settled against what ran and what is due. */
function schedule(
  x: Step,
  intended: Intended,
  counted: Counted,
  phase: Phase,
  remaining: number | undefined,
): Settled {
  const none = { catchup: [], missed: [], overlapped: [], skipped: 0 };
  const base: Settled = { byOperator: intended.byOperator, single: intended.single, ...none };
  if (intended.next) base.next = intended.next;
  if (phase === 'Done' || phase === 'Cancelled') return { byOperator: false, single: false, ...none };
  if (phase !== 'Running') return base;
  const claimed = new Set(counted.claimedTimes.map(ms));
  const cronJobCreated = date(x.observed.cronJob?.metadata?.creationTimestamp?.toString());
  const { after } = x;
  const { catchupWindowSeconds: window, maxCatchupRuns: max, overlapPolicy } = x.job.spec;
  const catchup =
    window !== undefined || max !== undefined
      ? { windowMs: (window ?? Infinity) * 1000, max: max ?? MAX_CATCHUP_RUNS }
      : undefined;
  return settle({
    ...(after ? { after } : {}),
    now: x.now,
    deadlineMs: x.cfg.startingDeadlineSeconds * 1000,
    leadMs: leadMsOf(x),
    ...(catchup ? { catchup } : {}),
    ...(overlapPolicy && overlapPolicy !== 'Allow'
      ? { overlap: { policy: overlapPolicy, active: x.overlap.active.length > 0 } }
      : {}),
    ...(intended.next ? { next: intended.next } : {}),
    byOperator: intended.byOperator,
    single: intended.single,
    operatorRunsAll: operatorRunsAll(x.job),
    ran: new Set(x.observed.runs.map((r) => r.scheduledTime.getTime())),
    claimed,
    capacity: remaining === undefined ? Infinity : Math.max(remaining - claimed.size, 0),
    ...(cronJobCreated ? { cronJobCreated } : {}),
  });
}

interface Decided {
  intended: Intended;
  counted: Counted;
  phase: Phase;
  remaining: number | undefined;
  settled: Settled;
}

function statusOf(x: Step, base: QinlingJobStatus, d: Decided): QinlingJobStatus {
  const { intended, counted, phase, remaining, settled: s } = d;
  const st: QinlingJobStatus = {
    ...base,
    phase,
    executions: counted.executions,
    countedTimes: counted.countedTimes,
  };
  delete st.lastScheduledTime;
  if (remaining !== undefined) st.remaining = remaining;
  else delete st.remaining;
  if (counted.lastExecution) st.lastExecution = counted.lastExecution;
  if (intended.first) st.firstExecutionTime = intended.first.toISOString();
  if (intended.applies) st.appliedNextExecutionTime = intended.applies;
  const late = s.catchup.map((d) => d.toISOString());
  const claims = [...counted.claimedTimes, ...late, ...(s.claim ? [s.claim.toISOString()] : [])];
  if (claims.length > 0) st.claimedTimes = claims;
  else delete st.claimedTimes;
  // Which claims run late (catch-up): their Jobs say so, and the ledger.
  const pending = new Set(claims);
  const catchupTimes = [...(base.catchupTimes ?? []).filter((t) => pending.has(t)), ...late];
  if (catchupTimes.length > 0) st.catchupTimes = catchupTimes;
  else delete st.catchupTimes;
  delete st.missedRuns;
  delete st.recentMisses;
  Object.assign(st, missesOf(base, counted, s));
  if (phase === 'Done' || phase === 'Cancelled' || !s.next) {
    delete st.nextExecutionTime;
    delete st.nextRunByOperator;
  } else {
    st.nextExecutionTime = iso(s.next);
    st.nextRunByOperator = s.byOperator;
  }
  // What will run: nextExecutionTime and the runs after it (a paused job runs none).
  const upcoming =
    phase === 'Running' && s.next
      ? runsFrom(s.next, x.after, Math.min(DEFAULT_UPCOMING, remaining ?? Infinity))
      : [];
  if (upcoming.length > 0) st.upcoming = upcoming.map((d) => d.toISOString());
  else delete st.upcoming;
  if (x.job.spec.pattern) st.scheduledWith = scheduledWith(x.job, x.tz);
  else delete st.scheduledWith;
  return st;
}

/** status.recentRuns and the run counters, folded from what this pass saw (ledger.ts). */
function withLedger(
  status: QinlingJobStatus,
  before: QinlingJobStatus,
  runs: ObservedRun[],
  manualRuns: (ObservedRun & { requestId: string })[],
  handled: HandledRunRequest[],
  settled: Parameters<typeof foldRuns>[2],
): { status: QinlingJobStatus; failedNow: RunRecord[] } {
  const who = new Map(handled.map((h) => [h.id, h.requestedBy]));
  const seen: SeenRun[] = [
    ...runs,
    ...manualRuns.map((r) => {
      const by = who.get(r.requestId);
      return by ? { ...r, requestedBy: by } : r;
    }),
  ];
  const { recentRuns, counters, failedNow } = foldRuns(before, seen, settled);
  const st: QinlingJobStatus = { ...status, ...counters };
  if (recentRuns.length > 0) st.recentRuns = recentRuns;
  else delete st.recentRuns;
  for (const k of ['succeeded', 'failed', 'consecutiveFailures'] as const) if (st[k] === 0) delete st[k];
  return { status: st, failedNow };
}

function missesOf(
  base: QinlingJobStatus,
  counted: Counted,
  s: Settled,
): Pick<QinlingJobStatus, 'missedRuns' | 'recentMisses'> {
  const total = (base.missedRuns ?? 0) - counted.unmissed.length + s.missed.length + s.skipped;
  const gone = new Set(counted.unmissed);
  const recent = [
    ...(base.recentMisses ?? []).filter((t) => !gone.has(t)),
    ...s.missed.map((d) => d.toISOString()),
  ];
  return total > 0 || recent.length > 0
    ? { missedRuns: Math.max(total, 0), recentMisses: recent.slice(-KEEP_MISSES) }
    : {};
}

function missEvents(missed: Date[], skipped: number, deadlineS: number): PlannedEvent[] {
  const named = missed.slice(0, EVENTS_PER_PASS).map((t): PlannedEvent => ({
    type: 'Warning',
    reason: 'MissedRun',
    message: `the run for ${t.toISOString()} did not start within ${deadlineS} s of its time`,
  }));
  const more = missed.length - named.length + skipped;
  if (more > 0) {
    const last = missed[missed.length - 1]?.toISOString() ?? '';
    named.push({
      type: 'Warning',
      reason: 'MissedRun',
      message: `${skipped > 0 ? 'at least ' : ''}${more} more runs up to ${last} did not start in time`,
    });
  }
  return named;
}

/**
 * Until when the CronJob stays suspended; undefined: it may fire. It fires only in phase Running,
 * only pattern runs that are its own, and only once no tick before the next run can still fire:
 * the controller starts a missed tick within startingDeadlineSeconds, so the tick before `next`
 * must be older than that, or already done by the controller.
 */
function holdUntil(x: Step, phase: Phase, next: Date | undefined, byOperator: boolean): number | undefined {
  const pattern = x.job.spec.pattern;
  if (phase !== 'Running' || !next || !pattern || byOperator || operatorRunsAll(x.job)) return Infinity;
  const before = prevTick(pattern, x.tz, next);
  const cj = x.observed.cronJob;
  const done =
    date(cj?.status?.lastScheduleTime?.toString()) ??
    date(cj?.metadata?.creationTimestamp?.toString()) ??
    x.now;
  const deadline = x.cfg.startingDeadlineSeconds * 1000;
  const safe = Math.max(done.getTime(), x.now.getTime() - deadline) >= before.getTime();
  return safe ? undefined : before.getTime() + deadline + 1000;
}

/** The one time to look again: upstream's rule (the next tick's deadline, padded) and ours. */
function requeueAt(
  x: Step,
  phase: Phase,
  s: Settled,
  c: { claims: string[]; early: Set<number> },
  hold: number | undefined,
): number | undefined {
  const at: number[] = [];
  const now = x.now.getTime();
  if (hold !== undefined && Number.isFinite(hold)) at.push(hold);
  // An early run counts at its time, whatever the phase (one withdrawn too late still counts).
  for (const t of c.early) at.push(t + REQUEUE_PAD_MS);
  if (phase === 'Running') {
    if (c.claims.length > 0) at.push(now + 2000); // until their Jobs are seen
    if (!x.observed.cronJob?.metadata?.uid) at.push(now + 1000); // the CronJob is being made
    if (s.next) {
      // An operator run is claimed and made `lead` before its time; any tick is settled once
      // its deadline has passed.
      const t = s.next.getTime();
      const settled = t + x.cfg.startingDeadlineSeconds * 1000 + MISSED_GRACE_MS + REQUEUE_PAD_MS;
      const made = t - leadMsOf(x);
      const due = s.byOperator && t > now ? (made > now ? made : t + REQUEUE_PAD_MS) : settled;
      at.push(due > now ? due : now + 1000);
    }
  }
  return at.length > 0 ? Math.min(...at) : undefined;
}
