// Behaviour 12, first half: the operator is SIGKILLed during a burst of 200 creates; after a
// restart every job has exactly one CronJob and a correct status.
import { expect } from 'chai';
import { clients, eventually, recorder, testNamespace } from './support.js';
import { createJob, startOperator, type OperatorProcess } from './operator.js';
import type { QinlingJob } from '../../domain/types.js';
import { CustomObjectsApi } from '@kubernetes/client-node';

describe('journey: operator — killed during a burst of creates', function () {
  const { batch, kc } = clients();
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let runtime: Awaited<ReturnType<typeof recorder>>;
  let op: OperatorProcess | undefined;
  before(async () => {
    ns = await testNamespace('op-crash');
    runtime = await recorder();
  });
  after(async () => {
    await op?.stop();
    await runtime.close();
    await ns.remove();
  });

  it('converges after a restart: one CronJob per job, every status written', async function () {
    this.timeout(240_000);
    const N = 200;
    op = await startOperator(ns.name, runtime.url, { identity: 'first' });
    await op.port();
    let created = 0;
    const names = Array.from({ length: N }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
    const creating = (async () => {
      for (let i = 0; i < N; i += 10) {
        await Promise.all(names.slice(i, i + 10).map((n) => createJob(ns.name, n, { pattern: '0 0 1 1 *' })));
        created += 10;
      }
    })();
    await eventually('a third of the burst', 60_000, () => created >= N / 3, 20);
    op.child.kill('SIGKILL');
    await op.exited;
    await creating;
    const cjsBefore = (await batch.listNamespacedCronJob({ namespace: ns.name })).items.length;
    op = await startOperator(ns.name, runtime.url, { identity: 'second' });

    const custom = kc.makeApiClient(CustomObjectsApi);
    await eventually(
      `all ${N} statuses written`,
      150_000,
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          group: 'qinling.io',
          version: 'v1',
          namespace: ns.name,
          plural: 'qinlingjobs',
        })) as {
          items: QinlingJob[];
        };
        return (
          list.items.length === N &&
          list.items.every(
            (j) =>
              j.status?.phase === 'Running' &&
              j.status.nextExecutionTime === `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`,
          )
        );
      },
      1000,
    );
    const cjs = (await batch.listNamespacedCronJob({ namespace: ns.name })).items;
    expect(cjs).to.have.length(N);
    const owners = cjs.map((c) => c.metadata?.ownerReferences?.[0]?.name);
    expect(new Set(owners).size).to.equal(N);
    expect([...owners].sort()).to.deep.equal(names);
    expect(cjsBefore, 'the kill happened mid-burst').to.be.below(N);
  });
});
