// Behaviour 12, second half: two replicas, one leads; kill it and the other takes over within
// about 20 s; no execution is duplicated or lost across the handover.
import { expect } from 'chai';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { clients, eventually, recorder, testNamespace } from './support.js';
import {
  callsAtLeast,
  createJob,
  executions,
  jobWhere,
  startOperator,
  untilNextMinute,
  sleep,
  type OperatorProcess,
} from './operator.js';

describe('journey: operator — leader election', function () {
  const { kc } = clients();
  const leases = kc.makeApiClient(CoordinationV1Api);
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let runtime: Awaited<ReturnType<typeof recorder>>;
  const ops: OperatorProcess[] = [];
  before(async () => {
    ns = await testNamespace('op-leader');
    runtime = await recorder();
  });
  after(async () => {
    for (const o of ops) await o.stop();
    await runtime.close();
    await ns.remove();
  });

  const holder = async () =>
    (await leases.readNamespacedLease({ name: 'qinling-jobs-operator', namespace: ns.name })).spec
      ?.holderIdentity;

  it('one replica leads; when it is killed the other takes over and no run is doubled or lost', async function () {
    this.timeout(330_000);
    ops.push(await startOperator(ns.name, runtime.url, { identity: 'replica-a' }));
    const leader = await eventually('a leader', 30_000, holder);
    expect(leader).to.equal('replica-a');
    ops.push(await startOperator(ns.name, runtime.url, { identity: 'replica-b' }));
    await (ops[1] as OperatorProcess).port();
    await sleep(5000);
    expect(await holder(), 'the second replica stands by').to.equal('replica-a');

    await createJob(ns.name, 'steady', { pattern: '* * * * *' });
    await jobWhere(ns.name, 'steady', 'a first run', 130_000, (j) => (j.status?.executions ?? 0) >= 1);
    await sleep(untilNextMinute(5)); // kill the leader just after a tick
    const killedAt = Date.now();
    (ops[0] as OperatorProcess).child.kill('SIGKILL');
    const tookOver = await eventually('replica-b to take over', 40_000, async () =>
      (await holder()) === 'replica-b' ? Date.now() : undefined,
    );
    console.log(`      handover took ${((tookOver - killedAt) / 1000).toFixed(1)}s`);
    expect(tookOver - killedAt).to.be.below(30_000);

    const before = (await jobWhere(ns.name, 'steady', 'counted', 10_000, () => true)).status?.executions ?? 0;
    await jobWhere(
      ns.name,
      'steady',
      'two more runs after the handover',
      150_000,
      (j) => (j.status?.executions ?? 0) >= before + 2,
    );
    const scheduled = (await callsAtLeast(runtime.calls, before + 2)).map((c) =>
      new Date(c.scheduled).getTime(),
    );
    expect(new Set(scheduled).size, 'no tick twice').to.equal(scheduled.length);
    for (let i = 1; i < scheduled.length; i++) {
      expect((scheduled[i] ?? 0) - (scheduled[i - 1] ?? 0), 'no tick lost').to.equal(60_000);
    }
    // Every call is counted once in status (the count may trail the last call by a moment).
    await jobWhere(
      ns.name,
      'steady',
      'every call counted',
      30_000,
      (j) => j.status?.executions === executions(runtime.calls).length,
    );
  });
});
