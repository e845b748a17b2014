// Behaviour 13: the managed CronJob is restored when edited or deleted; a same-named CronJob
// the operator does not own is neither adopted nor overwritten, and a condition says so.
import { expect } from 'chai';
import { clients, eventually } from './support.js';
import { createJob, jobWhere, withOperator } from './operator.js';

describe('journey: operator — the CronJob it owns, and one it does not', function () {
  const { batch } = clients();
  const scene = withOperator('op-owned');

  it('restores an edited or deleted CronJob', async function () {
    this.timeout(60_000);
    await createJob(scene.ns, 'kept', { pattern: '0 3 * * *', functionInput: 'keep me' });
    const cj = await eventually('the CronJob', 20_000, () =>
      batch.readNamespacedCronJob({ name: 'kept', namespace: scene.ns }),
    );
    const original = cj.metadata?.uid;
    await batch.patchNamespacedCronJob(
      {
        name: 'kept',
        namespace: scene.ns,
        body: [
          { op: 'replace', path: '/spec/schedule', value: '* * * * *' },
          {
            op: 'replace',
            path: '/spec/jobTemplate/spec/template/spec/containers/0/image',
            value: 'evil:latest',
          },
        ],
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/json-patch+json',
      ),
    );
    await eventually('the edit undone', 20_000, async () => {
      const c = await batch.readNamespacedCronJob({ name: 'kept', namespace: scene.ns });
      return (
        c.spec?.schedule === '0 3 * * *' &&
        c.spec.jobTemplate.spec?.template.spec?.containers[0]?.image !== 'evil:latest'
      );
    });
    await batch.deleteNamespacedCronJob({ name: 'kept', namespace: scene.ns });
    const back = await eventually('the CronJob recreated', 20_000, async () => {
      const c = await batch.readNamespacedCronJob({ name: 'kept', namespace: scene.ns });
      return c.metadata?.uid !== original ? c : undefined;
    });
    expect(back.spec?.schedule).to.equal('0 3 * * *');
  });

  it('leaves a same-named CronJob it does not own alone, and says so', async function () {
    this.timeout(60_000);
    const theirs = await batch.createNamespacedCronJob({
      namespace: scene.ns,
      body: {
        metadata: { name: 'taken', labels: { owner: 'someone-else' } },
        spec: {
          schedule: '0 0 1 1 *',
          suspend: true,
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [{ name: 'x', image: 'busybox:1.36', command: ['true'] }],
                },
              },
            },
          },
        },
      },
    });
    await createJob(scene.ns, 'taken', { pattern: '* * * * *' });
    const j = await jobWhere(
      scene.ns,
      'taken',
      'Ready=False',
      20_000,
      (x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False') ?? false,
    );
    const ready = j.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.reason).to.equal('NameConflict');
    expect(ready?.message).to.contain('not owned by this job');
    const after = await batch.readNamespacedCronJob({ name: 'taken', namespace: scene.ns });
    expect(after.metadata?.resourceVersion).to.equal(theirs.metadata?.resourceVersion);
    expect(after.metadata?.ownerReferences ?? []).to.deep.equal([]);
  });
});
