// Small fakes of the Kubernetes API surfaces the operator calls, for component tests of pure
// control logic (journeys use the real control plane). Each records its calls in order and can
// be told to fail one call with a status code, as the apiserver would.
import type { V1ConfigMap, V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import type { QinlingJob } from '../domain/types.js';

export interface Call {
  api: string;
  args: Record<string, unknown>;
}

type Failures = Record<string, number>;

const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code, statusCode: code });

export class FakeKube {
  calls: Call[] = [];
  /** Method name -> status code its next call fails with (once). */
  fail: Failures = {};
  cronJobs = new Map<string, V1CronJob>();
  /** ConfigMaps by name, as the apiserver holds them: create refuses a taken name. */
  configMaps = new Map<string, V1ConfigMap>();
  /** The resourceVersion a patch of a QinlingJob answers with (the patch's body as sent, when unset). */
  patchedVersion?: string;
  /** Method name -> the resourceVersion its answers carry (the body as sent, when unset). */
  answerVersion: Record<string, string> = {};
  /** Pods, listed by the Job controller's `batch.kubernetes.io/controller-uid` label. */
  pods: V1Pod[] = [];

  private record(api: string, args: Record<string, unknown>): void {
    this.calls.push({ api, args });
    const code = this.fail[api];
    if (code !== undefined) {
      delete this.fail[api];
      throw apiError(code);
    }
  }

  names(): string[] {
    return this.calls.map((c) => c.api);
  }

  get kube(): Kube {
    const rec = (api: string) => (args: Record<string, unknown>) => {
      this.record(api, args);
      const body = (args.body ?? {}) as { metadata?: object };
      const v = this.answerVersion[api];
      return Promise.resolve(v ? { ...body, metadata: { ...body.metadata, resourceVersion: v } } : body);
    };
    return {
      batch: {
        createNamespacedCronJob: rec('createNamespacedCronJob'),
        replaceNamespacedCronJob: rec('replaceNamespacedCronJob'),
        patchNamespacedCronJob: rec('patchNamespacedCronJob'),
        readNamespacedCronJob: (args: { name: string }) => {
          this.record('readNamespacedCronJob', args);
          const cj = this.cronJobs.get(args.name);
          return cj ? Promise.resolve(cj) : Promise.reject(apiError(404));
        },
        createNamespacedJob: rec('createNamespacedJob'),
        deleteNamespacedJob: rec('deleteNamespacedJob'),
      },
      custom: {
        replaceNamespacedCustomObjectStatus: rec('replaceNamespacedCustomObjectStatus'),
        patchNamespacedCustomObject: (args: { body: { metadata?: object } }) => {
          this.record('patchNamespacedCustomObject', args);
          const v = this.patchedVersion;
          const meta = { ...args.body.metadata, ...(v ? { resourceVersion: v } : {}) };
          return Promise.resolve({ ...args.body, metadata: meta });
        },
      },
      core: {
        createNamespacedConfigMap: (args: { body: V1ConfigMap }) => {
          this.record('createNamespacedConfigMap', args);
          const name = args.body.metadata?.name ?? '';
          if (this.configMaps.has(name)) return Promise.reject(apiError(409));
          this.configMaps.set(name, args.body);
          return Promise.resolve(args.body);
        },
        readNamespacedConfigMap: (args: { name: string }) => {
          this.record('readNamespacedConfigMap', args);
          const cm = this.configMaps.get(args.name);
          return cm ? Promise.resolve(cm) : Promise.reject(apiError(404));
        },
        replaceNamespacedConfigMap: (args: { name: string; body: V1ConfigMap }) => {
          this.record('replaceNamespacedConfigMap', args);
          this.configMaps.set(args.name, args.body);
          return Promise.resolve(args.body);
        },
        createNamespacedEvent: rec('createNamespacedEvent'),
        listNamespacedPod: (args: { labelSelector?: string }) => {
          this.record('listNamespacedPod', args);
          const [k, v] = (args.labelSelector ?? '').split('=');
          return Promise.resolve({ items: this.pods.filter((p) => p.metadata?.labels?.[k ?? ''] === v) });
        },
      },
    } as unknown as Kube;
  }
}

/** The operator's caches, as plain maps. */
export class FakeInformers {
  jobs = new Map<string, QinlingJob>();
  cronJobs = new Map<string, V1CronJob>();
  runs: V1Job[] = [];
  get informers() {
    const key = (ns: string, name: string) => `${ns}/${name}`;
    return {
      jobs: {
        get: (ns: string, name: string) => this.jobs.get(key(ns, name)),
        list: () => [...this.jobs.values()],
      },
      cronJobs: { get: (ns: string, name: string) => this.cronJobs.get(key(ns, name)) },
      runs: { list: () => this.runs },
      runsOf: (uid: string) => this.runs.filter((j) => j.metadata?.labels?.['qinling.io/job-uid'] === uid),
    };
  }
}
