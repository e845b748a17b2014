// The objects a QinlingJob owns, built by pure functions: the CronJob (one per job, name derived
// from the job's), the ConfigMap holding its function input, and the Jobs the operator starts
// itself at exact times.
import { createHash } from 'node:crypto';
import type {
  V1ConfigMap,
  V1CronJob,
  V1EnvVar,
  V1Job,
  V1JobTemplateSpec,
  V1OwnerReference,
} from '@kubernetes/client-node';
import type { PlannerConfig } from './config.js';
import { budgetSeconds, retryOf } from './retry.js';
import {
  ANNOTATION_DEAD_LETTER,
  ANNOTATION_GENERATION,
  ANNOTATION_INPUT_SHA256,
  ANNOTATION_RUN_REQUEST,
  ANNOTATION_SCHEDULED,
  ANNOTATION_TRIGGER,
  API_VERSION,
  KIND,
  LABEL_FUNCTION_ID,
  LABEL_JOB_UID,
  LABEL_MANAGED_BY,
  MANAGER,
  type HandledRunRequest,
  type QinlingJob,
  type RunRequest,
} from './types.js';

/** The CronJob controller appends 11 characters to a CronJob's name for its Jobs. */
export const MAX_CRONJOB_NAME = 52;

export function cronJobName(jobName: string): string {
  if (jobName.length <= MAX_CRONJOB_NAME) return jobName;
  const hash = createHash('sha256').update(jobName).digest('hex').slice(0, 8);
  return `${jobName.slice(0, MAX_CRONJOB_NAME - 9).replace(/[-.]+$/, '')}-${hash}`;
}

/** A Job the operator starts itself: the CronJob's name and the scheduled Unix second. */
export function runJobName(cronJob: string, scheduled: Date): string {
  return `${cronJob}-${Math.floor(scheduled.getTime() / 1000)}`;
}

/** The ConfigMap holding a job's function input: one per job, beside its CronJob (<= 58 chars). */
export function inputConfigMapName(jobName: string): string {
  return `${cronJobName(jobName)}-input`;
}

/** The ConfigMap key the input is stored under. */
export const INPUT_KEY = 'input';

/** A short SHA-256 of the input: the pod template changes exactly when the input does. */
export function inputSha256(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('hex').slice(0, 16);
}

/** Kubernetes expands `$(VAR)` in literal env values; `$$` keeps the value byte for byte. */
export function escapeEnv(value: string): string {
  return value.replaceAll('$', '$$$$');
}

function ownedBy(job: QinlingJob): V1OwnerReference[] {
  return [
    { apiVersion: API_VERSION, kind: KIND, name: job.metadata.name, uid: job.metadata.uid, controller: true },
  ];
}

function labels(job: QinlingJob): Record<string, string> {
  const l: Record<string, string> = { [LABEL_JOB_UID]: job.metadata.uid, [LABEL_MANAGED_BY]: MANAGER };
  const fid = job.spec.functionId;
  if (fid && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(fid)) l[LABEL_FUNCTION_ID] = fid;
  return l;
}

/** The kubelet's default terminationMessagePath, which our containers keep. */
export const TERMINATION_LOG = '/dev/termination-log';

function invokerEnv(job: QinlingJob, cfg: PlannerConfig): V1EnvVar[] {
  const s = job.spec;
  const retry = retryOf(s, cfg);
  const env: V1EnvVar[] = [
    { name: 'QJ_RUNTIME_MODE', value: cfg.runtimeMode },
    { name: 'QJ_RUNTIME_URL', value: escapeEnv(cfg.runtimeUrl) },
    { name: 'QJ_JOB_ID', value: job.metadata.uid },
    { name: 'QJ_FUNCTION_ID', value: escapeEnv(s.functionId ?? '') },
    { name: 'QJ_FUNCTION_VERSION', value: String(s.functionVersion ?? 0) },
    { name: 'QJ_FUNCTION_ALIAS', value: escapeEnv(s.functionAlias ?? '') },
    // Read from the job's ConfigMap, not copied into every CronJob, Job and Pod. Not optional:
    // a missing ConfigMap stops the container (CreateContainerConfigError) instead of posting
    // an empty input. valueFrom values are not `$(VAR)`-expanded, so no escaping. No input, no
    // ConfigMap: the invoker posts an empty input when the variable is absent.
    ...(s.functionInput
      ? [
          {
            name: 'QJ_FUNCTION_INPUT',
            valueFrom: { configMapKeyRef: { name: inputConfigMapName(job.metadata.name), key: INPUT_KEY } },
          },
        ]
      : []),
    { name: 'QJ_TIMEOUT_SECONDS', value: String(retry.attemptDeadlineSeconds) },
    ...(retry.maxAttempts > 1
      ? [
          { name: 'QJ_MAX_ATTEMPTS', value: String(retry.maxAttempts) },
          { name: 'QJ_MIN_BACKOFF_SECONDS', value: String(retry.minBackoffSeconds) },
          { name: 'QJ_MAX_BACKOFF_SECONDS', value: String(retry.maxBackoffSeconds) },
        ]
      : []),
    // Where the pod reports its attempts: the container's terminationMessagePath (the default).
    { name: 'QJ_TERMINATION_LOG', value: TERMINATION_LOG },
    {
      name: 'QJ_SCHEDULED_TIME',
      valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${ANNOTATION_SCHEDULED}']` } },
    },
    {
      name: 'QJ_KUBE_JOB_NAME',
      valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
    },
  ];
  if (cfg.runtimeSecret) {
    env.push({
      name: 'QJ_RUNTIME_TOKEN',
      valueFrom: { secretKeyRef: { name: cfg.runtimeSecret, key: 'token', optional: true } },
    });
  }
  // The apiserver stores an empty value as no value: a `value: ''` would never be found on the
  // CronJob it was written to, and every pass would replace it again.
  return env.map((e) => (e.value === '' ? { name: e.name } : e));
}

