// Pod status as the kubelet reports it, computed from what the process kubelet knows locally.
// Pure: the same records always give the same status, so every write is level-based.
import type {
  V1ContainerState,
  V1ContainerStatus,
  V1PodCondition,
  V1PodStatus,
} from '@kubernetes/client-node';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface Terminated {
  exitCode: number;
  signal?: string;
  reason: string;
  startedAt: Date;
  finishedAt: Date;
  containerID: string;
  message?: string;
}

export interface ContainerRecord {
  name: string;
  image: string;
  restartCount: number;
  waiting?: { reason: string; message: string };
  running?: { startedAt: Date; containerID: string };
  terminated?: Terminated;
  lastTerminated?: Terminated;
  /** Set when the container has a readiness probe: its verdict. Without one, running is ready. */
  probedReady?: boolean;
}

const isReady = (c: ContainerRecord) => c.running !== undefined && c.probedReady !== false;

export interface PodRecord {
  podIP: string;
  startTime: Date;
  restartPolicy: RestartPolicy;
  containers: ContainerRecord[];
}

/** Whether a container that exited with this code is started again. */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

export function podPhase(r: PodRecord): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const cs = r.containers;
  if (cs.every((c) => c.terminated && !shouldRestart(r.restartPolicy, c.terminated.exitCode))) {
    return cs.every((c) => c.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  if (cs.some((c) => c.running || c.terminated || c.lastTerminated)) return 'Running';
  return 'Pending';
}

function state(c: ContainerRecord): V1ContainerState {
  if (c.running) return { running: { startedAt: c.running.startedAt } };
  if (c.terminated) return { terminated: terminatedState(c.terminated) };
  return { waiting: c.waiting ?? { reason: 'ContainerCreating', message: '' } };
}

function terminatedState(t: Terminated): NonNullable<V1ContainerState['terminated']> {
  return {
    exitCode: t.exitCode,
    ...(t.signal ? { signal: signalNumber(t.signal) } : {}),
    reason: t.reason,
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    containerID: t.containerID,
    ...(t.message ? { message: t.message } : {}),
  };
}

function signalNumber(sig: string): number {
  const table: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGSEGV: 11,
    SIGABRT: 6,
  };
  return table[sig] ?? 0;
}

function containerStatus(c: ContainerRecord): V1ContainerStatus {
  const running = c.running !== undefined;
  return {
    name: c.name,
    image: c.image,
    imageID: '',
    containerID: c.running?.containerID ?? c.terminated?.containerID ?? '',
    ready: isReady(c),
    started: running,
    restartCount: c.restartCount,
    state: state(c),
    lastState: c.lastTerminated ? { terminated: terminatedState(c.lastTerminated) } : {},
  };
}

function condition(type: string, ok: boolean, now: Date, reason?: string): V1PodCondition {
  return { type, status: ok ? 'True' : 'False', lastTransitionTime: now, ...(reason ? { reason } : {}) };
}

export function podStatus(r: PodRecord, now: Date): V1PodStatus {
  const phase = podPhase(r);
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const allReady = r.containers.every(isReady);
  const notReadyReason = finished ? 'PodCompleted' : 'ContainersNotReady';
  return {
    phase,
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    podIP: r.podIP,
    podIPs: [{ ip: r.podIP }],
    startTime: r.startTime,
    conditions: [
      condition('PodReadyToStartContainers', !finished, now),
      condition('Initialized', true, now),
      condition('ContainersReady', allReady, now, allReady ? undefined : notReadyReason),
      condition('Ready', allReady, now, allReady ? undefined : notReadyReason),
    ],
    containerStatuses: r.containers.map(containerStatus),
  };
}

/** Exit status as a container runtime reports it: a signal death is 128 + signal number. */
export function exitOf(
  code: number | null,
  signal: NodeJS.Signals | null,
): { exitCode: number; reason: string } {
  if (code !== null) return { exitCode: code, reason: code === 0 ? 'Completed' : 'Error' };
  const n = signalNumber(signal ?? 'SIGKILL') || 9;
  return { exitCode: 128 + n, reason: 'Error' };
}
