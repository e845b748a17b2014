// `make run`: the whole product on one machine. Without KUBECONFIG it brings up (or reuses) the
// local control plane; with it, it uses that cluster. Then: the CRD, a namespace for a dev
// project, a token file, a demo function runtime, the operator and the REST facade, and
// examples that work as printed. Ctrl-C stops everything this run started.
// Usage: node dist/dev/run.js [--dir .cluster/dev] [--namespace qinling-demo] [--project demo]
//                             [--api-port 7070 (taken: any free port; 0: any free port)]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { portIsFree, waitFor } from '../e2e/cluster/process.js';
import { loadKube, type Kube } from '../kube/client.js';
import { explainFailure, logTail, steps } from '../e2e/cluster/steps.js';
import { type Child, recordPids, startChild, stopChildren, stopLeftovers } from './children.js';
import { installCrd, projectNamespace } from './setup.js';
import { examples } from './examples.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const clusterDir = `${repoRoot}/.cluster`;
const clusterMain = `${repoRoot}/dist/e2e/cluster/main.js`;
const cli = `${repoRoot}/dist/cli.js`;
const INVOKER_IMAGE = 'registry.local/qinling-jobs:dev';
/** In every child's command line: how a pid left by a killed run is recognised as ours. */
const MARKER = `${repoRoot}/dist/`;

/**
 * One line of our output. `make run | tee run.log`: Ctrl-C stops tee as well, and a write to the
 * closed pipe fails (EPIPE, an 'error' event that would end this process half way through
 * stopping what it started). A line stdout refuses goes to stderr, the terminal, and so does
 * every line after it.
 */
let stdoutOpen = true;
process.stdout.on('error', () => (stdoutOpen = false));
process.stderr.on('error', () => undefined); // nowhere left to say anything: stop quietly
function print(text: string): void {
  if (!stdoutOpen) {
    process.stderr.write(`${text}\n`);
    return;
  }
  process.stdout.write(`${text}\n`, (err) => {
    if (!err) return;
    stdoutOpen = false;
    process.stderr.write(`${text}\n`);
  });
}
const say = (s: string) => print(`[run] ${s}`);
const shown = (p: string) => (p.startsWith(`${process.cwd()}/`) ? p.slice(process.cwd().length + 1) : p);

const step = steps(say);

interface Run {
  dir: string;
  children: Child[];
  /** True when this run started the local control plane, so it stops it too. */
  startedCluster: boolean;
  localCluster: boolean;
  /** Everything is up; from here a child that exits stops the run (before, its step fails). */
  up: boolean;
  stopping: boolean;
}

/** Runs a program to its end with the terminal as its stderr; resolves to [exit code, stdout]. */
function runTool(argv: string[], inheritStdout: boolean): Promise<[number, string]> {
  return new Promise((res, rej) => {
    const [cmd = '', ...args] = argv;
    const p = spawn(cmd, args, { stdio: ['ignore', inheritStdout ? 'inherit' : 'pipe', 'inherit'] });
    let out = '';
    p.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', rej);
    p.on('exit', (code, signal) => res([code ?? (signal ? 128 : 1), out]));
  });
}

/** The local control plane's kubeconfig: a healthy cluster is reused, else one is started. */
async function localCluster(run: Run): Promise<string> {
  const [healthy] = await runTool([process.execPath, clusterMain, 'status', '--dir', clusterDir], false);
  if (healthy === 0) {
    say('the local control plane is already running; using it (it stays up after Ctrl-C)');
    return `${clusterDir}/kubeconfig`;
  }
  const [built, out] = await runTool(['bash', `${repoRoot}/e2e/cluster/build-tools.sh`], false);
  const toolsDir = out.trim().split('\n').pop() ?? '';
  if (built !== 0 || !toolsDir) throw new Error(`e2e/cluster/build-tools.sh exited with ${built}`);
  run.startedCluster = true;
  const [up] = await runTool(
    [process.execPath, clusterMain, 'up', '--dir', clusterDir, '--tools-dir', toolsDir],
    true,
  );
  if (up !== 0) throw new Error(`cluster-up exited with ${up} (its output is above)`);
  say('this run started the local control plane; Ctrl-C stops it too');
  return `${clusterDir}/kubeconfig`;
}

