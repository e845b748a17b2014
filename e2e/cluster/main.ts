// `make cluster-up` / `make cluster-down` / `make cluster-status`: the local control plane.
// Usage: node dist/e2e/cluster/main.js <up|down|status|stop NAME|start NAME> [--tools-dir DIR] [--dir .cluster]
// (NAME: etcd, kube-apiserver, kube-controller-manager or kube-scheduler)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as c from './components.js';
import { ensurePodNetwork, removePodNetwork } from './podnet.js';
import { freePort, isAlive, portIsFree, startDetached, stopGroup, waitFor } from './process.js';
import { explainFailure, StepError, steps } from './steps.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const NODE_NAME = 'proc-node';
const TOOLS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'helm',
] as const;

interface State {
  ports: c.ClusterPorts;
  pids: Partial<Record<c.ComponentSpec['name'], number>>;
  token: string;
  /** Extra kube-controller-manager flags this cluster was started with (kept for a restart). */
  controllerManagerArgs?: string[];
}

const step = steps((line) => console.log(`[cluster-up] ${line}`));

function readState(l: c.ClusterLayout): State | undefined {
  const f = `${l.root}/state.json`;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as State) : undefined;
}

function writeState(l: c.ClusterLayout, s: State): void {
  writeFileSync(`${l.root}/state.json`, JSON.stringify(s, null, 2), { mode: 0o600 });
}

/** GET a path on the apiserver with the admin token; resolves to [status, body]. */
function apiGet(l: c.ClusterLayout, s: State, path: string): Promise<[number, string]> {
  return new Promise((res, rej) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.ports.apiserver,
        path,
        ca: readFileSync(`${l.pkiDir}/apiserver.crt`),
        headers: { Authorization: `Bearer ${s.token}` },
        timeout: 5000,
      },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => res([r.statusCode ?? 0, body]));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

async function healthy(l: c.ClusterLayout, s: State): Promise<boolean> {
  const names = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet'] as const;
  if (!names.every((n) => s.pids[n] !== undefined && isAlive(s.pids[n]))) return false;
  try {
    const [code] = await apiGet(l, s, '/readyz');
    return code === 200 && (await nodeReady(l, s));
  } catch {
    return false;
  }
}

async function nodeReady(l: c.ClusterLayout, s: State): Promise<boolean> {
  const [code, body] = await apiGet(l, s, `/api/v1/nodes/${NODE_NAME}`);
  if (code !== 200) return false;
  const node = JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
}

