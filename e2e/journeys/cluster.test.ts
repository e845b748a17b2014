// The local control plane is real Kubernetes: stamped versions that match, the APIs the product
// needs, and a Ready node that keeps its Lease fresh.
import { expect } from 'chai';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { clients, eventually, kubectl } from './support.js';

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
});
