// Retries (issue 16): a run whose call fails for a transient reason (5xx, 429, no answer within
// the attempt deadline, no connection; never a 4xx refusal) is called again by the same pod,
// after a backoff that doubles from minBackoffSeconds up to maxBackoffSeconds, until
// maxAttempts calls were made. Every attempt of one slot carries the slot's Idempotency-Key and
// its attempt number; the pod reports each attempt in its termination message, which the
// operator folds into the ledger. Off by default (one attempt), as Qinling never retried. Pure.
import type { PlannerConfig } from './config.js';
import type { QinlingJobSpec, RunAttempt } from './types.js';

export interface Retry {
  maxAttempts: number;
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  /** Bound on one call. */
  attemptDeadlineSeconds: number;
}

export const DEFAULT_MIN_BACKOFF_SECONDS = 1;
export const DEFAULT_MAX_BACKOFF_SECONDS = 60;
/** Attempts kept in one termination message (the kubelet keeps 4096 bytes of it). */
export const MAX_REPORTED_ATTEMPTS = 10;
const MAX_MESSAGE_BYTES = 4096;
const ATTEMPT_TEXT = 200;

export function retryOf(
  spec: Pick<
    QinlingJobSpec,
    'maxAttempts' | 'minBackoffSeconds' | 'maxBackoffSeconds' | 'attemptDeadlineSeconds'
  >,
  cfg: Pick<PlannerConfig, 'invokeTimeoutSeconds'>,
): Retry {
  const minBackoffSeconds = spec.minBackoffSeconds ?? DEFAULT_MIN_BACKOFF_SECONDS;
  return {
    maxAttempts: spec.maxAttempts ?? 1,
    minBackoffSeconds,
    maxBackoffSeconds: Math.max(spec.maxBackoffSeconds ?? DEFAULT_MAX_BACKOFF_SECONDS, minBackoffSeconds),
    attemptDeadlineSeconds: spec.attemptDeadlineSeconds ?? cfg.invokeTimeoutSeconds,
  };
}

/** The wait after failed attempt `n` (1-based): doubling from the minimum, capped at the maximum. */
export function backoffSeconds(r: Pick<Retry, 'minBackoffSeconds' | 'maxBackoffSeconds'>, n: number): number {
  return Math.min(r.minBackoffSeconds * 2 ** Math.min(n - 1, 30), r.maxBackoffSeconds);
}

/** The longest all attempts of one run can take: every call to its deadline, every backoff waited. */
export function budgetSeconds(r: Retry): number {
  let total = r.maxAttempts * r.attemptDeadlineSeconds;
  for (let n = 1; n < r.maxAttempts; n++) total += backoffSeconds(r, n);
  return total;
}

/**
 * The pod's report of its attempts, as its termination message: JSON, within the kubelet's
 * 4096 bytes (the last attempts kept, each message cut short).
 */
export function attemptReport(attempts: RunAttempt[]): string {
  const cut = attempts
    .slice(-MAX_REPORTED_ATTEMPTS)
    .map((a) => ({ ...a, message: a.message.slice(0, ATTEMPT_TEXT) }));
  for (let keep = cut.length; keep > 0; keep--) {
    const text = JSON.stringify({ attempts: cut.slice(-keep) });
    if (Buffer.byteLength(text, 'utf8') <= MAX_MESSAGE_BYTES) return text;
  }
  return JSON.stringify({ attempts: [] });
}

/** The attempts a termination message reports, or undefined when it is not such a report. */
export function readAttemptReport(message: string | undefined): RunAttempt[] | undefined {
  if (!message?.trimStart().startsWith('{"attempts"')) return undefined;
  try {
    const v = JSON.parse(message) as { attempts?: unknown };
    if (!Array.isArray(v.attempts)) return undefined;
    return v.attempts.filter(isAttempt).map((a) => ({
      attempt: a.attempt,
      ...(typeof a.startTime === 'string' ? { startTime: a.startTime } : {}),
      ...(typeof a.httpStatus === 'number' ? { httpStatus: a.httpStatus } : {}),
      message: a.message.slice(0, ATTEMPT_TEXT),
    }));
  } catch {
    return undefined;
  }
}

function isAttempt(a: unknown): a is RunAttempt {
  const x = a as Partial<RunAttempt> | null;
  return !!x && Number.isInteger(x.attempt) && typeof x.message === 'string';
}
