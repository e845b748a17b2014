// What every journey needs: the local cluster's clients, a namespace of its own, a loopback
// HTTP server that records calls, the real kubectl and helm, and polling with a clear failure.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';

export const repoRoot = resolve(import.meta.dirname, '../../..');
export const clusterDir = resolve(repoRoot, '.cluster');
const kubeconfigPath = process.env.KUBECONFIG ?? `${clusterDir}/kubeconfig`;

export function clients() {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

/** Creates a namespace for one journey; returns it and a cleanup that deletes it. */
export async function testNamespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const { core } = clients();
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'qinling-jobs.io/test': 'journey' } } } });
  await eventually(`serviceaccount ${name}/default`, 30_000, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  });
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check returns a value other than undefined/false; throws with the last error. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'condition not met';
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}: ${String(last)}`);
}

export interface RecordedCall {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: Date;
}

/**
 * An HTTP server on loopback that records every call and answers with `answer.status` (after
 * the statuses queued in `answer.next`, one per call), or never answers while `answer.hang` is set.
 */
export async function recorder(status = 200) {
  const calls: RecordedCall[] = [];
  const answer = { status, hang: false, next: [] as number[] };
  const srv = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: new Date(),
      });
      if (answer.hang) return;
      const code = answer.next.shift() ?? answer.status;
      res.statusCode = code;
      res.setHeader('content-type', 'application/json');
      res.end(code < 300 ? '{"id": "execution-1"}' : '{"faultstring": "the runtime is unwell"}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    calls,
    answer,
    close: () => {
      srv.closeAllConnections();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const run = promisify(execFile);

/**
 * The environment of a product process a journey or benchmark starts: PATH only, and Node.js
 * options from `nodeOptionsVar` when set (e.g. QJ_OPERATOR_NODE_OPTIONS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to profile a benchmark's operator).
 */
export function productEnv(nodeOptionsVar: string): NodeJS.ProcessEnv {
  const options = process.env[nodeOptionsVar];
  return { PATH: process.env.PATH ?? '', ...(options ? { NODE_OPTIONS: options } : {}) };
}

export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(`${clusterDir}/bin/kubectl`, ['--kubeconfig', kubeconfigPath, ...args]);
  return stdout;
}

export async function helm(...args: string[]): Promise<string> {
  const { stdout } = await run(`${clusterDir}/bin/helm`, ['--kubeconfig', kubeconfigPath, ...args], {
    env: {
      ...process.env,
      HELM_CACHE_HOME: `${clusterDir}/helm/cache`,
      HELM_CONFIG_HOME: `${clusterDir}/helm/config`,
      HELM_DATA_HOME: `${clusterDir}/helm/data`,
    },
  });
  return stdout;
}

export const TESTBIN = 'registry.local/qinling-jobs-testbin:dev';
export const BUSYBOX = 'busybox:1.36';

/** Restricted-profile security context, so journeys run under the same rules as the product. */
export const restricted = {
  pod: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
  container: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
};

/**
 * Stops or starts one control-plane component of the local cluster (for the serial journeys,
 * which must not run beside others: every job needs all of them).
 */
export function clusterComponent(
  cmd: 'stop' | 'start',
  name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager',
): Promise<unknown> {
  return run(process.execPath, [`${repoRoot}/dist/e2e/cluster/main.js`, cmd, name, '--dir', clusterDir]);
}
