// What ran (issue 15): a bounded run ledger in status, kept when the Jobs are collected, and the
// counters a user asks of a schedule. Each pass folds what it observes (its runs' Jobs, its runs
// by hand, the slots it found missed) into the ledger it read; a run is counted the once its
// record turns final (Succeeded, Failed or Missed), so a pass retried after a conflict counts
// nothing twice. Pure.
import { badRequest } from './errors.js';
import type { ObservedRun } from './observe.js';
import type { QinlingJob, QinlingJobStatus, RunRecord } from './types.js';
import { wireTime } from './wire.js';

/** Records kept, newest first. */
export const KEEP_RUNS = 10;

/** A run seen this pass; `requestId` for a run by hand. */
export interface SeenRun extends ObservedRun {
  requestId?: string;
  requestedBy?: string;
}

export type Counters = Pick<
  QinlingJobStatus,
  'succeeded' | 'failed' | 'consecutiveFailures' | 'lastSuccessTime' | 'lastFailureTime'
>;

/** A record's id in the ledger: its scheduled time, or manual/<request id>. */
export const keyOf = (r: Pick<RunRecord, 'scheduledTime' | 'runRequest'>) =>
  r.runRequest ? `manual/${r.runRequest}` : r.scheduledTime;
const final = (r: RunRecord | undefined) => r !== undefined && r.result !== 'Running';

/** The runtime's HTTP status, where the invoker's message names it ("runtime answered HTTP 503"). */
export function httpStatusOf(message: string | undefined): number | undefined {
  const m = /\bHTTP (\d{3})\b/.exec(message ?? '');
  return m ? Number(m[1]) : undefined;
}

function recordOf(r: SeenRun): RunRecord {
  const trigger = r.requestId ? 'manual' : r.catchup ? 'catch-up' : r.byOperator ? 'operator' : 'schedule';
  const last = r.attempts?.at(-1);
  const http = last ? last.httpStatus : httpStatusOf(r.message);
  return {
    scheduledTime: r.scheduledTime.toISOString(),
    trigger,
    attempt: last?.attempt ?? 1,
    result: r.result,
    jobName: r.jobName,
    ...(r.requestId ? { runRequest: r.requestId } : {}),
    ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
    ...(r.startTime ? { startTime: r.startTime.toISOString() } : {}),
    ...(r.completionTime ? { completionTime: r.completionTime.toISOString() } : {}),
    ...(http !== undefined ? { httpStatus: http } : {}),
    ...(r.message ? { message: r.message.slice(0, 256) } : {}),
    ...(r.attempts && r.attempts.length > 1 ? { attempts: r.attempts } : {}),
  };
}

/** What a pass decided about slots no Job stands for, and about runs it stopped. */
export interface Settled {
  /** Slots that did not start in time. */
  missed: Date[];
  /** Slots the overlap policy did not start, and why. */
  overlapped?: { t: Date; why: string }[];
  /** Active runs stopped for a newer one (overlapPolicy Replace), by Job name. */
  replaced?: { jobName: string; why: string }[];
}

