// The process kubelet gives a container the environment a real kubelet would: literal values,
// Secret and ConfigMap keys, downward-API fields, and `$(VAR)` expansion in args.
import { expect } from 'chai';
import { clients, eventually, recorder, restricted, testNamespace, TESTBIN } from './support.js';

describe('journey: a pod sees its environment', function () {
  const { core } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let server: Awaited<ReturnType<typeof recorder>>;
  before(async () => {
    ns = await testNamespace('env');
    server = await recorder();
  });
  after(async () => {
    await server.close();
    await ns.remove();
  });

  it('resolves env from literals, Secrets, ConfigMaps and fieldRefs', async function () {
    this.timeout(120_000);
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 's' }, stringData: { token: 'sëcret $x' } },
    });
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'c' }, data: { mode: 'fast' } },
    });
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'envy', labels: { team: 'qinling' }, annotations: { note: 'hello' } },
        spec: {
          restartPolicy: 'Never',
          securityContext: restricted.pod,
          containers: [
            {
              name: 'main',
              image: TESTBIN,
              args: ['call', `${server.url}/env`, '$(REPORT)'],
              securityContext: restricted.container,
              env: [
                { name: 'LITERAL', value: 'plain' },
                { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
                { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'c', key: 'mode' } } },
                { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'TEAM', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
                { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
                { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                {
                  name: 'REPORT',
                  value:
                    '$(LITERAL)|$(SECRET)|$(MODE)|$(NAME)|$(NS)|$(TEAM)|$(NOTE)|$(IP)|$(UNSET)|$$(LITERAL)',
                },
              ],
            },
          ],
        },
      },
    });
    const call = await eventually('the pod to report', 45_000, () => server.calls[0]);
    const pod = await core.readNamespacedPod({ name: 'envy', namespace: ns.name });
    expect(call.body).to.equal(
      `plain|sëcret $x|fast|envy|${ns.name}|qinling|hello|${pod.status?.podIP}|$(UNSET)|$(LITERAL)`,
    );
    await eventually('Succeeded', 30_000, async () => {
      const p = await core.readNamespacedPod({ name: 'envy', namespace: ns.name });
      return p.status?.phase === 'Succeeded';
    });
  });

  it('keeps a container waiting with CreateContainerConfigError until its Secret exists', async function () {
    this.timeout(60_000);
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'patient' },
        spec: {
          restartPolicy: 'Never',
          securityContext: restricted.pod,
          containers: [
            {
              name: 'main',
              image: TESTBIN,
              args: ['exit', '0'],
              securityContext: restricted.container,
              env: [{ name: 'LATER', valueFrom: { secretKeyRef: { name: 'later', key: 'k' } } }],
            },
          ],
        },
      },
    });
    const waiting = await eventually('the waiting reason', 20_000, async () => {
      const p = await core.readNamespacedPod({ name: 'patient', namespace: ns.name });
      return p.status?.containerStatuses?.[0]?.state?.waiting;
    });
    expect(waiting.reason).to.equal('CreateContainerConfigError');
    expect(waiting.message).to.contain('later');
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'later' }, stringData: { k: 'v' } },
    });
    await eventually('Succeeded once the Secret exists', 20_000, async () => {
      const p = await core.readNamespacedPod({ name: 'patient', namespace: ns.name });
      return p.status?.phase === 'Succeeded';
    });
  });
});
