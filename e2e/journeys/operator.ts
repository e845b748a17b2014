// Journeys of the operator: each runs its own operator process, watching only its own
// namespace, as a ServiceAccount holding the least-privilege Role below, so journeys run in
// parallel without seeing each other and every write the operator makes passes real RBAC.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { kubeconfigYaml } from '../cluster/components.js';
import type { QinlingJob, QinlingJobSpec } from '../../domain/types.js';
import { clients, clusterDir, eventually, productEnv, recorder, repoRoot, testNamespace } from './support.js';

export const OPERATOR_IMAGE = 'registry.local/qinling-jobs:dev';
export const FUNCTION_ID = '5b2a7c1e-1111-4222-8333-944455556666';

/** What the operator may do in a namespace it serves; nothing more (no deletes: GC does those). */
export const OPERATOR_RULES: V1PolicyRule[] = [
  { apiGroups: ['qinling.io'], resources: ['qinlingjobs'], verbs: ['list', 'watch', 'patch'] },
  { apiGroups: ['qinling.io'], resources: ['qinlingjobs/status'], verbs: ['update'] },
  {
    apiGroups: ['batch'],
    resources: ['cronjobs'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'],
  },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** A kubeconfig for a least-privilege operator ServiceAccount in `ns`. */
async function operatorKubeconfig(ns: string): Promise<string> {
  const { core, rbac, kc } = clients();
  const name = 'qinling-jobs-operator';
  await core
    .createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } })
    .catch(ignoreExists);
  await rbac
    .createNamespacedRole({ namespace: ns, body: { metadata: { name }, rules: OPERATOR_RULES } })
    .catch(ignoreExists);
  await rbac
    .createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
      },
    })
    .catch(ignoreExists);
  const tr = await core.createNamespacedServiceAccountToken({
    name,
    namespace: ns,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kc.getCurrentCluster();
  const file = `${clusterDir}/operators/${ns}.kubeconfig`;
  mkdirSync(`${clusterDir}/operators`, { recursive: true });
  writeFileSync(
    file,
    kubeconfigYaml({
      server: cluster?.server ?? '',
      caFile: cluster?.caFile ?? '',
      user: `system:serviceaccount:${ns}:${name}`,
      token: tr.status?.token ?? '',
      namespace: ns,
    }),
    { mode: 0o600 },
  );
  return file;
}

function ignoreExists(err: unknown): void {
  if ((err as { code?: number }).code !== 409) throw err;
}

export interface OperatorProcess {
  child: ChildProcess;
  logFile: string;
  port: () => Promise<number>;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export async function startOperator(
  ns: string,
  runtimeUrl: string,
  opts: { identity?: string; args?: string[] } = {},
): Promise<OperatorProcess> {
  const kubeconfig = await operatorKubeconfig(ns);
  const identity = opts.identity ?? 'op-1';
  const logFile = `${clusterDir}/logs/operator-${ns}-${identity}.log`;
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      `${repoRoot}/dist/cli.js`,
      'operator',
      `--kubeconfig=${kubeconfig}`,
      `--namespaces=${ns}`,
      `--leader-election-namespace=${ns}`,
      `--identity=${identity}`,
      '--http-port=0',
      `--runtime-url=${runtimeUrl}`,
      `--invoker-image=${OPERATOR_IMAGE}`,
      ...(opts.args ?? []),
    ],
    {
      stdio: ['ignore', fd, fd],
      env: productEnv('QJ_OPERATOR_NODE_OPTIONS'),
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = () =>
    // Generous: 16 journeys start their processes at once on a small machine.
    eventually(`operator ${identity} to serve`, 60_000, () => {
      const m = /"port":(\d+),"msg":"serving/.exec(readFileSync(logFile, 'utf8'));
      return m ? Number(m[1]) : undefined;
    });
  return {
    child,
    logFile,
    port,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

const custom = () => clients().kc.makeApiClient(CustomObjectsApi);
const q = { group: 'qinling.io', version: 'v1', plural: 'qinlingjobs' };

export async function createJob(ns: string, name: string, spec: QinlingJobSpec): Promise<QinlingJob> {
  return (await custom().createNamespacedCustomObject({
    ...q,
    namespace: ns,
    body: {
      apiVersion: 'qinling.io/v1',
      kind: 'QinlingJob',
      metadata: { name },
      spec: { functionId: FUNCTION_ID, ...spec },
    },
  })) as QinlingJob;
}

export async function getJob(ns: string, name: string): Promise<QinlingJob> {
  return (await custom().getNamespacedCustomObject({ ...q, namespace: ns, name })) as QinlingJob;
}

export async function patchSpec(ns: string, name: string, spec: Partial<QinlingJobSpec>): Promise<void> {
  await custom().patchNamespacedCustomObject(
    { ...q, namespace: ns, name, body: { spec } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function deleteJob(ns: string, name: string): Promise<void> {
  await custom().deleteNamespacedCustomObject({ ...q, namespace: ns, name });
}

/** Waits until the job's status satisfies `ok`, returning that job. */
export function jobWhere(
  ns: string,
  name: string,
  what: string,
  timeoutMs: number,
  ok: (j: QinlingJob) => boolean,
) {
  return eventually(`${name}: ${what}`, timeoutMs, async () => {
    const j = await getJob(ns, name);
    return ok(j) ? j : undefined;
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds until `seconds` past the next minute boundary. */
export function untilNextMinute(seconds = 0): number {
  const now = Date.now();
  return Math.ceil(now / 60_000) * 60_000 + seconds * 1000 - now;
}

/**
 * Waits until the next tick of `* * * * *` is at least `ms` (15 s) away, so a job made now is
 * seen before its first run (a tick that close is started at once, and may be counted before a
 * journey first looks). Past the operator's lead (30 s), an operator run is not made yet either.
 */
export async function clearOfTick(ms = 15_000): Promise<void> {
  const wait = untilNextMinute();
  if (wait < ms) await sleep(wait + 2_000);
}

export interface ExecutionCall {
  body: {
    function_id?: string;
    function_version?: number;
    input?: string;
    sync?: boolean;
    description?: string;
  };
  jobId: string;
  scheduled: string;
  key: string;
  at: Date;
}

export function executions(
  calls: { url: string; body: string; headers: Record<string, unknown>; at: Date }[],
): ExecutionCall[] {
  return calls
    .filter((c) => c.url === '/v1/executions')
    .map((c) => ({
      body: JSON.parse(c.body) as ExecutionCall['body'],
      jobId: String(c.headers['x-qinling-job-id']),
      scheduled: String(c.headers['x-qinling-scheduled-time']),
      key: String(c.headers['idempotency-key']),
      at: c.at,
    }));
}

/**
 * The first `n` calls the runtime received. Status counts a run when its Job starts; the
 * call from its pod follows a moment later, so a journey waits for the calls themselves.
 */
export function callsAtLeast(
  calls: Parameters<typeof executions>[0],
  n: number,
  timeoutMs = 30_000,
): Promise<ExecutionCall[]> {
  return eventually(`${n} call(s) to the runtime`, timeoutMs, () => {
    const c = executions(calls);
    return c.length >= n ? c : undefined;
  });
}

export interface OperatorScene {
  /** The journey's namespace. */
  ns: string;
  runtime: Awaited<ReturnType<typeof recorder>>;
  op: OperatorProcess;
}

/**
 * Registers hooks that give the calling describe block its own namespace, a recording function
 * runtime, and an operator watching only that namespace; all torn down after it.
 */
export function withOperator(prefix: string, opts: { args?: string[] } = {}): OperatorScene {
  const scene = {} as OperatorScene;
  let ns: Awaited<ReturnType<typeof testNamespace>> | undefined;
  before(async () => {
    ns = await testNamespace(prefix);
    scene.ns = ns.name;
    scene.runtime = await recorder();
    scene.op = await startOperator(ns.name, scene.runtime.url, opts);
    await scene.op.port(); // the journey's own waits start once the operator serves
  });
  after(async function () {
    this.timeout(90_000);
    // The jobs first, while their operator still runs: it releases their finalizers, and the
    // namespace does not stay Terminating after the journey.
    if (scene.ns) await deleteAllJobs(scene.ns);
    await scene.op?.stop();
    await scene.runtime?.close();
    await ns?.remove();
  });
  return scene;
}

/** Deletes every QinlingJob in `ns` and waits (30 s at most) until they are gone; best effort. */
async function deleteAllJobs(ns: string): Promise<void> {
  try {
    await custom().deleteCollectionNamespacedCustomObject({ ...q, namespace: ns });
    await eventually(`the QinlingJobs of ${ns} gone`, 30_000, async () => (await listJobs(ns)).length === 0);
  } catch (err) {
    console.log(`      (cleanup of ${ns}: ${(err as Error).message})`);
  }
}

/**
 * Waits while the next minute boundary is less than 20 s away, so a journey that must change a
 * job before its next tick has the time to do so.
 */
export async function quietMoment(): Promise<void> {
  const left = untilNextMinute();
  if (left < 20_000) await sleep(left + 2000);
}

/** Every QinlingJob in `ns`. */
export async function listJobs(ns: string): Promise<QinlingJob[]> {
  return ((await custom().listNamespacedCustomObject({ ...q, namespace: ns })) as { items: QinlingJob[] })
    .items;
}

/** The QinlingJob in `ns` whose uid (the REST id) is `uid`. */
export async function jobByUid(ns: string, uid: string): Promise<QinlingJob | undefined> {
  return (await listJobs(ns)).find((j) => j.metadata.uid === uid);
}
