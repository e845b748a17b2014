// Qinling's wire format for jobs <-> the QinlingJob resource. Pure: `now` is an argument.
// The rules and messages are Qinling's (see shared/docs/qinling-api.md), so scripts written
// against Qinling keep working.
import { Ajv, type ErrorObject } from 'ajv';
import { badRequest } from './errors.js';
import { intendedNext } from './next.js';
import { firstRun, parsePattern, ScheduleError } from './schedule.js';
import {
  FIELDS,
  fieldMessage,
  MAX_INPUT_BYTES,
  MESSAGES,
  POLICY_FIELDS,
  policyViolation,
  wireSchema,
  type FieldRule,
} from './rules.js';
import type { Phase, QinlingJob, QinlingJobSpec } from './types.js';

export { MAX_INPUT_BYTES } from './rules.js';

/** The 14 fields of a Qinling job, exactly; and a policy's key where one is set (issue 16). */
export interface WireJob extends WirePolicies {
  id: string;
  name: string | null;
  function_id: string | null;
  function_alias: string | null;
  function_version: number;
  function_input: string | null;
  status: string;
  pattern: string | null;
  count: number | null;
  first_execution_time: string | null;
  next_execution_time: string | null;
  project_id: string;
  created_at: string | null;
  updated_at: string | null;
}

/** Optional keys, absent unless the job sets them: a job made through Qinling's API shows none. */
export interface WirePolicies {
  max_attempts?: number;
  min_backoff_seconds?: number;
  max_backoff_seconds?: number;
  attempt_deadline_seconds?: number;
  pause_after_failures?: number;
  start_time?: string;
  end_time?: string;
  jitter_seconds?: number;
  overlap_policy?: string;
  catchup_window_seconds?: number;
  max_catchup_runs?: number;
  dead_letter_url?: string;
}

/** The policies a job sets, by their REST names. */
function wirePolicies(spec: QinlingJobSpec): WirePolicies {
  const out: Record<string, unknown> = {};
  for (const f of POLICY_FIELDS) {
    const v = spec[f.crd];
    if (v !== undefined && f.wire) out[f.wire] = f.schema.format === 'date-time' ? wireTime(v as string) : v;
  }
  return out;
}

/** The policy keys of a REST body -> the spec fields they set (null: leave as it is). */
function policiesFrom(b: Record<string, unknown>, current: QinlingJobSpec = {}): Partial<QinlingJobSpec> {
  const out: Record<string, unknown> = {};
  for (const f of POLICY_FIELDS) {
    if (!f.wire || !given(b[f.wire])) continue;
    // Times in every form Qinling read, stored as RFC 3339.
    out[f.crd] = f.schema.format === 'date-time' ? wireTime(readTime(f.wire, b[f.wire])) : b[f.wire];
  }
  const broken = policyViolation({ ...current, ...out });
  if (broken) throw badRequest(broken);
  return out;
}

const POLICY_WIRE = POLICY_FIELDS.flatMap((f) => (f.wire ? [f.wire] : []));

export const ANNOTATION_UPDATED_AT = 'qinling.io/updated-at';
const MIN_LEAD_MS = 60_000;

/** Times read and runs planned stop before this: far enough for any schedule, and no `+010000-` years. */
export const LATEST_TIME = Date.UTC(2101, 0, 1);
/** UTC offsets in use span -12:00 to +14:00; RFC 3339 allows none wider. */
const MAX_OFFSET_MINUTES = 14 * 60;
const STATUS: Record<Phase, string> = {
  Running: 'running',
  Paused: 'paused',
  Done: 'done',
  Cancelled: 'cancelled',
  Failed: 'error',
};