export function foldRuns(
  before: QinlingJobStatus,
  seen: SeenRun[],
  settled: Settled,
): { recentRuns: RunRecord[]; counters: Counters; newlyMissed: number; failedNow: RunRecord[] } {
  const { missed } = settled;
  const kept = before.recentRuns ?? [];
  const byKey = new Map(kept.map((r) => [keyOf(r), r]));
  // A full ledger's oldest record is its edge: a run older than it fell out already (its Job
  // may outlive its record), and coming back it would count twice.
  const edge = kept.length >= KEEP_RUNS ? kept.at(-1)?.scheduledTime : undefined;
  const turned: RunRecord[] = [];
  let newlyMissed = 0;
  for (const s of seen) {
    const rec = recordOf(s);
    if (edge !== undefined && rec.scheduledTime < edge && !byKey.has(keyOf(rec))) continue;
    const prev = byKey.get(keyOf(rec));
    if (final(prev) && prev?.result !== 'Missed') continue; // final: kept as it was
    byKey.set(keyOf(rec), rec);
    if (final(rec)) turned.push(rec);
  }
  for (const t of missed) {
    const scheduledTime = t.toISOString();
    if (byKey.has(scheduledTime) || (edge !== undefined && scheduledTime < edge)) continue;
    byKey.set(scheduledTime, { scheduledTime, trigger: 'schedule', attempt: 1, result: 'Missed' });
    newlyMissed++;
  }
  for (const { t, why } of settled.overlapped ?? []) {
    const scheduledTime = t.toISOString();
    if (byKey.has(scheduledTime) || (edge !== undefined && scheduledTime < edge)) continue;
    byKey.set(scheduledTime, {
      scheduledTime,
      trigger: 'operator',
      attempt: 0,
      result: 'Skipped',
      message: why,
    });
  }
  const replaced = new Map((settled.replaced ?? []).map((r) => [r.jobName, r.why]));
  for (const [key, r] of byKey) {
    const why = r.jobName !== undefined ? replaced.get(r.jobName) : undefined;
    if (why !== undefined && !final(r)) byKey.set(key, { ...r, result: 'Replaced', message: why });
  }
  const c: Counters = {
    succeeded: before.succeeded ?? 0,
    failed: before.failed ?? 0,
    consecutiveFailures: before.consecutiveFailures ?? 0,
    ...(before.lastSuccessTime ? { lastSuccessTime: before.lastSuccessTime } : {}),
    ...(before.lastFailureTime ? { lastFailureTime: before.lastFailureTime } : {}),
  };
  turned.sort((a, b) => a.scheduledTime.localeCompare(b.scheduledTime));
  for (const r of turned) {
    const at = r.completionTime ?? r.scheduledTime;
    if (r.result === 'Succeeded') {
      c.succeeded = (c.succeeded ?? 0) + 1;
      c.consecutiveFailures = 0;
      if (!c.lastSuccessTime || at > c.lastSuccessTime) c.lastSuccessTime = at;
    } else if (r.result === 'Failed') {
      c.failed = (c.failed ?? 0) + 1;
      c.consecutiveFailures = (c.consecutiveFailures ?? 0) + 1;
      if (!c.lastFailureTime || at > c.lastFailureTime) c.lastFailureTime = at;
    }
  }
  const recentRuns = [...byKey.values()]
    .sort((a, b) => b.scheduledTime.localeCompare(a.scheduledTime))
    .slice(0, KEEP_RUNS);
  return { recentRuns, counters: c, newlyMissed, failedNow: turned.filter((r) => r.result === 'Failed') };
}

/** `GET /v1/jobs/{id}/runs`: the ledger newest first, a page at a time, and the counters. */
export interface WireRuns {
  runs: {
    id: string;
    scheduled_time: string | null;
    trigger: RunRecord['trigger'];
    attempt: number;
    result: RunRecord['result'];
    job_name: string | null;
    run_request: string | null;
    requested_by: string | null;
    start_time: string | null;
    completion_time: string | null;
    http_status: number | null;
    message: string | null;
    /** Each call, for a run that retried. */
    attempts: { attempt: number; start_time: string | null; http_status: number | null; message: string }[];
  }[];
  succeeded: number;
  failed: number;
  missed: number;
  consecutive_failures: number;
  last_success_time: string | null;
  last_failure_time: string | null;
}

export function wireRuns(job: QinlingJob, q: { limit?: unknown; marker?: unknown }): WireRuns {
  const st = job.status ?? {};
  const all = st.recentRuns ?? [];
  let start = 0;
  if (q.marker !== undefined) {
    const marker = typeof q.marker === 'string' ? q.marker : JSON.stringify(q.marker);
    const i = all.findIndex((r) => keyOf(r) === marker);
    if (i < 0) throw badRequest(`Invalid marker: ${marker}`);
    start = i + 1;
  }
  let limit = all.length;
  if (q.limit !== undefined) {
    limit = typeof q.limit === 'string' && /^\d+$/.test(q.limit) ? Number(q.limit) : 0;
    if (limit < 1) throw badRequest('Invalid limit: must be a positive integer.');
  }
  return {
    runs: all.slice(start, start + limit).map((r) => ({
      id: keyOf(r),
      scheduled_time: wireTime(r.scheduledTime),
      trigger: r.trigger,
      attempt: r.attempt,
      result: r.result,
      job_name: r.jobName ?? null,
      run_request: r.runRequest ?? null,
      requested_by: r.requestedBy ?? null,
      start_time: wireTime(r.startTime),
      completion_time: wireTime(r.completionTime),
      http_status: r.httpStatus ?? null,
      message: r.message ?? null,
      attempts: (r.attempts ?? []).map((a) => ({
        attempt: a.attempt,
        start_time: wireTime(a.startTime),
        http_status: a.httpStatus ?? null,
        message: a.message,
      })),
    })),
    succeeded: st.succeeded ?? 0,
    failed: st.failed ?? 0,
    missed: st.missedRuns ?? 0,
    consecutive_failures: st.consecutiveFailures ?? 0,
    last_success_time: wireTime(st.lastSuccessTime),
    last_failure_time: wireTime(st.lastFailureTime),
  };
}