function jobTemplate(job: QinlingJob, cfg: PlannerConfig): V1JobTemplateSpec {
  const l = labels(job);
  return {
    metadata: { labels: l },
    spec: {
      // One pod per run: retries (retry.ts) are the pod's, with the backoff the job asks for.
      backoffLimit: 0,
      activeDeadlineSeconds: budgetSeconds(retryOf(job.spec, cfg)) + 60,
      template: {
        metadata: {
          labels: l,
          annotations: { [ANNOTATION_INPUT_SHA256]: inputSha256(job.spec.functionInput ?? '') },
        },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: cfg.invokerServiceAccount,
          automountServiceAccountToken: false, // the invoker never talks to the apiserver
          ...(cfg.invokerPullSecrets.length > 0
            ? { imagePullSecrets: cfg.invokerPullSecrets.map((name) => ({ name })) }
            : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'invoke',
              image: cfg.invokerImage,
              args: ['invoke'],
              env: invokerEnv(job, cfg),
              terminationMessagePath: TERMINATION_LOG,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              resources: {
                requests: { cpu: '10m', memory: '32Mi' },
                limits: { cpu: '200m', memory: '128Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}

/** The schedule a one-shot job's (always suspended) CronJob carries: its own minute. */
function oneShotSchedule(at: Date): string {
  return `${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

export interface CronJobParams {
  suspend: boolean;
  timeZone: string;
  /** The one-shot time, for jobs without a pattern. */
  oneShotAt?: Date;
}

export function desiredCronJob(job: QinlingJob, cfg: PlannerConfig, p: CronJobParams): V1CronJob {
  const pattern = job.spec.pattern;
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: cronJobName(job.metadata.name),
      namespace: job.metadata.namespace,
      labels: labels(job),
      ownerReferences: ownedBy(job),
    },
    spec: {
      schedule: pattern ?? oneShotSchedule(p.oneShotAt ?? new Date(0)),
      timeZone: pattern ? p.timeZone : 'Etc/UTC',
      suspend: p.suspend,
      concurrencyPolicy: 'Allow',
      startingDeadlineSeconds: cfg.startingDeadlineSeconds,
      successfulJobsHistoryLimit: cfg.successfulJobsHistoryLimit,
      failedJobsHistoryLimit: cfg.failedJobsHistoryLimit,
      jobTemplate: jobTemplate(job, cfg),
    },
  };
}

/**
 * The job's function input, stored once; none for a job without input (one write and one
 * object fewer per job: most jobs have none). Owned by the QinlingJob, so garbage collection removes it with the job.
 * A ConfigMap, not a Secret: the input is not a secret (namespace readers can read it, as they
 * could read it in the QinlingJob), and a right to create Secrets in every namespace would let
 * the operator mint a token for any ServiceAccount (a `service-account-token` Secret).
 */
export function desiredInputConfigMap(job: QinlingJob): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: inputConfigMapName(job.metadata.name),
      namespace: job.metadata.namespace,
      labels: labels(job),
      ownerReferences: ownedBy(job),
    },
    data: { [INPUT_KEY]: job.spec.functionInput ?? '' },
  };
}

/**
 * A run the operator starts itself, from the CronJob's template (and named after it), for an
 * exact time; `trigger` marks a missed run caught up late.
 */
export function runJob(
  job: QinlingJob,
  cronJob: V1CronJob,
  cfg: PlannerConfig,
  scheduled: Date,
  trigger?: 'catch-up',
): V1Job {
  const cj = cronJob.metadata?.name ?? cronJobName(job.metadata.name);
  const tpl = jobTemplate(job, cfg);
  const at = scheduled.toISOString();
  const podTemplate = tpl.spec?.template ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: runJobName(cj, scheduled),
      namespace: job.metadata.namespace,
      labels: tpl.metadata?.labels ?? {},
      annotations: {
        [ANNOTATION_SCHEDULED]: at,
        ...(trigger ? { [ANNOTATION_TRIGGER]: trigger } : {}),
        ...(job.metadata.generation !== undefined
          ? { [ANNOTATION_GENERATION]: String(job.metadata.generation) }
          : {}),
      },
      // Controlled by the QinlingJob, not the CronJob: upstream's CronJob controller treats every
      // unfinished Job it controls but did not make as unexpected (a CronJob GET and a Warning
      // per Job event), which at a busy second cost more than the runs themselves. The operator
      // keeps the history limits for these Jobs itself.
      ownerReferences: ownedBy(job),
    },
    spec: {
      ...tpl.spec,
      // Made up to leadSeconds early, its pod waits for the time before it calls.
      activeDeadlineSeconds: (tpl.spec?.activeDeadlineSeconds ?? 0) + cfg.leadSeconds,
      template: {
        ...podTemplate,
        metadata: {
          ...podTemplate.metadata,
          annotations: { ...podTemplate.metadata?.annotations, [ANNOTATION_SCHEDULED]: at },
        },
        spec: podTemplate.spec ?? { containers: [] },
      },
    },
  };
}

/**
 * A run by hand's Job: `<cronjob>-m<hash of the request id>` (never a scheduled slot's name, so
 * it neither counts nor settles a tick), its scheduled time the moment the request was taken,
 * its own Idempotency-Key (`<job uid>/manual/<request id>`), who asked, and this run's input
 * when the request gives one. Collected a day after it finishes (the ledger keeps its result).
 */
export function manualRunJob(
  job: QinlingJob,
  cronJob: V1CronJob,
  cfg: PlannerConfig,
  taken: HandledRunRequest,
  request: RunRequest | undefined,
): V1Job {
  const base = runJob(job, cronJob, cfg, new Date(taken.acceptedAt));
  const pod = base.spec?.template.spec ?? { containers: [] };
  const extra: V1EnvVar[] = [
    { name: 'QJ_RUN_REQUEST', value: escapeEnv(taken.id) },
    ...(taken.requestedBy ? [{ name: 'QJ_REQUESTED_BY', value: escapeEnv(taken.requestedBy) }] : []),
  ];
  const input = request?.functionInput;
  const containers = pod.containers.map((c) => ({
    ...c,
    env: [
      ...(c.env ?? []).filter((e) => input === undefined || e.name !== 'QJ_FUNCTION_INPUT'),
      ...(input !== undefined ? [{ name: 'QJ_FUNCTION_INPUT', value: escapeEnv(input) }] : []),
      ...extra,
    ],
  }));
  return {
    ...base,
    metadata: {
      ...base.metadata,
      name: manualRunJobName(cronJob.metadata?.name ?? cronJobName(job.metadata.name), taken.id),
      annotations: { ...base.metadata?.annotations, [ANNOTATION_RUN_REQUEST]: taken.id },
    },
    spec: {
      ...(base.spec ?? { template: {} }),
      ttlSecondsAfterFinished: 86_400,
      template: { ...base.spec?.template, spec: { ...pod, containers } },
    },
  };
}

/** `<cronjob>-m<9 hex>`: 63 characters at most for a 52-character CronJob name. */
export function manualRunJobName(cronJob: string, requestId: string): string {
  return `${cronJob}-m${createHash('sha256').update(requestId, 'utf8').digest('hex').slice(0, 9)}`;
}

/** A dead letter's delivery (deadletter.ts): `qinling-jobs deliver` in the run's pod shape. */
export function deliveryJobTemplate(
  job: QinlingJob,
  cfg: PlannerConfig,
  d: { name: string; run: string; url: string; event: string },
): V1Job {
  const tpl = jobTemplate(job, cfg);
  const pod = tpl.spec?.template.spec ?? { containers: [] };
  const env: V1EnvVar[] = [
    { name: 'QJ_DEAD_LETTER_URL', value: escapeEnv(d.url) },
    { name: 'QJ_EVENT', value: escapeEnv(d.event) },
    ...(cfg.deadLetterSecret
      ? [
          {
            name: 'QJ_DEAD_LETTER_TOKEN',
            valueFrom: { secretKeyRef: { name: cfg.deadLetterSecret, key: 'token', optional: true } },
          },
        ]
      : []),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: d.name,
      namespace: job.metadata.namespace,
      labels: tpl.metadata?.labels ?? {},
      annotations: { [ANNOTATION_DEAD_LETTER]: d.run },
      ownerReferences: ownedBy(job),
    },
    spec: {
      // The pod retries a sink that is down a few times; the Job controller then starts new pods
      // (backing off 10 s, 20 s, ... up to 6 min); a refusal (4xx) or a bad URL fails at once.
      backoffLimit: 6,
      podFailurePolicy: {
        rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [2, 10] } }],
      },
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: tpl.metadata?.labels ?? {} },
        spec: {
          ...pod,
          containers: pod.containers.map((c) => ({ ...c, args: ['deliver'], env })),
        },
      },
    },
  };
}
