// A CronJob fires on the real controller's clock, its pod calls out, the Job completes, the
// CronJob records it; deleting the CronJob collects its Jobs and Pods.
import { expect } from 'chai';
import { clients, eventually, recorder, restricted, testNamespace, TESTBIN } from './support.js';

describe('journey: a CronJob on the local control plane', function () {
  const { core, batch } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let server: Awaited<ReturnType<typeof recorder>>;

  before(async () => {
    ns = await testNamespace('cron');
    server = await recorder();
  });
  after(async () => {
    await server.close();
    await ns.remove();
  });

  it('fires on the minute, calls the test server, completes and records lastSuccessfulTime', async function () {
    this.timeout(180_000);
    await batch.createNamespacedCronJob({
      namespace: ns.name,
      body: {
        metadata: { name: 'tick' },
        spec: {
          schedule: '* * * * *',
          timeZone: 'Etc/UTC',
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                spec: {
                  restartPolicy: 'Never',
                  securityContext: restricted.pod,
                  containers: [
                    {
                      name: 'call',
                      image: TESTBIN,
                      args: ['call', `${server.url}/tick`, '{"from":"cronjob"}'],
                      securityContext: restricted.container,
                    },
                  ],
                },
              },
            },
          },
        },
      },
    });
    const call = await eventually('the pod to call the test server', 150_000, () => server.calls[0]);
    expect(call.method).to.equal('POST');
    expect(call.url).to.equal('/tick');
    expect(JSON.parse(call.body)).to.deep.equal({ from: 'cronjob' });
    expect(call.headers['x-pod-name']).to.match(/^tick-\d+-[a-z0-9]{5}$/);

    const job = await eventually('a Complete Job', 60_000, async () => {
      const jobs = await batch.listNamespacedJob({ namespace: ns.name });
      return jobs.items.find((j) =>
        j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'),
      );
    });
    expect(job.metadata?.ownerReferences?.[0]).to.include({
      kind: 'CronJob',
      name: 'tick',
      controller: true,
    });
    expect(job.status?.succeeded).to.equal(1);
    // The controller names a scheduled Job after its scheduled minute.
    const scheduledMinute = Number(job.metadata?.name?.split('-')[1]);
    expect(scheduledMinute * 60_000).to.be.at.most(call.at.getTime());

    const cj = await eventually('lastSuccessfulTime', 30_000, async () => {
      const c = await batch.readNamespacedCronJob({ name: 'tick', namespace: ns.name });
      return c.status?.lastSuccessfulTime ? c : undefined;
    });
    // The controller records the latest successful Job's completion time (a later tick may
    // have completed by now too) and the latest scheduled time.
    const completed = (await batch.listNamespacedJob({ namespace: ns.name })).items
      .map((j) => j.status?.completionTime?.toISOString())
      .filter((t) => t !== undefined);
    expect(completed).to.include(cj.status?.lastSuccessfulTime?.toISOString());
    expect(cj.status?.lastScheduleTime?.getTime()).to.be.at.least(scheduledMinute * 60_000);
  });

  it('deleting the CronJob garbage-collects its Jobs and Pods', async function () {
    this.timeout(60_000);
    const jobs = await batch.listNamespacedJob({ namespace: ns.name });
    const pods = await core.listNamespacedPod({ namespace: ns.name });
    expect(jobs.items).to.not.be.empty;
    expect(pods.items).to.not.be.empty;
    await batch.deleteNamespacedCronJob({
      name: 'tick',
      namespace: ns.name,
      propagationPolicy: 'Background',
    });
    await eventually('Jobs and Pods to be collected', 50_000, async () => {
      const [j, p] = await Promise.all([
        batch.listNamespacedJob({ namespace: ns.name }),
        core.listNamespacedPod({ namespace: ns.name }),
      ]);
      return j.items.length === 0 && p.items.length === 0;
    });
  });
});
