// The real helm installs a chart onto the local cluster, waits for it, and uninstalls it.
import { expect } from 'chai';
import { clients, eventually, helm, repoRoot, testNamespace } from './support.js';

describe('journey: helm install and uninstall', function () {
  const { core, apps } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  before(async () => (ns = await testNamespace('helm')));
  after(async () => ns.remove());

  it('installs a chart whose Deployment becomes available, then removes everything', async function () {
    this.timeout(120_000);
    const chart = `${repoRoot}/e2e/journeys/fixtures/tiny-chart`;
    await helm(
      'install',
      'tiny',
      chart,
      '--namespace',
      ns.name,
      '--set',
      'greeting=hi there',
      '--wait',
      '--timeout',
      '90s',
    );

    const cm = await core.readNamespacedConfigMap({ name: 'tiny-greeting', namespace: ns.name });
    expect(cm.data?.greeting).to.equal('hi there');
    expect(cm.data?.kubeVersion).to.match(/^v1\.\d+\.\d+$/); // the live server's stamped version
    const dep = await apps.readNamespacedDeployment({ name: 'tiny-sleeper', namespace: ns.name });
    expect(dep.status?.availableReplicas).to.equal(1);
    const releases = JSON.parse(await helm('list', '--namespace', ns.name, '--output', 'json')) as {
      name: string;
      status: string;
    }[];
    expect(releases.map((r) => [r.name, r.status])).to.deep.equal([['tiny', 'deployed']]);

    await helm('uninstall', 'tiny', '--namespace', ns.name, '--wait', '--timeout', '60s');
    await eventually('the release objects and pods to be gone', 60_000, async () => {
      const [cms, deps, pods] = await Promise.all([
        core.listNamespacedConfigMap({
          namespace: ns.name,
          labelSelector: 'app.kubernetes.io/instance=tiny',
        }),
        apps.listNamespacedDeployment({ namespace: ns.name }),
        core.listNamespacedPod({ namespace: ns.name }),
      ]);
      return cms.items.length === 0 && deps.items.length === 0 && pods.items.length === 0;
    });
    expect(JSON.parse(await helm('list', '--namespace', ns.name, '--output', 'json'))).to.deep.equal([]);
  });
});
