// The QinlingJob resource (group qinling.io, version v1) as the operator and the facade see it.
// crds/qinlingjob.yaml is its schema; these types mirror it field for field.

export const GROUP = 'qinling.io';
export const VERSION = 'v1';
export const KIND = 'QinlingJob';
export const PLURAL = 'qinlingjobs';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const LABEL_JOB_UID = 'qinling.io/job-uid';
export const LABEL_FUNCTION_ID = 'qinling.io/function-id';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'qinling-jobs';
/**
 * On a job whose CronJob may fire on its own: deleting the job leaves it in place until the
 * operator has suspended that CronJob, so no run starts while garbage collection catches up.
 */
export const FINALIZER = 'qinling.io/suspend-cronjob';
/** On Jobs the operator starts itself (one-shots, overrides, final counted runs). */
export const ANNOTATION_SCHEDULED = 'qinling.io/scheduled-time';
/** On Jobs the operator starts: the QinlingJob's generation they were made from (a spec edit re-makes an early one). */
export const ANNOTATION_GENERATION = 'qinling.io/generation';
/** On a run's Job: the run request it was started for (a run by hand, never a scheduled slot). */
export const ANNOTATION_RUN_REQUEST = 'qinling.io/run-request';
/** On a dead letter's delivery Job: the ledger id of the run it reports. */
export const ANNOTATION_DEAD_LETTER = 'qinling.io/dead-letter-for';
/** On a run's Job that the operator started late for a missed slot: `catch-up`. */
export const ANNOTATION_TRIGGER = 'qinling.io/trigger';
/** Set by the CronJob controller on every Job it creates (KEP-4026). */
export const ANNOTATION_CRONJOB_SCHEDULED = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** On the pod template: which function input (its ConfigMap's content) a run reads. */
export const ANNOTATION_INPUT_SHA256 = 'qinling.io/input-sha256';

export interface QinlingJobSpec {
  /** Qinling's free-text name (the REST `name`); not metadata.name. */
  name?: string;
  functionId?: string;
  functionVersion?: number;
  functionAlias?: string;
  functionInput?: string;
  pattern?: string;
  count?: number;
  firstExecutionTime?: string;
  nextExecutionTime?: string;
  timeZone?: string;
  suspend?: boolean;
  cancelled?: boolean;
  /** Runs asked for now: each new entry starts exactly one run, once (status.runRequests says which). */
  runRequests?: RunRequest[];
  /** Calls per run at most: a transient failure is called again after a backoff (retry.ts). */
  maxAttempts?: number;
  minBackoffSeconds?: number;
  maxBackoffSeconds?: number;
  /** Bound on one call to the runtime (the operator's default otherwise). */
  attemptDeadlineSeconds?: number;
  /** Pause the job after this many failed runs in a row (auto-pause; resuming clears it). */
  pauseAfterFailures?: number;
  /** No run before this time, nor after endTime (then the job is Done). */
  startTime?: string;
  endTime?: string;
  /** Every run up to this many seconds after its tick, by an offset derived from the job's uid. */
  jitterSeconds?: number;
  /** What a run due while another is active does (default Allow, as Qinling). */
  overlapPolicy?: OverlapPolicy;
  /** After an outage, missed runs at most this old are run late (catch-up), at most maxCatchupRuns of them. */
  catchupWindowSeconds?: number;
  maxCatchupRuns?: number;
  /** Where a record of each run that failed for good is sent (an HTTP URL; CloudEvents JSON). */
  deadLetterUrl?: string;
}

export type OverlapPolicy = 'Allow' | 'Forbid' | 'Replace' | 'BufferOne';

/** One run asked for by hand (REST POST /v1/jobs/{id}/run, or an entry added with kubectl). */
export interface RunRequest {
  /** Unique in the job: a new id is a new run; the same id again starts nothing. */
  id: string;
  /** The input for this run only, instead of spec.functionInput. */
  functionInput?: string;
  /** Who asked: the REST caller (set by the facade), or the Kubernetes user (checked by the chart's policy). */
  requestedBy?: string;
}

/** What the operator did with a run request; kept while the request is in the spec, and a few after. */
export interface HandledRunRequest {
  id: string;
  /** When the operator took it: the run's scheduled time. */
  acceptedAt: string;
  requestedBy?: string;
  /** The run's Job; absent when refused. */
  jobName?: string;
  /** Its Job was seen: it is never made again (even after the Job is collected). */
  started?: boolean;
  /** Why no run was started (the job was done or cancelled). */
  refused?: string;
}

/** A dead letter (issue 16): the failed run it is for, and its delivery Job. */
export interface DeadLetter {
  /** The run's ledger id: its scheduled time, or manual/<request id>. */
  run: string;
  jobName: string;
  /** Its Job was seen: it is never made again. */
  started?: boolean;
}

export type Phase = 'Running' | 'Paused' | 'Done' | 'Cancelled' | 'Failed';

/** One run in the ledger (status.recentRuns). */
export interface RunRecord {
  scheduledTime: string;
  /**
   * Who started it: the CronJob's schedule, the operator (one-shots, overrides, counted runs,
   * policies), a request by hand, or the catch-up of a missed run after an outage.
   */
  trigger: 'schedule' | 'operator' | 'manual' | 'catch-up';
  attempt: number;
  /** Missed: did not start in time; Skipped: not started by the overlap policy; Replaced: stopped for a newer run. */
  result: RunResult | 'Missed' | 'Skipped' | 'Replaced';
  jobName?: string;
  runRequest?: string;
  requestedBy?: string;
  startTime?: string;
  completionTime?: string;
  /** The runtime's answer, as the run's pod reported it (its last attempt's). */
  httpStatus?: number;
  message?: string;
  /** Each call of a run that may retry, as its pod reported them (retry.ts). */
  attempts?: RunAttempt[];
}

/** One call to the runtime within a run. */
export interface RunAttempt {
  attempt: number;
  startTime?: string;
  httpStatus?: number;
  message: string;
}
export type RunResult = 'Running' | 'Succeeded' | 'Failed';

export interface LastExecution {
  scheduledTime: string;
  jobName: string;
  result: RunResult;
  startTime?: string;
  completionTime?: string;
  message?: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface QinlingJobStatus {
  phase?: Phase;
  firstExecutionTime?: string;
  nextExecutionTime?: string;
  /** The next run is started by the operator as a Job, not by the CronJob's schedule. */
  nextRunByOperator?: boolean;
  /** The next runs, nextExecutionTime first (at most 5; none while paused). */
  upcoming?: string[];
  /** Run requests taken, oldest first: those still in the spec, and the last few before. */
  runRequests?: HandledRunRequest[];
  /** The last runs, newest first, kept when their Jobs are gone (missed slots too). */
  recentRuns?: RunRecord[];
  /** Runs that ended Succeeded / Failed, counted once each (missedRuns counts the missed). */
  succeeded?: number;
  failed?: number;
  /** Failed runs since the last success. */
  consecutiveFailures?: number;
  lastSuccessTime?: string;
  lastFailureTime?: string;
  /** The spec.nextExecutionTime override already applied (so it applies once). */
  appliedNextExecutionTime?: string;
  executions?: number;
  remaining?: number;
  /** Before countedTimes: the latest scheduled time counted (read once, to carry old status over). */
  lastScheduledTime?: string;
  /** Scheduled times already counted in `executions` (those whose Jobs exist, and the newest few). */
  countedTimes?: string[];
  /** Operator runs claimed before their Jobs are created; each becomes a Job (late rather than never). */
  claimedTimes?: string[];
  /** Of claimedTimes, the missed runs caught up after an outage (their Jobs say so). */
  catchupTimes?: string[];
  /** The job paused itself after failures in a row (pauseAfterFailures); cleared by a resume. */
  autoPaused?: { at: string; failures: number; applied?: boolean };
  /** consecutiveFailures at the last resume from an automatic pause: the count for the next starts there. */
  failureStreakBase?: number;
  /** Dead letters for runs that failed for good: each sent by its own Job, made once. */
  deadLetters?: DeadLetter[];
  /** The pattern and zone nextExecutionTime was computed for: a change is noticed. */
  scheduledWith?: {
    pattern: string;
    timeZone: string;
    jitterSeconds?: number;
    startTime?: string;
    endTime?: string;
  };
  /** Ticks that did not start within their deadline, in all. */
  missedRuns?: number;
  /** The latest missed scheduled times, newest last. */
  recentMisses?: string[];
  lastExecution?: LastExecution;
  conditions?: Condition[];
  observedGeneration?: number;
  cronJobName?: string;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface QinlingJob {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: QinlingJobSpec;
  status?: QinlingJobStatus;
}
