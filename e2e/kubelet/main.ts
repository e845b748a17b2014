// The process kubelet: the one stand-in of the local cluster, for want of a container runtime.
// Registers a Node and runs the containers of the pods kube-scheduler binds to it as local processes.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  VersionApi,
  Watch,
  type V1Pod,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import type { EnvSources } from './env.js';
import { NodeAgent } from './node.js';
import { IpPool, PidFile, PodNetwork } from './resources.js';
import { PodWorker, type KubeletContext } from './worker.js';

const { values: opt } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'node-name': { type: 'string', default: 'proc-node' },
    'state-dir': { type: 'string' },
    'log-dir': { type: 'string' },
    'repo-root': { type: 'string' },
    'pod-link': { type: 'string', default: 'loopback' },
  },
});
for (const k of ['kubeconfig', 'state-dir', 'log-dir', 'repo-root'] as const) {
  if (!opt[k]) throw new Error(`--${k} is required`);
}
const nodeName = opt['node-name'];
const stateDir = opt['state-dir'] ?? '';
const log = pino({ base: { component: 'process-kubelet', node: nodeName } });

const kc = new KubeConfig();
kc.loadFromFile(opt.kubeconfig ?? '');
const cluster = kc.getCurrentCluster();
if (!cluster?.caFile) throw new Error('the kubeconfig must name a certificate-authority file');
const core = kc.makeApiClient(CoreV1Api);
const serverUrl = new URL(cluster.server);

mkdirSync(`${stateDir}/pods`, { recursive: true });
stopOrphans(`${stateDir}/pids`);

const decode = (data: Record<string, string> | undefined) =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
const notFound = (err: unknown) => {
  if ((err as { code?: number }).code === 404) return undefined;
  throw err;
};
const sources: EnvSources = {
  secret: (namespace, name) =>
    core.readNamespacedSecret({ name, namespace }).then((s) => decode(s.data), notFound),
  configMap: (namespace, name) =>
    core.readNamespacedConfigMap({ name, namespace }).then((c) => c.data ?? {}, notFound),
};

const net = new PodNetwork(opt['pod-link']);
const ctx: KubeletContext = {
  core,
  sources,
  ips: new IpPool(net.prefix),
  net,
  pids: new PidFile(`${stateDir}/pids`),
  log,
  repoRoot: opt['repo-root'] ?? '',
  stateDir,
  logDir: opt['log-dir'] ?? '',
  server: { url: cluster.server, host: serverUrl.hostname, port: serverUrl.port, caFile: cluster.caFile },
};

const version = await kc.makeApiClient(VersionApi).getCode();
const node = new NodeAgent(core, kc.makeApiClient(CoordinationV1Api), nodeName, version.gitVersion, log);
await node.register();

const workers = new Map<string, PodWorker>();
const watch = new Watch(kc);

function informer(fieldSelector: string, onPod: (pod: V1Pod) => void, onDelete: (pod: V1Pod) => void) {
  const lw = new ListWatch<V1Pod>(
    '/api/v1/pods',
    watch,
    () => core.listPodForAllNamespaces({ fieldSelector }),
    false,
    undefined,
    fieldSelector,
  );
  lw.on('add', onPod);
  lw.on('update', onPod);
  lw.on('delete', onDelete);
  lw.on('error', (err) => {
    log.warn({ err, fieldSelector }, 'pod watch failed; restarting');
    setTimeout(() => void lw.start().catch((e: unknown) => log.error({ err: e }, 'restart failed')), 1000);
  });
  return lw;
}

const runner = informer(
  `spec.nodeName=${nodeName}`,
  (pod) => {
    const uid = pod.metadata?.uid ?? '';
    let w = workers.get(uid);
    if (!w) workers.set(uid, (w = new PodWorker(ctx, pod)));
    w.update(pod);
  },
  (pod) => {
    const uid = pod.metadata?.uid ?? '';
    workers.get(uid)?.removed();
    workers.delete(uid);
  },
);

await runner.start();
log.info({ version: version.gitVersion }, 'process kubelet ready');

function stopOrphans(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  for (const pid of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

const shutdown = () => {
  log.info('stopping: killing pod processes');
  node.stop();
  for (const pid of ctx.pids.all()) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  setTimeout(() => {
    for (const pid of ctx.pids.all()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    process.exit(0);
  }, 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
