// Every operator option: a flag with an environment fallback, read once at start-up.
import { hostname } from 'node:os';
import type { PlannerConfig } from '../domain/config.js';
import { defaultPlannerConfig as d } from '../domain/config.js';
import { bool, int, list, oneOf, readOptions, str } from '../lib/options.js';

export const operatorOptions = {
  kubeconfig: str('kubeconfig file; in-cluster config when empty', 'KUBECONFIG', ''),
  namespaces: list('comma-separated namespaces to watch; all when empty', 'QJ_NAMESPACES'),
  'runtime-url': str(
    'function runtime base URL (qinling mode) or URL template (http mode)',
    'QJ_RUNTIME_URL',
    d.runtimeUrl,
  ),
  'runtime-mode': oneOf(
    'qinling: POST /v1/executions; http: POST the input to the URL',
    'QJ_RUNTIME_MODE',
    d.runtimeMode,
    ['qinling', 'http'] as const,
  ),
  'runtime-secret': str(
    'Secret (key "token") in each job namespace with the runtime credential',
    'QJ_RUNTIME_SECRET',
    '',
  ),
  'dead-letter-secret': str(
    'Secret (key "token") in each job namespace sent as a Bearer token to dead-letter sinks',
    'QJ_DEAD_LETTER_SECRET',
    '',
  ),
  'invoker-image': str(
    'image whose entrypoint is qinling-jobs, run by every CronJob',
    'QJ_INVOKER_IMAGE',
    d.invokerImage,
  ),
  'invoker-service-account': str(
    'ServiceAccount of the invoker pods',
    'QJ_INVOKER_SERVICE_ACCOUNT',
    d.invokerServiceAccount,
  ),
  'invoker-pull-secrets': list(
    "comma-separated Secrets in each job's namespace for pulling the invoker image",
    'QJ_INVOKER_PULL_SECRETS',
  ),
  'invoke-timeout-seconds': int(
    'bound on one call to the runtime',
    'QJ_INVOKE_TIMEOUT_SECONDS',
    d.invokeTimeoutSeconds,
    1,
    3600,
  ),
  'default-time-zone': str('IANA zone for jobs that name none', 'QJ_DEFAULT_TIME_ZONE', d.defaultTimeZone),
  'starting-deadline-seconds': int(
    'CronJob startingDeadlineSeconds (a late tick is skipped after this)',
    'QJ_STARTING_DEADLINE_SECONDS',
    d.startingDeadlineSeconds,
    10,
    50,
  ),
  'successful-jobs-history-limit': int(
    'finished Jobs kept per job',
    'QJ_SUCCESSFUL_JOBS_HISTORY_LIMIT',
    d.successfulJobsHistoryLimit,
    1, // the newest run must stay until the operator has counted it
    100,
  ),
  'failed-jobs-history-limit': int(
    'failed Jobs kept per job',
    'QJ_FAILED_JOBS_HISTORY_LIMIT',
    d.failedJobsHistoryLimit,
    1,
    100,
  ),
  'lead-seconds': int(
    "create an operator run's Job this long before its time; the pod calls at the time (0: create at the time)",
    'QJ_LEAD_SECONDS',
    d.leadSeconds,
    0,
    300,
  ),
  'watch-timeout-seconds': int(
    'end each watch after this long (0: 300-600 s, jittered); a stalled watch is noticed by then',
    'QJ_WATCH_TIMEOUT_SECONDS',
    0,
    0,
    3600,
  ),
  workers: int('reconcile workers', 'QJ_WORKERS', 4, 1, 64),
  'leader-elect': bool('elect a leader through a Lease; only the leader reconciles', 'QJ_LEADER_ELECT', true),
  'leader-election-namespace': str(
    'namespace of the leader Lease',
    'QJ_LEADER_ELECTION_NAMESPACE',
    'default',
  ),
  'leader-election-id': str('name of the leader Lease', 'QJ_LEADER_ELECTION_ID', 'qinling-jobs-operator'),
  identity: str('this replica in the leader Lease', 'POD_NAME', `${hostname()}-${process.pid}`),
  'http-bind': str('address for /metrics, /healthz, /readyz', 'QJ_HTTP_BIND', '127.0.0.1'),
  'http-port': int('port for /metrics, /healthz, /readyz (0: any free port)', 'QJ_HTTP_PORT', 8081, 0, 65535),
  'log-level': oneOf('log level', 'QJ_LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
};

export type OperatorOptions = ReturnType<typeof readOperatorOptions>;

export function readOperatorOptions(argv: readonly string[], env: Record<string, string | undefined>) {
  return readOptions(operatorOptions, argv, env);
}

export function plannerConfig(o: OperatorOptions): PlannerConfig {
  return {
    invokerImage: o['invoker-image'],
    runtimeUrl: o['runtime-url'],
    runtimeMode: o['runtime-mode'],
    ...(o['runtime-secret'] ? { runtimeSecret: o['runtime-secret'] } : {}),
    ...(o['dead-letter-secret'] ? { deadLetterSecret: o['dead-letter-secret'] } : {}),
    defaultTimeZone: o['default-time-zone'],
    startingDeadlineSeconds: o['starting-deadline-seconds'],
    successfulJobsHistoryLimit: o['successful-jobs-history-limit'],
    failedJobsHistoryLimit: o['failed-jobs-history-limit'],
    invokeTimeoutSeconds: o['invoke-timeout-seconds'],
    invokerServiceAccount: o['invoker-service-account'],
    invokerPullSecrets: o['invoker-pull-secrets'],
    leadSeconds: o['lead-seconds'],
  };
}
