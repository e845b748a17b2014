// A pod acts as its ServiceAccount: without a Role the apiserver says 403, with one it answers.
import { expect } from 'chai';
import { clients, eventually, restricted, testNamespace, TESTBIN } from './support.js';

describe('journey: pods are subject to RBAC as their ServiceAccount', function () {
  const { core, batch, rbac } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  before(async () => (ns = await testNamespace('rbac')));
  after(async () => ns.remove());

  async function runAs(serviceAccountName: string) {
    const name = `get-as-${serviceAccountName}`;
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              serviceAccountName,
              securityContext: restricted.pod,
              containers: [
                {
                  name: 'main',
                  image: TESTBIN,
                  args: ['kube-get', `/api/v1/namespaces/${ns.name}/configmaps`],
                  securityContext: restricted.container,
                },
              ],
            },
          },
        },
      },
    });
    return eventually(`job ${name} to finish`, 60_000, async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: `job-name=${name}` });
      const pod = pods.items[0];
      const phase = pod?.status?.phase;
      return phase === 'Succeeded' || phase === 'Failed' ? pod : undefined;
    });
  }

  it('a ServiceAccount without permissions gets 403 from inside its pod', async function () {
    this.timeout(90_000);
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'nobody' } } });
    const pod = await runAs('nobody');
    expect(pod.status?.phase).to.equal('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).to.equal(3); // testbin: 403
  });

  it('a ServiceAccount bound to a Role succeeds', async function () {
    this.timeout(90_000);
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'reader' } } });
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns.name }],
      },
    });
    const pod = await runAs('reader');
    expect(pod.status?.phase).to.equal('Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).to.equal(0);
  });
});
