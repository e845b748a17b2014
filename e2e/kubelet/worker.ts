// One worker per pod: starts its containers as local processes, applies the restart policy,
// reports status through pods/status, and on deletion stops the processes and finalizes the pod.
// Every step for a pod runs on that worker's own chain, so steps for one pod never interleave.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { kubeconfigYaml } from '../cluster/components.js';
import { ConfigError, containerEnv, type EnvSources } from './env.js';
import { expand } from './expand.js';
import { containerArgv, localImage, mapPath } from './images.js';
import { probeUrl, startReadinessProbe } from './probes.js';
import { materializeVolumes, mountMappings } from './volumes.js';

/** Where a container's termination message is written when its spec names no path. */
const DEFAULT_TERMINATION_PATH = '/dev/termination-log';
import type { IpPool, PidFile, PodNetwork } from './resources.js';
import * as st from './status.js';

const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const CONFIG_RETRY_MS = 2000;
const TOKEN_SECONDS = 24 * 3600;

export interface KubeletContext {
  core: CoreV1Api;
  sources: EnvSources;
  ips: IpPool;
  net: PodNetwork;
  pids: PidFile;
  log: Logger;
  repoRoot: string;
  stateDir: string;
  logDir: string;
  /** The apiserver as pods reach it. */
  server: { url: string; host: string; port: string; caFile: string };
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  stopProbe?: () => void;
}

const isTerminal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

