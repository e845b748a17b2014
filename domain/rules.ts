// The rules a job's spec obeys, each written once with its one message.
//
// - Field constraints are JSON Schema: the REST facade compiles its request bodies' schemas from
//   them with Ajv (wire.ts), and the CRD's openAPIV3Schema states exactly the same keywords
//   (packaging/crd.test.ts holds the two to it), so kubectl and REST refuse the same values.
// - Rules across fields are code in wire.ts and the planner, and CEL in the CRD, all with the
//   message from MESSAGES (the same test reads the CRD's CEL messages).
// Messages are Qinling's texts where Qinling had the rule (shared/docs/qinling-api.md): scripts
// written against Qinling match on them.
import type { QinlingJobSpec } from './types.js';

export const MESSAGES = {
  functionRequired: 'Either function_alias or function_id must be provided.',
  whenRequired: 'pattern or first_execution_time must be specified.',
  countNeedsPattern: 'pattern must be provided if count is greater than 1.',
  countPositive: 'count must be greater than 0.',
  jobType: 'Can not change job type.',
  cancelledStays: 'A cancelled job can not be resumed.',
  aliasSegment: 'Invalid function_alias: must not be . or .., nor contain / or control characters.',
  inputNul: 'Invalid function_input: must not contain NUL characters.',
  finished: 'Can not update a finished job.',
  runFinished: 'Can not run a finished job.',
  status: 'Invalid status.',
  ahead: 'Execution time must be at least 1 minute in the future.',
  bodyObject: 'The request body must be a JSON object.',
  backoffOrder: 'min_backoff_seconds must not be greater than max_backoff_seconds.',
  boundsNeedPattern: 'start_time and end_time need a pattern.',
  boundsOrder: 'end_time must be after start_time.',
  overlapPolicy: 'Invalid overlap_policy: must be Allow, Forbid, Replace or BufferOne.',
} as const;

/** The JSON Schema keywords our fields use; the same subset the apiserver and Ajv both know. */
export interface FieldSchema {
  type: 'string' | 'integer' | 'boolean' | 'array';
  maxItems?: number;
  maxLength?: number;
  pattern?: string;
  format?: 'uuid' | 'date-time';
  minimum?: number;
  maximum?: number;
  enum?: string[];
}

export interface FieldRule {
  /** The spec field's name in the CRD. */
  crd: keyof QinlingJobSpec;
  /** Its name in Qinling's REST bodies; none for the fields only kubectl users set. */
  wire?: string;
  schema: FieldSchema;
  /** Messages for a keyword the field breaks, where Qinling's text or a clearer one exists. */
  messages?: Partial<Record<keyof FieldSchema, string>>;
}

/**
 * Times: the CRD stores RFC 3339 (`format: date-time`); REST bodies take every form Qinling read
 * (wire.ts readTime), so their schema is only `type: string` and the format is the CRD's alone.
 */
const TIME: FieldSchema = { type: 'string', format: 'date-time' };

/** JSON numbers are doubles: larger integers are not exact, so none is taken. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * function_input reaches the runtime as one env var of the run's pod, which Linux bounds at
 * 128 KiB (MAX_ARG_STRLEN) per `NAME=value` string, and C strings cannot hold a NUL. maxLength
 * counts characters (as the CRD's does; CEL has no byte count); the REST API also counts UTF-8
 * bytes (MAX_INPUT_BYTES), keeping the 64 KiB the input always had, since each job copies it into
 * several objects.
 */
export const MAX_INPUT_BYTES = 65_536;

/**
 * function_alias fills a path segment of an http-mode runtime URL: `/` and control characters
 * are refused here, `.` and `..` (which URL normalisation would turn into a move up the
 * runtime's path) by a rule beside it. RE2 and JavaScript read this pattern the same way.
 */
const ALIAS_CHARS = '^[^/\\x00-\\x1f\\x7f-\\x9f]*$';