function makePki(l: c.ClusterLayout): string {
  const token = randomBytes(32).toString('base64url');
  writeFileSync(l.tokenFile, `${token},local-admin,local-admin,system:masters\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(l.saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(l.saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  return token;
}

function linkTools(l: c.ClusterLayout, toolsDir: string): void {
  for (const t of TOOLS) {
    const src = `${toolsDir}/${t}`;
    if (!existsSync(src)) throw new Error(`${src} is missing; run e2e/cluster/build-tools.sh`);
    rmSync(`${l.binDir}/${t}`, { force: true });
    symlinkSync(src, `${l.binDir}/${t}`);
  }
}

async function up(l: c.ClusterLayout, toolsDir: string, controllerManagerArgs: string[] = []): Promise<void> {
  const previous = readState(l);
  if (previous && (await healthy(l, previous))) {
    linkTools(l, toolsDir);
    console.log('[cluster-up] a healthy cluster is already running; reusing it');
    printUsage(l);
    return;
  }
  if (previous) await down(l);
  rmSync(l.dataDir, { recursive: true, force: true });
  rmSync(l.pkiDir, { recursive: true, force: true });
  rmSync(l.logDir, { recursive: true, force: true });
  for (const d of [l.root, l.binDir, l.dataDir, l.pkiDir, l.logDir]) mkdirSync(d, { recursive: true });
  linkTools(l, toolsDir);

  const token = makePki(l);
  const ports: c.ClusterPorts = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
  };
  const s: State = { ports, pids: {}, token, controllerManagerArgs };
  const start = (spec: c.ComponentSpec) => {
    s.pids[spec.name] = startDetached(spec);
    writeState(l, s);
  };

  const etcd = c.etcd(l, ports);
  await step('start etcd', etcd.logFile, async () => {
    start(etcd);
    await waitFor('etcd', 30_000, async () => {
      const r = await fetch(`http://127.0.0.1:${ports.etcdClient}/health`);
      return r.ok && ((await r.json()) as { health: string }).health === 'true';
    });
  });

  const api = c.apiserver(l, ports);
  await step('start kube-apiserver', api.logFile, async () => {
    start(api);
    await waitFor('kube-apiserver /readyz', 90_000, async () => {
      if (!isAlive(s.pids['kube-apiserver'] ?? 0)) throw new Error('process exited');
      return existsSync(`${l.pkiDir}/apiserver.crt`) && (await apiGet(l, s, '/readyz'))[0] === 200;
    });
    writeFileSync(
      l.kubeconfig,
      c.adminKubeconfig(`https://127.0.0.1:${ports.apiserver}`, `${l.pkiDir}/apiserver.crt`, token),
      { mode: 0o600 },
    );
    await waitFor(
      'namespace default',
      30_000,
      async () => (await apiGet(l, s, '/api/v1/namespaces/default'))[0] === 200,
    );
  });

  const kcm = c.controllerManager(l, s.controllerManagerArgs);
  await step('start kube-controller-manager', kcm.logFile, async () => {
    start(kcm);
    await waitFor('serviceaccount default/default', 60_000, async () => {
      if (!isAlive(s.pids['kube-controller-manager'] ?? 0)) throw new Error('process exited');
      return (await apiGet(l, s, '/api/v1/namespaces/default/serviceaccounts/default'))[0] === 200;
    });
  });

  const sched = c.scheduler(l);
  await step('start kube-scheduler', sched.logFile, async () => {
    start(sched);
    await waitFor('kube-scheduler', 60_000, () => {
      if (!isAlive(s.pids['kube-scheduler'] ?? 0)) throw new Error('process exited');
      return Promise.resolve(schedulerStarted(sched.logFile));
    });
  });

  const podLink = await step('pod network', undefined, () => ensurePodNetwork() ?? 'loopback');
  const kubelet = c.kubelet(l, repoRoot, NODE_NAME, podLink);
  await step('start process kubelet', kubelet.logFile, async () => {
    if (!existsSync(kubelet.args[1] ?? '')) throw new Error('dist/ is missing; run `npm run build` first');
    start(kubelet);
    await waitFor(`node ${NODE_NAME} Ready`, 30_000, async () => {
      if (!isAlive(s.pids.kubelet ?? 0)) throw new Error('process exited');
      return nodeReady(l, s);
    });
  });
  printUsage(l);
}

/** kube-scheduler serves no port here; its log says when its informers synced and it schedules. */
function schedulerStarted(logFile: string): boolean {
  return existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Starting Kubernetes Scheduler');
}

async function down(l: c.ClusterLayout): Promise<void> {
  const s = readState(l);
  if (!s) {
    console.log('[cluster-down] no cluster state; nothing to stop');
    return;
  }
  // Reverse start order: the kubelet stops its pods, then the scheduler and the controllers, the
  // apiserver, etcd.
  for (const name of [
    'kubelet',
    'kube-scheduler',
    'kube-controller-manager',
    'kube-apiserver',
    'etcd',
  ] as const) {
    const pid = s.pids[name];
    if (pid !== undefined && isAlive(pid)) {
      await stopGroup(pid);
      console.log(`[cluster-down] stopped ${name} (pid ${pid})`);
    }
  }
  await stopLeftoverPods(l);
  removePodNetwork();
  for (const port of [s.ports.etcdClient, s.ports.etcdPeer, s.ports.apiserver]) {
    if (!(await portIsFree(port))) throw new Error(`port ${port} is still in use after cluster-down`);
  }
  rmSync(`${l.root}/state.json`);
  console.log('[cluster-down] stopped; logs kept under', l.logDir);
}