function writeTokens(dir: string, project: string): { file: string; member: string; admin: string } {
  const file = `${dir}/tokens.csv`;
  const member = `dev-member-${randomBytes(12).toString('hex')}`;
  const admin = `dev-admin-${randomBytes(12).toString('hex')}`;
  writeFileSync(file, `${member},dev-user,${project},member\n${admin},dev-admin,${project},admin\n`, {
    mode: 0o600,
  });
  chmodSync(file, 0o600); // an existing file keeps its mode through writeFileSync
  return { file, member, admin };
}

function start(run: Run, name: string, argv: string[], onLine?: (line: string) => void): Child {
  if (run.stopping) throw new Error('stopping');
  const c = startChild(name, argv, `${run.dir}/logs/${name}.log`, onLine ? { onLine } : {});
  run.children.push(c);
  recordPids(`${run.dir}/pids`, run.children, MARKER);
  void c.exited.then((why) => {
    if (run.stopping || !run.up) return;
    console.error(`[run] the ${name} stopped on its own (${why}); ${shown(c.logFile)}, its last lines:`);
    console.error(logTail(c.logFile));
    void shutdown(run, 1);
  });
  return c;
}

/** waitFor, giving up at once when the child it waits for has exited. */
async function waitForChild(c: Child, what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const gone = () => {
    const { exitCode, signalCode } = c.process;
    return exitCode !== null ? `exit code ${exitCode}` : signalCode;
  };
  await waitFor(what, timeoutMs, async () => gone() !== null || (await check()));
  const how = gone();
  if (how !== null) throw new Error(`the ${c.name} exited (${how}) while waiting for ${what}`);
}

/** Waits for a `"port":N,"msg":"<msg>"` line in a child's JSON log. */
async function loggedPort(c: Child, msg: string): Promise<number> {
  let port = 0;
  const re = new RegExp(`"port":(\\d+),"msg":"${msg}`);
  await waitForChild(c, `the ${c.name} to listen`, 30_000, () => {
    port = Number(re.exec(readFileSync(c.logFile, 'utf8'))?.[1] ?? 0);
    return Promise.resolve(port > 0);
  });
  return port;
}

async function ready(c: Child, url: string): Promise<void> {
  await waitForChild(c, `${url} to answer 200`, 60_000, async () => (await fetch(url)).ok);
}

async function startRuntime(run: Run): Promise<string> {
  let url = '';
  const c = start(
    run,
    'runtime',
    [process.execPath, `${repoRoot}/dist/dev/runtime.js`, '--port', '0'],
    (line) => {
      const m = /listening on (http:\S+)/.exec(line);
      if (m?.[1]) url = m[1];
      else print(`[runtime] ${line}`);
    },
  );
  await waitForChild(c, 'the demo runtime to listen', 10_000, () => Promise.resolve(url !== ''));
  return url;
}

async function startOperator(run: Run, kubeconfig: string, ns: string, runtimeUrl: string): Promise<void> {
  const c = start(run, 'operator', [
    process.execPath,
    cli,
    'operator',
    `--kubeconfig=${kubeconfig}`,
    `--namespaces=${ns}`,
    `--runtime-url=${runtimeUrl}`,
    `--invoker-image=${INVOKER_IMAGE}`,
    '--leader-elect=false',
    '--identity=make-run',
    '--http-port=0',
  ]);
  const port = await loggedPort(c, 'serving');
  await ready(c, `http://127.0.0.1:${port}/readyz`);
}

async function startFacade(run: Run, kubeconfig: string, tokenFile: string | undefined, apiPort: number) {
  const port = apiPort !== 0 && (await portIsFree(apiPort)) ? apiPort : 0;
  if (port === 0 && apiPort !== 0) say(`port ${apiPort} is taken; the facade takes a free one`);
  const c = start(run, 'facade', [
    process.execPath,
    cli,
    'api',
    '--bind=127.0.0.1',
    `--port=${port}`,
    '--metrics-port=0',
    ...(tokenFile ? ['--auth=static', `--token-file=${tokenFile}`] : ['--auth=keystone']),
    `--kubeconfig=${kubeconfig}`,
    '--create-namespaces=false',
  ]);
  const url = `http://127.0.0.1:${await loggedPort(c, 'listening')}`;
  await ready(c, `${url}/readyz`);
  return url;
}

