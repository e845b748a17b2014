// Journeys of the REST facade: a facade process on the local cluster with its own token file,
// and namespaces labelled as projects.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { DiscoveryV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { clients, clusterDir, eventually, productEnv, repoRoot } from './support.js';

/** Marks `ns` as the namespace of project `project`, as the facade maps them. */
export async function labelProject(ns: string, project: string): Promise<void> {
  await clients().core.patchNamespace(
    { name: ns, body: [{ op: 'add', path: '/metadata/labels/qinling.io~1project-id', value: project }] },
    setHeaderOptions('Content-Type', 'application/json-patch+json'),
  );
}

/** The URLs of a Service's ready endpoints, as its EndpointSlices publish them. */
export async function readyEndpoints(namespace: string, service: string): Promise<string[]> {
  const slices = await clients()
    .kc.makeApiClient(DiscoveryV1Api)
    .listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items.flatMap((s) =>
    (s.endpoints ?? [])
      .filter((e) => e.conditions?.ready)
      .map((e) => `http://${e.addresses[0] ?? ''}:${s.ports?.[0]?.port ?? 0}`),
  );
}

export interface Facade {
  url: string;
  process: ChildProcess;
  stop: () => void;
}

/**
 * A JSON call to the facade `url()` serves with `token`, answered 200 or 201 (else the test
 * fails naming the call); resolves to the body.
 */
export function facadeCaller(url: () => string, token: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url()}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).to.be.oneOf([200, 201]);
    return (await res.json()) as T;
  };
}

/** Starts `qinling-jobs api` on a free loopback port with `tokens` (CSV lines) and waits until ready. */
export async function startFacade(id: string, tokens: string, args: string[] = []): Promise<Facade> {
  mkdirSync(`${clusterDir}/api`, { recursive: true });
  const tokenFile = `${clusterDir}/api/tokens-${id}.csv`;
  writeFileSync(tokenFile, tokens, { mode: 0o600 });
  const log = `${clusterDir}/logs/api-${id}.log`;
  const fd = openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [
      `${repoRoot}/dist/cli.js`,
      'api',
      '--bind=127.0.0.1',
      '--port=0',
      '--metrics-port=0',
      `--token-file=${tokenFile}`,
      `--kubeconfig=${clusterDir}/kubeconfig`,
      ...args,
    ],
    {
      stdio: ['ignore', fd, fd],
      env: productEnv('QJ_FACADE_NODE_OPTIONS'),
    },
  );
  // A facade that never gets ready must not outlive the journey that started it.
  const port = await eventually(
    'the facade to listen',
    60_000, // generous: 16 journeys start their processes at once on a small machine
    () => /"port":(\d+),"msg":"listening"/.exec(readFileSync(log, 'utf8'))?.[1],
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually('the facade to be ready', 60_000, async () => (await fetch(`${url}/readyz`)).ok).catch(
    (err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    },
  );
  return { url, process: child, stop: () => child.kill('SIGTERM') };
}

/**
 * A token of a new ServiceAccount in `namespace` that RBAC allows `verbs` on QinlingJobs there
 * (none: no Role at all), as kubernetes auth sees its callers.
 */
/** A token for a new ServiceAccount; for the facade's audience unless told otherwise. */
export async function serviceAccountToken(
  namespace: string,
  name: string,
  verbs: string[],
  audiences = ['qinling-jobs'],
): Promise<string> {
  const { core, rbac } = clients();
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  if (verbs.length > 0) {
    const rules = [{ apiGroups: ['qinling.io'], resources: ['qinlingjobs'], verbs }];
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    });
  }
  const tr = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences, expirationSeconds: 3600 } },
  });
  return tr.status?.token ?? '';
}

/**
 * Registers hooks that give an operator journey a facade: the scene's namespace labelled as a
 * project of its own, served to user alice (a member) with token `tok`; stopped after it.
 */
export function withFacade(scene: { ns: string }, prefix: string) {
  let facade: Facade | undefined;
  const project = `proj-${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  before(async function () {
    this.timeout(120_000);
    await labelProject(scene.ns, project);
    facade = await startFacade(scene.ns, `tok,alice,${project},member\n`, ['--create-namespaces=false']);
  });
  after(() => facade?.stop());
  const url = () => facade?.url ?? '';
  return { url, project, call: facadeCaller(url, 'tok') };
}