/** Pod processes whose kubelet died without stopping them (it records each pid it starts). */
async function stopLeftoverPods(l: c.ClusterLayout): Promise<void> {
  const f = `${l.root}/kubelet/pids`;
  if (!existsSync(f)) return;
  const pids = readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number);
  for (const pid of pids) if (isAlive(pid)) await stopGroup(pid, 2000);
  rmSync(f);
}

type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';

/**
 * Stops or starts one control-plane component alone, for journeys that prove what happens while
 * it is away (run them outside the parallel journeys: every job needs all of them).
 */
async function component(l: c.ClusterLayout, name: Component, action: 'stop' | 'start'): Promise<void> {
  const s = readState(l);
  if (!s) throw new Error('no cluster state; run make cluster-up first');
  const pid = s.pids[name];
  if (action === 'stop') {
    if (pid !== undefined && isAlive(pid)) await stopGroup(pid);
    console.log(`[cluster] stopped ${name} (pid ${pid ?? '-'})`);
    return;
  }
  if (pid !== undefined && isAlive(pid)) return;
  const spec =
    name === 'etcd'
      ? c.etcd(l, s.ports)
      : name === 'kube-apiserver'
        ? c.apiserver(l, s.ports)
        : c.controllerManager(l, s.controllerManagerArgs);
  s.pids[name] = startDetached(spec);
  writeState(l, s);
  const alive = () => {
    if (!isAlive(s.pids[name] ?? 0)) throw new Error(`${name} exited`);
  };
  if (name === 'etcd') {
    await waitFor('etcd', 30_000, async () => {
      alive();
      const r = await fetch(`http://127.0.0.1:${s.ports.etcdClient}/health`);
      return r.ok && ((await r.json()) as { health: string }).health === 'true';
    });
  } else {
    await waitFor(name, 90_000, async () => {
      alive();
      return (
        (await apiGet(l, s, '/api/v1/namespaces/default/serviceaccounts/default').catch(() => [0]))[0] === 200
      );
    });
  }
  console.log(`[cluster] started ${name} (pid ${s.pids[name]})`);
}

function printUsage(l: c.ClusterLayout): void {
  const rel = (p: string) => p.replace(`${process.cwd()}/`, '');
  console.log(`
Local Kubernetes control plane is up (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
process kubelet).
  export KUBECONFIG=${l.kubeconfig}
  ${rel(l.binDir)}/kubectl get nodes,pods -A
  ${rel(l.binDir)}/helm list -A
Logs: ${rel(l.logDir)}/   Stop: make cluster-down`);
}

async function status(l: c.ClusterLayout): Promise<void> {
  const s = readState(l);
  const ok = s !== undefined && (await healthy(l, s));
  console.log(ok ? 'running and healthy' : s ? 'state present but unhealthy' : 'not running');
  process.exitCode = ok ? 0 : 1;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'tools-dir': { type: 'string' },
      dir: { type: 'string', default: '.cluster' },
      // Space-separated, e.g. "--kube-api-qps=20 --v=4" (a measurement against other settings).
      'controller-manager-args': { type: 'string', default: '' },
    },
  });
  const l = c.layout(resolve(values.dir));
  const cmd = positionals[0];
  if (cmd === 'up') {
    if (!values['tools-dir']) throw new Error('--tools-dir is required (the output of build-tools.sh)');
    try {
      await up(l, values['tools-dir'], (values['controller-manager-args'] ?? '').split(' ').filter(Boolean));
    } catch (err) {
      if (err instanceof StepError) {
        for (const line of explainFailure(err)) console.error(`[cluster-up] ${line}`);
        console.error('[cluster-up] stopping what was started');
        await down(l);
        process.exit(1);
      }
      throw err;
    }
  } else if (cmd === 'down') await down(l);
  else if (cmd === 'status') await status(l);
  else if (cmd === 'stop' || cmd === 'start') {
    const name = positionals[1];
    if (name !== 'etcd' && name !== 'kube-apiserver' && name !== 'kube-controller-manager')
      throw new Error('stop/start take etcd, kube-apiserver or kube-controller-manager');
    await component(l, name, cmd);
  } else throw new Error(`unknown command ${cmd ?? '(none)'}; use up, down or status`);
}

await main();