async function shutdown(run: Run, code: number): Promise<void> {
  if (run.stopping) return;
  run.stopping = true;
  say('stopping');
  await stopChildren(run.children, (c) => say(`stopped the ${c.name} (pid ${c.pid})`));
  recordPids(`${run.dir}/pids`, [], MARKER);
  if (run.startedCluster) {
    say('stopping the local control plane this run started');
    await runTool([process.execPath, clusterMain, 'down', '--dir', clusterDir], true);
  } else if (run.localCluster) {
    say('the local control plane keeps running: it was up before this run (make cluster-down stops it)');
  }
  say('stopped');
  process.exit(code);
}

function options() {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: `${clusterDir}/dev` },
      namespace: { type: 'string', default: 'qinling-demo' },
      project: { type: 'string', default: 'demo' },
      'api-port': { type: 'string', default: '7070' },
      // keystone: the facade checks tokens with Keystone; its QJ_KEYSTONE_* settings come from
      // the environment, and --project must then be a Keystone project id.
      auth: { type: 'string', default: process.env.QJ_API_AUTH ?? 'static' },
    },
  });
  const apiPort = Number(values['api-port']);
  if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535)
    throw new Error('--api-port must be a port number (0: any free port)');
  const auth = values.auth;
  if (auth !== 'static' && auth !== 'keystone') throw new Error('--auth must be static or keystone');
  if (auth === 'keystone' && !process.env.QJ_KEYSTONE_URL)
    throw new Error(
      '--auth keystone needs QJ_KEYSTONE_URL (and QJ_KEYSTONE_PASSWORD_FILE) in the environment',
    );
  return { ...values, dir: resolve(values.dir), apiPort, auth };
}

async function main(): Promise<void> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (err) {
    console.error(`[run] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
  const run: Run = {
    dir: o.dir,
    children: [],
    startedCluster: false,
    localCluster: false,
    up: false,
    stopping: false,
  };
  process.on('SIGINT', () => void shutdown(run, 0));
  process.on('SIGTERM', () => void shutdown(run, 0));
  try {
    await up(run, o);
  } catch (err) {
    if (run.stopping) return;
    for (const line of explainFailure(err, shown)) console.error(`[run] ${line}`);
    await shutdown(run, 1);
  }
}

async function up(run: Run, o: ReturnType<typeof options>): Promise<void> {
  mkdirSync(`${o.dir}/logs`, { recursive: true });
  await stopLeftovers(`${o.dir}/pids`, say);
  const fromEnv = process.env.KUBECONFIG;
  run.localCluster = !fromEnv;
  const kubeconfig = fromEnv
    ? fromEnv
    : await step('local control plane', undefined, () => localCluster(run));
  if (fromEnv) say(`using the cluster of KUBECONFIG=${fromEnv}`);
  const kube: Kube = await step('read the kubeconfig', undefined, () => loadKube(kubeconfig));
  await step('install the QinlingJob CRD', undefined, () =>
    installCrd(kube, `${repoRoot}/crds/qinlingjob.yaml`),
  );
  await step(`namespace ${o.namespace} for project ${o.project}`, undefined, () =>
    projectNamespace(kube, o.namespace, o.project),
  );
  const tokens =
    o.auth === 'static'
      ? await step('development token file', undefined, () => writeTokens(o.dir, o.project))
      : undefined;
  const runtimeUrl = await step('start the demo runtime', `${o.dir}/logs/runtime.log`, () =>
    startRuntime(run),
  );
  await step('start the operator', `${o.dir}/logs/operator.log`, () =>
    startOperator(run, kubeconfig, o.namespace, runtimeUrl),
  );
  const apiUrl = await step('start the REST facade', `${o.dir}/logs/facade.log`, () =>
    startFacade(run, kubeconfig, tokens?.file, o.apiPort),
  );
  const kubectl = existsSync(`${clusterDir}/bin/kubectl`) ? `${clusterDir}/bin/kubectl` : 'kubectl';
  print(`
qinling-jobs is running: REST facade ${apiUrl}, demo runtime ${runtimeUrl}, operator watching ${o.namespace}.
${tokens ? `Tokens: ${shown(tokens.file)}` : `Tokens: Keystone ${process.env.QJ_KEYSTONE_URL ?? ''}`}   Logs: ${shown(o.dir)}/logs/{facade,operator,runtime}.log   Stop: Ctrl-C
`);
  const lines = examples({
    apiUrl,
    ...(tokens ? { tokens: { member: tokens.member, admin: tokens.admin } } : {}),
    project: o.project,
    namespace: o.namespace,
    kubectl,
    kubeconfig,
  });
  print(lines.join('\n'));
  run.up = true;
}

await main();