/** `YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds, as Qinling printed times. */
export function wireTime(t: string | Date | undefined | null): string | null {
  if (t === undefined || t === null || t === '') return null;
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Reads a time as Qinling did: any common form, taken as UTC when it names no zone
 * (`2026-11-27 14:15:06`, `2026-11-27 14:15:06.217819`, `2026-11-27T14:15:06Z`).
 */
export function readTime(field: string, raw: unknown): Date {
  if (typeof raw !== 'string') throw badRequest(`Invalid ${field}: must be a string.`);
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      raw.trim(),
    );
  if (!m) throw badRequest(`Invalid ${field}: ${raw}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? '0'));
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const zone = m[8];
  const local = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0, 0));
  // Date.UTC rolls Feb 30 over into March; a real date reads back the same.
  const real = local.getUTCFullYear() === y && local.getUTCMonth() + 1 === mo && local.getUTCDate() === d;
  if (!real || (h ?? 0) > 23 || (mi ?? 0) > 59 || (s ?? 0) > 59) throw badRequest(`Invalid ${field}: ${raw}`);
  let ms = local.getTime() + millis;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (om > 59 || oh * 60 + om > MAX_OFFSET_MINUTES) throw badRequest(`Invalid ${field}: ${raw}`);
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  if (ms >= LATEST_TIME) throw badRequest(`Invalid ${field}: ${raw} (times after 2100 are not taken)`);
  return new Date(ms);
}

/**
 * Done and error are what the operator observed; running, paused and cancelled are what was
 * asked, so a client sees its own PUT at once, as Qinling answered it.
 */
export function wireStatus(job: QinlingJob): string {
  const phase = job.status?.phase;
  if (job.spec.cancelled) return STATUS.Cancelled;
  if (phase === 'Done' || phase === 'Failed') return STATUS[phase];
  return job.spec.suspend ? STATUS.Paused : STATUS.Running;
}

/** The zone a job's times are computed in: its own, else the one the operator last used. */
export function zoneShown(job: QinlingJob, defaultTimeZone = 'Etc/UTC'): string {
  return job.spec.timeZone ?? job.status?.scheduledWith?.timeZone ?? defaultTimeZone;
}

/**
 * The first and next run as the job will really have them: the operator's own function over the
 * spec and its last status, so a client sees its create, its PUT of next_execution_time, a resume
 * and a pattern change at once, before the operator has written anything.
 */
function plannedTimes(
  job: QinlingJob,
  now: Date,
  defaultTimeZone: string,
): { first?: string; next?: string } {
  const tz = zoneShown(job, defaultTimeZone);
  try {
    const i = intendedNext(job, tz, now);
    const first = job.status?.phase ? job.status.firstExecutionTime : iso(i.first ?? i.next);
    const next = iso(i.next);
    return { ...(first ? { first } : {}), ...(next ? { next } : {}) };
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    return {}; // an invalid pattern: the operator says so
  }
}

const iso = (d: Date | undefined) => d?.toISOString();

export function toWire(
  job: QinlingJob,
  projectId: string,
  now = new Date(),
  defaultTimeZone = 'Etc/UTC',
): WireJob {
  const s = job.spec;
  const st = job.status ?? {};
  const count = st.remaining ?? (s.pattern ? (s.count ?? null) : 1);
  const planned = plannedTimes(job, now, defaultTimeZone);
  const first = planned.first;
  return {
    id: job.metadata.uid,
    name: s.name ?? null,
    function_id: s.functionId ?? null,
    function_alias: s.functionAlias ?? null,
    function_version: s.functionVersion ?? 0,
    function_input: s.functionInput ?? null,
    status: wireStatus(job),
    pattern: s.pattern ?? null,
    count,
    first_execution_time: wireTime(first),
    next_execution_time: wireTime(planned.next),
    project_id: projectId,
    created_at: wireTime(job.metadata.creationTimestamp),
    updated_at: wireTime(job.metadata.annotations?.[ANNOTATION_UPDATED_AT]),
    ...wirePolicies(s),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One Ajv for every body; `uuid` is the one format a body field has (what the CRD's means). */
const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat('uuid', UUID);

/** REST's status stands for the spec's suspend and cancelled; its one message is Qinling's. */
const STATUS_RULE: FieldRule = {
  crd: 'suspend',
  wire: 'status',
  schema: { type: 'string' },
  messages: { type: MESSAGES.status },
};

interface Body {
  check: (body: unknown) => Record<string, unknown>;
}

/** A REST body's checker: exactly these fields, each as rules.ts says, null meaning unset. */
function body(wireNames: string[], extra: Record<string, [FieldRule, object]> = {}): Body {
  const rules = new Map<string, FieldRule>();
  const properties: Record<string, object> = {};
  for (const name of wireNames) {
    const rule = FIELDS.find((f) => f.wire === name);
    if (!rule) throw new Error(`rules.ts has no field ${name}`);
    rules.set(name, rule);
    properties[name] = wireSchema(rule);
  }
  for (const [name, [rule, schema]] of Object.entries(extra)) {
    rules.set(name, rule);
    properties[name] = schema;
  }
  const validate = ajv.compile<Record<string, unknown>>({
    type: 'object',
    additionalProperties: false,
    properties,
  });
  return {
    check(b: unknown) {
      if (validate(b)) return b;
      const errors = validate.errors ?? [];
      throw badRequest(refusal(errors, rules, (name) => (b as Record<string, unknown>)[name]));
    },
  };
}

/** Unknown keys first (all of them, as Qinling's framework listed them), else the first field's. */
function refusal(
  errors: ErrorObject[],
  rules: Map<string, FieldRule>,
  value: (name: string) => unknown,
): string {
  const unknown = errors
    .filter((e) => e.keyword === 'additionalProperties')
    .map((e) => String((e.params as { additionalProperty: string }).additionalProperty));
  if (unknown.length > 0) return `Unknown attribute(s): ${unknown.sort().join(', ')}`;
  const first = errors[0];
  const name = first?.instancePath.slice(1) ?? '';
  const rule = rules.get(name);
  if (!first || !rule) return MESSAGES.bodyObject;
  return fieldMessage(rule, first.keyword === 'enum' ? 'type' : first.keyword, value(name));
}

const createBody = body([
  'name',
  'function_id',
  'function_alias',
  'function_version',
  'function_input',
  'first_execution_time',
  'pattern',
  'count',
  ...POLICY_WIRE,
]);
const updateBody = body(['name', 'pattern', 'next_execution_time', 'function_input', ...POLICY_WIRE], {
  status: [STATUS_RULE, { type: 'string', nullable: true, enum: ['running', 'paused', 'cancelled', null] }],
});

const runBody = body(['function_input']);

/** A POST /v1/jobs/{id}/run body (none, or `{}`, or `{"function_input": …}`) -> this run's input. */
export function inputFromRunNow(raw: unknown): string | undefined {
  const b = runBody.check(raw ?? {});
  return input(b.function_input);
}

const given = (v: unknown) => v !== undefined && v !== null;
const text = (v: unknown) => (given(v) ? (v as string) : undefined);

/** function_input: what the schema cannot count, its UTF-8 bytes (see MAX_INPUT_BYTES). */
function input(v: unknown): string | undefined {
  const s = text(v);
  if (s !== undefined && Buffer.byteLength(s, 'utf8') > MAX_INPUT_BYTES)
    throw badRequest(`Invalid function_input: longer than ${MAX_INPUT_BYTES} bytes (UTF-8).`);
  return s;
}

/** function_alias: the schema refuses `/` and control characters; `.` and `..` are refused here. */
function alias(v: unknown): string | undefined {
  const a = text(v);
  if (a === '.' || a === '..') throw badRequest(MESSAGES.aliasSegment);
  return a;
}

/** The first run a new job will have, which must come before LATEST_TIME. */
function firstBefore(pattern: string | undefined, first: Date | undefined, now: Date): void {
  let at = first;
  if (pattern) {
    try {
      at = firstRun(pattern, 'Etc/UTC', now, first);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      throw badRequest(`The specified pattern is not valid: ${pattern}`);
    }
  }
  if (at && at.getTime() >= LATEST_TIME)
    throw badRequest(`Invalid first_execution_time: the first run would be after 2100.`);
}

function validPattern(p: string): string {
  try {
    parsePattern(p);
  } catch (err) {
    if (err instanceof ScheduleError) throw badRequest(`The specified pattern is not valid: ${p}`);
    throw err;
  }
  return p;
}

function ahead(t: Date, now: Date): Date {
  if (t.getTime() - now.getTime() < MIN_LEAD_MS) throw badRequest(MESSAGES.ahead);
  return t;
}

/** A POST /v1/jobs body -> the QinlingJob spec; null means unset. */
export function specFromCreate(raw: unknown, now: Date): QinlingJobSpec {
  const b = createBody.check(raw);
  const functionId = text(b.function_id);
  const functionAlias = alias(b.function_alias);
  if (!functionId && !functionAlias) throw badRequest(MESSAGES.functionRequired);
  const pattern = text(b.pattern);
  const firstRaw = given(b.first_execution_time) ? b.first_execution_time : undefined;
  if (!pattern && firstRaw === undefined) throw badRequest(MESSAGES.whenRequired);
  if (pattern) validPattern(pattern);
  const first = firstRaw !== undefined ? ahead(readTime('first_execution_time', firstRaw), now) : undefined;
  const count = given(b.count) ? (b.count as number) : undefined;
  if (!pattern && (count ?? 1) > 1) throw badRequest(MESSAGES.countNeedsPattern);
  firstBefore(pattern, first, now);
  // The REST API speaks UTC, whatever zone the operator defaults to.
  const spec: QinlingJobSpec = {
    functionVersion: given(b.function_version) ? (b.function_version as number) : 0,
    timeZone: 'Etc/UTC',
  };
  const name = text(b.name);
  const functionInput = input(b.function_input);
  if (name !== undefined) spec.name = name;
  if (functionId) spec.functionId = functionId.toLowerCase();
  if (functionAlias) spec.functionAlias = functionAlias;
  if (functionInput !== undefined) spec.functionInput = functionInput;
  if (pattern) spec.pattern = pattern;
  if (count !== undefined) spec.count = count;
  if (first) spec.firstExecutionTime = wireTime(first) ?? undefined;
  return { ...spec, ...policiesFrom(b, spec) };
}

/** The next run the job shows now, if it is still ahead (the one a pattern change keeps). */
function keptNext(job: QinlingJob, now: Date): string | undefined {
  const next = toWire(job, '', now).next_execution_time;
  return next && new Date(next).getTime() > now.getTime() ? next : undefined;
}

/** Done or cancelled (asked, or observed): a job no update or run by hand may change. */
export function finished(job: QinlingJob): boolean {
  const phase = job.status?.phase;
  return job.spec.cancelled === true || phase === 'Done' || phase === 'Cancelled';
}

/** A PUT /v1/jobs/{id} body against the current job -> the spec fields to change. */
export function specFromUpdate(raw: unknown, job: QinlingJob, now: Date): Partial<QinlingJobSpec> {
  const b = updateBody.check(raw);
  if (finished(job)) throw badRequest(MESSAGES.finished);
  const patch: Partial<QinlingJobSpec> = policiesFrom(b, job.spec);
  const name = text(b.name);
  if (name !== undefined) patch.name = name;
  const functionInput = input(b.function_input);
  if (functionInput !== undefined) patch.functionInput = functionInput;
  if (given(b.pattern)) {
    const p = text(b.pattern) ?? '';
    if (!job.spec.pattern || p === '') throw badRequest(MESSAGES.jobType);
    patch.pattern = validPattern(p);
  }
  const status = text(b.status);
  if (status !== undefined) {
    if (status === 'paused') patch.suspend = true;
    if (status === 'running') patch.suspend = false;
    if (status === 'cancelled') patch.cancelled = true;
  }
  if (given(b.next_execution_time)) {
    patch.nextExecutionTime =
      wireTime(ahead(readTime('next_execution_time', b.next_execution_time), now)) ?? undefined;
  } else if (patch.pattern !== undefined && patch.pattern !== job.spec.pattern) {
    // Qinling: changing only the pattern keeps the next run; it happens (the operator starts it,
    // as an override), then the new pattern takes over.
    const kept = keptNext(job, now);
    if (kept) patch.nextExecutionTime = kept;
  } else if (status === 'running' && job.spec.suspend && !job.spec.pattern) {
    // Resuming a one-shot keeps its time, which must still be a minute ahead.
    const at = job.status?.nextExecutionTime ?? job.spec.firstExecutionTime;
    if (at) ahead(new Date(at), now);
  }
  return patch;
}
