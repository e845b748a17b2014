// The Node this kubelet stands for: registered once, kept Ready by a status heartbeat and a
// Lease in kube-node-lease, as a real kubelet does.
import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type V1Node,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const LEASE_SECONDS = 40;

export function nodeStatus(version: string, now: Date): NonNullable<V1Node['status']> {
  const cond = (type: string, ok: boolean, reason: string) => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const resources = { cpu: '16', memory: '32Gi', pods: '1000', 'ephemeral-storage': '100Gi' };
  return {
    conditions: [
      cond('Ready', true, 'KubeletReady'),
      cond('MemoryPressure', false, 'KubeletHasSufficientMemory'),
      cond('DiskPressure', false, 'KubeletHasNoDiskPressure'),
      cond('PIDPressure', false, 'KubeletHasSufficientPID'),
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'localhost' },
    ],
    capacity: resources,
    allocatable: resources,
    nodeInfo: {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      operatingSystem: 'linux',
      kubeletVersion: version,
      kubeProxyVersion: '',
      containerRuntimeVersion: 'process://node-' + process.version,
      osImage: 'process kubelet (qinling-jobs e2e)',
      kernelVersion: '',
      bootID: '',
      machineID: '',
      systemUUID: '',
    },
  };
}

export class NodeAgent {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly core: CoreV1Api,
    private readonly coordination: CoordinationV1Api,
    private readonly name: string,
    private readonly version: string,
    private readonly log: Logger,
  ) {}

  async register(): Promise<void> {
    const labels = {
      'kubernetes.io/hostname': this.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
    };
    try {
      await this.core.createNode({ body: { metadata: { name: this.name, labels } } });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
    // Admission taints a new Node not-ready; no node-lifecycle controller runs to lift it.
    await this.core.patchNode({ name: this.name, body: { spec: { taints: [] } } }, smp);
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), 10_000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async heartbeat(): Promise<void> {
    const now = new Date();
    try {
      await this.core.patchNodeStatus(
        { name: this.name, body: { status: nodeStatus(this.version, now) } },
        smp,
      );
      await this.renewLease(now);
    } catch (err) {
      this.log.warn({ err }, 'node heartbeat failed');
    }
  }

  private async renewLease(now: Date): Promise<void> {
    const namespace = 'kube-node-lease';
    // MicroTime: the apiserver wants six fractional digits, which a plain Date does not serialize to.
    const spec = {
      holderIdentity: this.name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: new V1MicroTime(now),
    };
    try {
      const lease = await this.coordination.readNamespacedLease({ name: this.name, namespace });
      lease.spec = { ...lease.spec, ...spec };
      await this.coordination.replaceNamespacedLease({ name: this.name, namespace, body: lease });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      const ownerReferences = await this.nodeOwner();
      await this.coordination.createNamespacedLease({
        namespace,
        body: { metadata: { name: this.name, ownerReferences }, spec },
      });
    }
  }

  private async nodeOwner() {
    const node = await this.core.readNode({ name: this.name });
    return [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: node.metadata?.uid ?? '' }];
  }
}
