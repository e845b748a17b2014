// A failing container with backoffLimit 0: one pod, the Job Failed, the exit code visible.
import { expect } from 'chai';
import { clients, eventually, restricted, testNamespace, TESTBIN } from './support.js';

describe('journey: a failing Job', function () {
  const { core, batch } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  before(async () => (ns = await testNamespace('fail')));
  after(async () => ns.remove());

  it('is Failed after one attempt, with the exit code on the pod', async function () {
    this.timeout(90_000);
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: {
        metadata: { name: 'boom' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              securityContext: restricted.pod,
              containers: [
                { name: 'main', image: TESTBIN, args: ['exit', '7'], securityContext: restricted.container },
              ],
            },
          },
        },
      },
    });
    const job = await eventually('the Job to fail', 60_000, async () => {
      const j = await batch.readNamespacedJob({ name: 'boom', namespace: ns.name });
      return j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
    });
    expect(job.status?.failed).to.equal(1);
    expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).to.equal('BackoffLimitExceeded');

    const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'job-name=boom' });
    expect(pods.items).to.have.length(1);
    const pod = pods.items[0];
    expect(pod?.status?.phase).to.equal('Failed');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).to.equal(7);
    expect(terminated?.reason).to.equal('Error');
  });
});
