// A Deployment's pod runs as a local process, gets its own address into an EndpointSlice, answers
// there, and is started again when its process dies.
import { expect } from 'chai';
import { clients, eventually, restricted, testNamespace, TESTBIN } from './support.js';

describe('journey: a Deployment behind a Service', function () {
  const { core, apps, kc } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  before(async () => (ns = await testNamespace('deploy')));
  after(async () => ns.remove());

  it('runs, is published in an EndpointSlice, and restarts when its process dies', async function () {
    this.timeout(240_000);
    const labels = { app: 'web' };
    await core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'web' },
        spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              securityContext: restricted.pod,
              containers: [
                {
                  name: 'web',
                  image: TESTBIN,
                  args: ['serve', '8080'],
                  ports: [{ containerPort: 8080 }],
                  // Ready means answering, not merely started: under 16 parallel journeys on 2
                  // cores a Node process takes seconds to listen.
                  readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                  securityContext: restricted.container,
                },
              ],
            },
          },
        },
      },
    });
    const pod = await eventually('a Ready pod', 60_000, async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=web' });
      return pods.items.find((p) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
    });
    const podIP = pod.status?.podIP ?? '';
    expect(podIP).to.match(/^10\.244\.\d+\.\d+$/); // not loopback: EndpointSlices refuse that

    const { DiscoveryV1Api } = await import('@kubernetes/client-node');
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    await eventually('the pod address in the EndpointSlice', 30_000, async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: ns.name,
        labelSelector: 'kubernetes.io/service-name=web',
      });
      const eps = slices.items.flatMap((s) => s.endpoints ?? []);
      return eps.some((e) => e.addresses.includes(podIP) && e.conditions?.ready === true);
    });
    const first = (await eventually('an answer', 30_000, async () =>
      (await fetch(`http://${podIP}:8080/`)).json(),
    )) as { pod: string; pid: number };
    expect(first.pod).to.equal(pod.metadata?.name);

    process.kill(first.pid, 'SIGKILL');
    const restarted = await eventually('restartCount 1 and running', 30_000, async () => {
      const p = await core.readNamespacedPod({ name: pod.metadata?.name ?? '', namespace: ns.name });
      const cs = p.status?.containerStatuses?.[0];
      return cs?.restartCount === 1 && cs.state?.running ? cs : undefined;
    });
    expect(restarted.lastState?.terminated?.exitCode).to.equal(137);
    const second = (await eventually('an answer after the restart', 60_000, async () =>
      (await fetch(`http://${podIP}:8080/`)).json(),
    )) as { pod: string; pid: number };
    expect(second.pod).to.equal(pod.metadata?.name);
    expect(second.pid).to.not.equal(first.pid);
  });
});
