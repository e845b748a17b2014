// What the planner needs to know about the installation; the operator fills it from flags.
export interface PlannerConfig {
  /** Image whose entrypoint is `qinling-jobs`; its `invoke` command calls the runtime. */
  invokerImage: string;
  runtimeUrl: string;
  runtimeMode: 'qinling' | 'http';
  /** Secret (in the job's namespace) with key `token` for the runtime; optional. */
  runtimeSecret?: string;
  /** Secret (in the job's namespace) with key `token` for dead-letter sinks; optional. */
  deadLetterSecret?: string;
  defaultTimeZone: string;
  startingDeadlineSeconds: number;
  successfulJobsHistoryLimit: number;
  failedJobsHistoryLimit: number;
  /** Bound on one call to the runtime. */
  invokeTimeoutSeconds: number;
  invokerServiceAccount: string;
  /** Secrets (in each job's namespace) for pulling the invoker image from a private registry. */
  invokerPullSecrets: string[];
  /**
   * How long before its time an operator run's Job is created; its pod waits for the time and
   * calls then, so pod start-up (and a busy second's queue) is not in the call's delay. 0: at the time.
   */
  leadSeconds: number;
}

export const defaultPlannerConfig: PlannerConfig = {
  invokerImage: 'ghcr.io/qinling-jobs/qinling-jobs:0.1.0',
  runtimeUrl: 'http://qinling-runtime.qinling-system.svc:7070',
  runtimeMode: 'qinling',
  defaultTimeZone: 'Etc/UTC',
  startingDeadlineSeconds: 20,
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 3,
  invokeTimeoutSeconds: 30,
  invokerServiceAccount: 'default',
  invokerPullSecrets: [],
  leadSeconds: 30,
};
