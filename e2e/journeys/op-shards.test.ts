// Issue 13, beyond one machine (docs/scaling.md): operators shard by namespace list
// (`--namespaces`, the chart's operator.watchNamespaces), each with a Lease of its own. Two shards
// lead at once, each converges its own namespace's jobs only, and one shard away holds up no
// job of the other's; back, it takes up what was made while it was away.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { clients, eventually } from './support.js';
import { createJob, jobWhere, sleep, startOperator, withOperator, type OperatorScene } from './operator.js';

describe('journey: operator — two shards, one namespace each', function () {
  const { kc, batch } = clients();
  const leases = kc.makeApiClient(CoordinationV1Api);
  const a = withOperator('op-shard-a');
  const b = withOperator('op-shard-b');
  const YEARLY = { pattern: '0 0 1 1 *' }; // nothing falls due while the journey runs

  const leader = (s: OperatorScene) =>
    eventually(`the leader of ${s.ns}`, 30_000, async () => {
      const l = await leases.readNamespacedLease({ name: 'qinling-jobs-operator', namespace: s.ns });
      return l.spec?.holderIdentity;
    });
  /** The job's CronJob made and its status written, by whichever shard serves its namespace. */
  const converged = async (s: OperatorScene, name: string, timeoutMs = 30_000) => {
    await jobWhere(s.ns, name, 'Running', timeoutMs, (j) => !!j.status?.nextExecutionTime);
    return batch.readNamespacedCronJob({ name, namespace: s.ns });
  };
  const logOf = (s: OperatorScene) => readFileSync(s.op.logFile, 'utf8');

  it('each shard leads and converges its own jobs only; one away holds up none of the other’s', async function () {
    this.timeout(240_000);
    expect(await leader(a)).to.equal('op-1');
    expect(await leader(b)).to.equal('op-1');
    await Promise.all([createJob(a.ns, 'first', YEARLY), createJob(b.ns, 'first', YEARLY)]);
    const [cjA, cjB] = await Promise.all([converged(a, 'first'), converged(b, 'first')]);
    expect(cjA.metadata?.ownerReferences?.[0]?.name).to.equal('first');
    expect(cjB.metadata?.ownerReferences?.[0]?.name).to.equal('first');
    // Each shard wrote in its own namespace only (its ServiceAccount could not do otherwise).
    expect(logOf(a)).to.contain(`"namespace":"${a.ns}"`).and.not.contain(b.ns);
    expect(logOf(b)).to.contain(`"namespace":"${b.ns}"`).and.not.contain(a.ns);

    // Shard A away: B's new job converges as before; A's waits for its own shard.
    await a.op.stop();
    await Promise.all([createJob(a.ns, 'second', YEARLY), createJob(b.ns, 'second', YEARLY)]);
    await converged(b, 'second');
    await sleep(5_000);
    const waiting = await jobWhere(a.ns, 'second', 'made', 5_000, () => true);
    expect(waiting.status, 'no shard but A serves A’s namespace').to.equal(undefined);

    // Back: A takes up what was made while it was away.
    a.op = await startOperator(a.ns, a.runtime.url, { identity: 'op-2' });
    expect(
      await eventually('op-2 to lead A', 60_000, async () =>
        (await leader(a)) === 'op-2' ? true : undefined,
      ),
    ).to.equal(true);
    await converged(a, 'second', 60_000);
    expect(readFileSync(a.op.logFile, 'utf8')).to.not.contain(b.ns);
  });
});