export class PodWorker {
  private record?: st.PodRecord;
  private started = false;
  private deleting = false;
  private finalized = false;
  private readonly procs = new Map<string, Proc>();
  private token?: Promise<string>;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: KubeletContext,
    private pod: V1Pod,
  ) {}

  private get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  private get ref(): { name: string; namespace: string } {
    return { name: this.pod.metadata?.name ?? '', namespace: this.pod.metadata?.namespace ?? '' };
  }

  update(pod: V1Pod): void {
    this.pod = pod;
    this.enqueue(() => this.sync());
  }

  /** The pod object is gone from the API: stop whatever still runs. */
  removed(): void {
    this.deleting = true;
    this.enqueue(() => this.stopAll(0).then(() => this.cleanup()));
  }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain
      .then(fn)
      .catch((err: unknown) => this.ctx.log.error({ err, pod: this.ref }, 'pod sync failed'));
  }

  private async sync(): Promise<void> {
    const pod = this.pod;
    if (pod.metadata?.deletionTimestamp) return this.terminate();
    if (isTerminal(pod.status?.phase) || this.started) return;
    if (pod.status?.phase === 'Running' && !this.record) {
      // Running in the API but not here: an earlier kubelet started it and is gone.
      return this.lost();
    }
    await this.start();
  }

  private async start(): Promise<void> {
    const pod = this.pod;
    const spec = pod.spec;
    if (!spec) return;
    const restartPolicy = (spec.restartPolicy ?? 'Always') as st.RestartPolicy;
    const podIP = this.ctx.ips.allocate(this.uid);
    await this.ctx.net.add(podIP);
    this.record ??= {
      podIP,
      startTime: new Date(),
      restartPolicy,
      containers: spec.containers.map((c) => ({ name: c.name, image: c.image ?? '', restartCount: 0 })),
    };
    if ((spec.initContainers ?? []).length > 0) {
      return this.failPod('InitContainersUnsupported', 'the process kubelet does not run init containers');
    }
    let plans: { c: V1Container; argv: string[]; env: Record<string, string>; cwd: string }[];
    try {
      const base = await this.baseEnv(podIP);
      const volumes = await materializeVolumes(
        pod,
        { ...this.ctx.sources, podIP, token: () => this.podToken() },
        this.podDir(),
      );
      plans = await Promise.all(spec.containers.map((c) => this.plan(c, podIP, base, volumes)));
    } catch (err) {
      if (!(err instanceof ConfigError || err instanceof ImageError)) throw err;
      for (const c of this.record.containers) c.waiting = { reason: err.reason, message: err.message };
      await this.writeStatus();
      setTimeout(() => this.enqueue(() => this.sync()), CONFIG_RETRY_MS).unref();
      return;
    }
    this.started = true;
    for (const p of plans) this.spawnContainer(p.c.name, p.argv, p.env, p.cwd);
    await this.writeStatus();
  }

  private async plan(
    c: V1Container,
    podIP: string,
    base: Record<string, string>,
    volumes: Map<string, string>,
  ) {
    const img = localImage(c.image ?? '', this.ctx.repoRoot);
    if (!img) throw new ImageError(c.image ?? '');
    // The termination message file, as the kubelet mounts it at terminationMessagePath.
    const termination = {
      from: c.terminationMessagePath ?? DEFAULT_TERMINATION_PATH,
      to: this.terminationFile(c.name),
    };
    const mounts = [...mountMappings(c, volumes), termination];
    const env = await containerEnv(this.pod, c, podIP, this.ctx.sources, base);
    const lookup = (n: string) => env[n];
    for (const [k, v] of Object.entries(env)) env[k] = mapPath(v, mounts);
    const argv = containerArgv(
      img,
      c.command?.map((a) => expand(a, lookup)),
      c.args?.map((a) => expand(a, lookup)),
    ).map((a) => mapPath(a, mounts));
    if (argv.length === 0)
      throw new ConfigError(`container ${c.name} has no command and its image no entrypoint`);
    return { c, argv, env, cwd: c.workingDir ?? img.cwd };
  }

  /** What every container starts with: the host PATH, the apiserver, and the pod's identity. */
  private async baseEnv(podIP: string): Promise<Record<string, string>> {
    const { server } = this.ctx;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      HOSTNAME: this.ref.name,
      KUBERNETES_SERVICE_HOST: server.host,
      KUBERNETES_SERVICE_PORT: server.port,
      POD_IP: podIP,
      // Each pod's "all addresses" is its own address, as its own network namespace would make it.
      NODE_OPTIONS: `--import=${this.ctx.repoRoot}/dist/e2e/kubelet/own-address.js`,
      PROCESS_KUBELET_POD_IP: podIP,
    };
    if (this.pod.spec?.automountServiceAccountToken !== false) env.KUBECONFIG = await this.podKubeconfig();
    return env;
  }

  /** A TokenRequest token bound to this pod, for its kubeconfig and its projected volumes. */
  private podToken(): Promise<string> {
    this.token ??= this.requestToken().catch((err: unknown) => {
      this.token = undefined;
      throw err;
    });
    return this.token;
  }

  private async requestToken(): Promise<string> {
    const sa = this.pod.spec?.serviceAccountName ?? 'default';
    const { namespace, name } = this.ref;
    try {
      const tr = await this.ctx.core.createNamespacedServiceAccountToken({
        name: sa,
        namespace,
        body: {
          spec: {
            audiences: [],
            expirationSeconds: TOKEN_SECONDS,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid: this.uid },
          },
        },
      });
      return tr.status?.token ?? '';
    } catch (err) {
      if ((err as { code?: number }).code === 404) throw new ConfigError(`serviceaccount "${sa}" not found`);
      throw err;
    }
  }

  /** A kubeconfig holding the pod's token, so RBAC applies as in a cluster. */
  private async podKubeconfig(): Promise<string> {
    const sa = this.pod.spec?.serviceAccountName ?? 'default';
    const { namespace } = this.ref;
    const token = await this.podToken();
    const dir = this.podDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = `${dir}/kubeconfig`;
    const { url, caFile } = this.ctx.server;
    writeFileSync(
      file,
      kubeconfigYaml({
        server: url,
        caFile,
        user: `system:serviceaccount:${namespace}:${sa}`,
        token,
        namespace,
      }),
      {
        mode: 0o600,
      },
    );
    return file;
  }

  private spawnContainer(name: string, argv: string[], env: Record<string, string>, cwd: string): void {
    const rec = this.container(name);
    const dir = `${this.ctx.logDir}/${this.ref.namespace}_${this.ref.name}_${this.uid}`;
    mkdirSync(dir, { recursive: true });
    const logFile = `${dir}/${name}.log`;
    const fd = openSync(logFile, 'a');
    const logStart = statSync(logFile).size; // this run's output starts here
    const [cmd, ...args] = argv;
    mkdirSync(`${this.podDir()}/termination`, { recursive: true, mode: 0o700 });
    writeFileSync(this.terminationFile(name), ''); // each start writes its own
    const child = spawn(cmd ?? '', args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const startedAt = new Date();
    const containerID = `proc://${child.pid ?? 0}`;
    if (child.pid !== undefined) this.ctx.pids.add(child.pid);
    rec.waiting = undefined;
    rec.terminated = undefined;
    rec.running = { startedAt, containerID };
    const exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (t: st.Terminated) => {
        if (done) return;
        done = true;
        if (child.pid !== undefined) this.ctx.pids.remove(child.pid);
        this.procs.get(name)?.stopProbe?.();
        this.procs.delete(name);
        rec.running = undefined;
        // While deleting, terminate() reports the final state; record it before it reads it.
        if (this.deleting) rec.terminated = t;
        else this.enqueue(() => this.exited(name, t, argv, env, cwd));
        resolve();
      };
      child.on('exit', (code, signal) => {
        const t: st.Terminated = {
          ...st.exitOf(code, signal),
          startedAt,
          finishedAt: new Date(),
          containerID,
        };
        const message = this.terminationMessage(name, t.exitCode, logFile, logStart);
        finish(message ? { ...t, message } : t);
      });
      child.on('error', (err) => {
        this.ctx.log.warn({ err, pod: this.ref, container: name }, 'container failed to start');
        finish({ exitCode: 128, reason: 'StartError', startedAt, finishedAt: new Date(), containerID });
      });
    });
    this.procs.set(name, { child, exited, stopProbe: this.probeReadiness(name, rec) });
    this.ctx.log.info({ pod: this.ref, container: name, pid: child.pid, argv }, 'container started');
  }

  /** Starts the container's readiness probe, if it has one this kubelet can run. */
  private probeReadiness(name: string, rec: st.ContainerRecord): (() => void) | undefined {
    const c = this.pod.spec?.containers.find((x) => x.name === name);
    const probe = c?.readinessProbe;
    const url = c && probe && this.record ? probeUrl(c, probe, this.record.podIP) : undefined;
    rec.probedReady = url ? false : undefined;
    if (!probe || !url) return undefined;
    return startReadinessProbe(url, probe, (ready) => {
      rec.probedReady = ready;
      this.enqueue(() => this.writeStatus());
    });
  }

  /** The host file a container's terminationMessagePath stands for. */
  private terminationFile(name: string): string {
    return `${this.podDir()}/termination/${name}`;
  }

  /**
   * As the kubelet: what the container wrote to its terminationMessagePath (at most 4096
   * bytes), else, with FallbackToLogsOnError, a failed container's own output's tail.
   */
  private terminationMessage(
    name: string,
    exitCode: number,
    logFile: string,
    from: number,
  ): string | undefined {
    try {
      const written = readFileSync(this.terminationFile(name)).subarray(0, 4096).toString('utf8');
      if (written !== '') return written;
    } catch {
      // not written: the fallback below
    }
    const c = this.pod.spec?.containers.find((x) => x.name === name);
    if (exitCode === 0 || c?.terminationMessagePolicy !== 'FallbackToLogsOnError') return undefined;
    try {
      const out = readFileSync(logFile).subarray(from).toString('utf8');
      return out.split('\n').slice(-80).join('\n').slice(-2048) || undefined;
    } catch {
      return undefined;
    }
  }

  private async exited(
    name: string,
    t: st.Terminated,
    argv: string[],
    env: Record<string, string>,
    cwd: string,
  ) {
    const rec = this.container(name);
    const record = this.record;
    if (!record || this.deleting) return;
    this.ctx.log.info({ pod: this.ref, container: name, exitCode: t.exitCode }, 'container exited');
    if (!this.deleting && st.shouldRestart(record.restartPolicy, t.exitCode)) {
      rec.lastTerminated = t;
      const backoffMs = Math.min(1000 * 2 ** rec.restartCount, 30_000);
      rec.waiting = {
        reason: 'CrashLoopBackOff',
        message: `back-off ${backoffMs / 1000}s restarting failed container`,
      };
      setTimeout(
        () =>
          this.enqueue(async () => {
            if (this.deleting) return;
            rec.restartCount += 1;
            this.spawnContainer(name, argv, env, cwd);
            await this.writeStatus();
          }),
        backoffMs,
      ).unref();
    } else {
      rec.terminated = t;
    }
    await this.writeStatus();
    if (isTerminal(st.podPhase(record))) this.cleanup();
  }

  /** deletionTimestamp is set: stop within the grace period, report a final phase, finalize. */
  private async terminate(): Promise<void> {
    if (this.finalized) return;
    this.deleting = true;
    const grace = (this.pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    await this.stopAll(grace);
    if (!isTerminal(this.pod.status?.phase)) {
      if (this.record) {
        for (const c of this.record.containers) {
          c.running = undefined;
          c.waiting = undefined;
          c.terminated ??= {
            exitCode: 137,
            reason: 'ContainerStatusUnknown',
            startedAt: this.record.startTime,
            finishedAt: new Date(),
            containerID: '',
          };
        }
        await this.writeStatus(true);
      } else {
        await this.patchStatus({
          phase: 'Failed',
          reason: 'Terminated',
          message: 'pod deleted before it started',
        });
      }
    }
    try {
      await this.ctx.core.deleteNamespacedPod({
        ...this.ref,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404 && code !== 409) throw err;
    }
    this.finalized = true;
    this.cleanup();
  }

  private async stopAll(graceMs: number): Promise<void> {
    const procs = [...this.procs.values()];
    const kill = (p: Proc, sig: NodeJS.Signals) => {
      try {
        process.kill(-(p.child.pid ?? 0), sig);
      } catch {
        /* already gone */
      }
    };
    for (const p of procs) kill(p, 'SIGTERM');
    const timeout = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(procs.map((p) => p.exited)), timeout]);
    for (const p of procs) kill(p, 'SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
  }

  private async lost(): Promise<void> {
    await this.patchStatus({
      phase: 'Failed',
      reason: 'NodeLost',
      message: 'the process kubelet restarted and no longer runs this pod',
    });
  }

  private async failPod(reason: string, message: string): Promise<void> {
    this.started = true;
    await this.patchStatus({ phase: 'Failed', reason, message });
  }

  private async writeStatus(finalize = false): Promise<void> {
    if (!this.record) return;
    const status = st.podStatus(this.record, new Date());
    if (finalize)
      status.phase = this.record.containers.every((c) => c.terminated?.exitCode === 0)
        ? 'Succeeded'
        : 'Failed';
    await this.patchStatus(status);
  }

  private async patchStatus(status: object): Promise<void> {
    try {
      const pod = await this.ctx.core.patchNamespacedPodStatus({ ...this.ref, body: { status } }, smp);
      this.pod = pod;
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }

  private container(name: string): st.ContainerRecord {
    const rec = this.record?.containers.find((c) => c.name === name);
    if (!rec) throw new Error(`no container ${name}`);
    return rec;
  }

  private cleanup(): void {
    const ip = this.ctx.ips.release(this.uid);
    if (ip) void this.ctx.net.remove(ip);
    rmSync(this.podDir(), { recursive: true, force: true });
  }

  /** Where this pod's kubeconfig and volumes live while it runs. */
  private podDir(): string {
    return `${this.ctx.stateDir}/pods/${this.uid}`;
  }
}

class ImageError extends Error {
  readonly reason = 'ErrImagePull';
  constructor(image: string) {
    super(`the process kubelet has no local command for image "${image}"`);
  }
}