export const FIELDS: readonly FieldRule[] = [
  { crd: 'name', wire: 'name', schema: { type: 'string', maxLength: 255 } },
  { crd: 'functionId', wire: 'function_id', schema: { type: 'string', format: 'uuid' } },
  {
    crd: 'functionAlias',
    wire: 'function_alias',
    schema: { type: 'string', maxLength: 255, pattern: ALIAS_CHARS },
    messages: { pattern: MESSAGES.aliasSegment },
  },
  {
    crd: 'functionVersion',
    wire: 'function_version',
    schema: { type: 'integer', minimum: 0, maximum: MAX_SAFE },
  },
  {
    crd: 'functionInput',
    wire: 'function_input',
    schema: { type: 'string', maxLength: MAX_INPUT_BYTES, pattern: '^[^\\x00]*$' },
    messages: {
      pattern: MESSAGES.inputNul,
      // More characters than that are more bytes too.
      maxLength: `Invalid function_input: longer than ${MAX_INPUT_BYTES} bytes (UTF-8).`,
    },
  },
  { crd: 'pattern', wire: 'pattern', schema: { type: 'string', maxLength: 128 } },
  {
    crd: 'count',
    wire: 'count',
    schema: { type: 'integer', minimum: 1, maximum: MAX_SAFE },
    messages: { minimum: MESSAGES.countPositive },
  },
  { crd: 'firstExecutionTime', wire: 'first_execution_time', schema: TIME },
  { crd: 'nextExecutionTime', wire: 'next_execution_time', schema: TIME },
  { crd: 'timeZone', schema: { type: 'string', maxLength: 64 } },
  { crd: 'suspend', schema: { type: 'boolean' } },
  { crd: 'cancelled', schema: { type: 'boolean' } },
  // Its items' rules are the CRD's (REST adds entries through POST /v1/jobs/{id}/run only).
  { crd: 'runRequests', schema: { type: 'array', maxItems: 10 } },
  // Policies (issue 16): each optional, off when absent, so a Qinling job behaves as Qinling's did.
  { crd: 'maxAttempts', wire: 'max_attempts', schema: { type: 'integer', minimum: 1, maximum: 10 } },
  {
    crd: 'minBackoffSeconds',
    wire: 'min_backoff_seconds',
    schema: { type: 'integer', minimum: 1, maximum: 3600 },
  },
  {
    crd: 'maxBackoffSeconds',
    wire: 'max_backoff_seconds',
    schema: { type: 'integer', minimum: 1, maximum: 3600 },
  },
  {
    crd: 'attemptDeadlineSeconds',
    wire: 'attempt_deadline_seconds',
    schema: { type: 'integer', minimum: 1, maximum: 3600 },
  },
  {
    crd: 'pauseAfterFailures',
    wire: 'pause_after_failures',
    schema: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  { crd: 'startTime', wire: 'start_time', schema: TIME },
  { crd: 'endTime', wire: 'end_time', schema: TIME },
  { crd: 'jitterSeconds', wire: 'jitter_seconds', schema: { type: 'integer', minimum: 1, maximum: 3600 } },
  {
    crd: 'overlapPolicy',
    wire: 'overlap_policy',
    schema: { type: 'string', enum: ['Allow', 'Forbid', 'Replace', 'BufferOne'] },
    messages: { type: MESSAGES.overlapPolicy, enum: MESSAGES.overlapPolicy },
  },
  {
    crd: 'catchupWindowSeconds',
    wire: 'catchup_window_seconds',
    schema: { type: 'integer', minimum: 1, maximum: 604_800 },
  },
  { crd: 'maxCatchupRuns', wire: 'max_catchup_runs', schema: { type: 'integer', minimum: 1, maximum: 100 } },
  {
    crd: 'deadLetterUrl',
    wire: 'dead_letter_url',
    schema: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' },
    messages: { pattern: 'Invalid dead_letter_url: must be an http or https URL.' },
  },
];

const POLICY_NAMES = new Set<keyof QinlingJobSpec>([
  'maxAttempts',
  'minBackoffSeconds',
  'maxBackoffSeconds',
  'attemptDeadlineSeconds',
  'pauseAfterFailures',
  'startTime',
  'endTime',
  'jitterSeconds',
  'overlapPolicy',
  'catchupWindowSeconds',
  'maxCatchupRuns',
  'deadLetterUrl',
]);

/** The rules across the policy fields, one message each; the REST facade and the planner both ask. */
export function policyViolation(s: QinlingJobSpec): string | undefined {
  if ((s.minBackoffSeconds ?? 1) > (s.maxBackoffSeconds ?? Infinity)) return MESSAGES.backoffOrder;
  if ((s.startTime !== undefined || s.endTime !== undefined) && !s.pattern) return MESSAGES.boundsNeedPattern;
  if (s.startTime && s.endTime && Date.parse(s.endTime) <= Date.parse(s.startTime))
    return MESSAGES.boundsOrder;
  return undefined;
}

/** The policy fields (issue 16): optional keys of a REST job, shown only when set. */
export const POLICY_FIELDS = FIELDS.filter((f) => POLICY_NAMES.has(f.crd));

/** The constraints a REST body's value of `rule`'s field must meet (null means unset there). */
export function wireSchema(
  rule: FieldRule,
): Omit<FieldSchema, 'format' | 'enum'> & { format?: 'uuid'; enum?: (string | null)[]; nullable: true } {
  const { format, enum: values, ...rest } = rule.schema;
  return {
    ...rest,
    ...(format === 'uuid' ? { format } : {}),
    // Ajv's nullable asks an enum to name null too.
    ...(values ? { enum: [...values, null] } : {}),
    nullable: true,
  };
}

/** The message for a value of `rule`'s field that breaks `keyword`. */
export function fieldMessage(rule: FieldRule, keyword: string, value: unknown): string {
  const own = rule.messages?.[keyword as keyof FieldSchema];
  if (own) return own;
  const { schema } = rule;
  const wire = rule.wire ?? rule.crd;
  switch (keyword) {
    case 'type':
      return `Invalid ${wire}: must be ${schema.type === 'string' ? 'a string' : `an ${schema.type}`}.`;
    case 'maxLength':
      return `Invalid ${wire}: longer than ${schema.maxLength} characters.`;
    case 'minimum':
    case 'maximum':
      return `Invalid ${wire}: must be an integer from ${schema.minimum} to ${schema.maximum}.`;
    default:
      return `Invalid ${wire}: ${String(value)}`;
  }
}
