// The local control plane is real Kubernetes: stamped versions that match, the APIs the product
// needs, a Ready node that keeps its Lease fresh, and the real scheduler placing pods on it.
import { expect } from 'chai';
import { CoordinationV1Api, type V1Pod } from '@kubernetes/client-node';
import { BUSYBOX, clients, eventually, kubectl, restricted, testNamespace } from './support.js';

describe('journey: the local control plane', function () {
  const { core, kc } = clients();

  it('kubectl and the server report the same real release', async () => {
    const v = JSON.parse(await kubectl('version', '--output=json')) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(v.serverVersion.gitVersion).to.match(/^v1\.\d+\.\d+$/);
    expect(v.clientVersion.gitVersion).to.equal(v.serverVersion.gitVersion);
  });

  it('serves cronjobs, jobs, leases and endpointslices', async () => {
    const names = (await kubectl('api-resources', '--output=name')).split('\n');
    for (const r of [
      'cronjobs.batch',
      'jobs.batch',
      'leases.coordination.k8s.io',
      'endpointslices.discovery.k8s.io',
    ]) {
      expect(names).to.include(r);
    }
  });

  it('has one Ready node whose Lease is renewed', async function () {
    this.timeout(40_000);
    const nodes = await core.listNode();
    expect(nodes.items).to.have.length(1);
    const node = nodes.items[0];
    expect(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(node?.spec?.taints ?? []).to.deep.equal([]);
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const name = node?.metadata?.name ?? '';
    const read = async () =>
      new Date(
        (await coordination.readNamespacedLease({ name, namespace: 'kube-node-lease' })).spec?.renewTime ?? 0,
      );
    const first = await read();
    await eventually('the Lease to be renewed', 25_000, async () => (await read()) > first);
  });

  it('kube-scheduler binds what fits the node and leaves what does not Pending, saying why', async function () {
    this.timeout(120_000);
    const ns = await testNamespace('sched');
    try {
      const pod = (name: string, cpu: string): V1Pod => ({
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          securityContext: restricted.pod,
          containers: [
            {
              name: 'main',
              image: BUSYBOX,
              command: ['sh', '-c', 'true'],
              securityContext: restricted.container,
              resources: { requests: { cpu } },
            },
          ],
        },
      });
      await core.createNamespacedPod({ namespace: ns.name, body: pod('fits', '10m') });
      await core.createNamespacedPod({ namespace: ns.name, body: pod('too-big', '1000') });
      const read = (name: string) => core.readNamespacedPod({ name, namespace: ns.name });
      await eventually('the pod that fits to succeed', 90_000, async () => {
        const p = await read('fits');
        return p.status?.phase === 'Succeeded' ? p : undefined;
      });
      const big = await eventually('the scheduler to refuse the 1000-CPU pod', 60_000, async () => {
        const p = await read('too-big');
        const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
        return c?.status === 'False' ? { pod: p, condition: c } : undefined;
      });
      expect(big.pod.spec?.nodeName).to.equal(undefined);
      expect(big.pod.status?.phase).to.equal('Pending');
      expect(big.condition.reason).to.equal('Unschedulable');
      expect(big.condition.message).to.match(/Insufficient cpu/);
      const events = await core.listNamespacedEvent({ namespace: ns.name });
      const by = (reason: string, name: string) =>
        events.items.find((e) => e.reason === reason && e.involvedObject.name === name);
      const scheduled = by('Scheduled', 'fits');
      expect([scheduled?.source?.component, scheduled?.reportingComponent]).to.include('default-scheduler');
      expect(by('FailedScheduling', 'too-big')).to.not.equal(undefined);
    } finally {
      await ns.remove();
    }
  });
});
