// Count truth (issue 10): `count: 2` on every minute with the operator away across three or more
// ticks, once before the first run and once between the runs. A late run is acceptable and
// reported; an extra one never is: exactly two calls, each with its own Idempotency-Key, Done.
import { expect } from 'chai';
import { clients, eventually, recorder, testNamespace } from './support.js';
import {
  callsAtLeast,
  clearOfTick,
  createJob,
  executions,
  jobWhere,
  sleep,
  startOperator,
  type OperatorProcess,
} from './operator.js';

function awayScene(prefix: string) {
  const scene = {} as { ns: string; runtime: Awaited<ReturnType<typeof recorder>>; op: OperatorProcess };
  let ns: Awaited<ReturnType<typeof testNamespace>> | undefined;
  before(async () => {
    ns = await testNamespace(prefix);
    scene.ns = ns.name;
    scene.runtime = await recorder();
    scene.op = await startOperator(ns.name, scene.runtime.url, { identity: 'first' });
    await scene.op.port();
  });
  after(async () => {
    await scene.op?.stop();
    await scene.runtime?.close();
    await ns?.remove();
  });
  return scene;
}

async function awayThenBack(scene: ReturnType<typeof awayScene>, awayMs: number): Promise<void> {
  await scene.op.stop('SIGKILL'); // no goodbye: as a crash, a node lost or a leader gone
  await sleep(awayMs);
  scene.op = await startOperator(scene.ns, scene.runtime.url, { identity: 'second' });
  await scene.op.port();
}

async function expectExactlyTwo(scene: ReturnType<typeof awayScene>): Promise<void> {
  const done = await jobWhere(scene.ns, 'twice', 'Done', 240_000, (j) => j.status?.phase === 'Done');
  expect(done.status?.executions).to.equal(2);
  expect(done.status?.remaining).to.equal(0);
  expect(done.status?.missedRuns ?? 0).to.be.at.least(2);
  const calls = await callsAtLeast(scene.runtime.calls, 2, 60_000);
  await sleep(70_000); // past another tick: nothing more may come
  const all = executions(scene.runtime.calls);
  expect(all, JSON.stringify(calls)).to.have.length(2);
  expect(new Set(all.map((c) => c.key)).size).to.equal(2);
  const jobs = await clients().batch.listNamespacedJob({ namespace: scene.ns });
  expect(jobs.items.length).to.equal(2);
}

describe('journey: operator — count with the operator away before the first run', function () {
  const scene = awayScene('op-away1');
  it('runs exactly twice, late, and reports the ticks it missed', async function () {
    this.timeout(600_000);
    await clearOfTick(50_000); // gone before the first run is made (30 s early)
    await createJob(scene.ns, 'twice', { pattern: '* * * * *', count: 2 });
    const held = await eventually('the suspended CronJob', 20_000, async () => {
      const cj = await clients()
        .batch.readNamespacedCronJob({ name: 'twice', namespace: scene.ns })
        .catch(() => undefined);
      return cj?.spec?.suspend === true ? cj : undefined;
    });
    expect(held.spec?.schedule).to.equal('* * * * *');
    await awayThenBack(scene, 190_000); // three or more ticks
    expect(executions(scene.runtime.calls)).to.have.length(0);
    await expectExactlyTwo(scene);
  });
});

describe('journey: operator — count with the operator away between the runs', function () {
  const scene = awayScene('op-away2');
  it('runs exactly twice, the second late, and reports the ticks it missed', async function () {
    this.timeout(600_000);
    await clearOfTick();
    await createJob(scene.ns, 'twice', { pattern: '* * * * *', count: 2 });
    await callsAtLeast(scene.runtime.calls, 1, 90_000);
    await jobWhere(scene.ns, 'twice', 'first run counted', 30_000, (j) => j.status?.executions === 1);
    await awayThenBack(scene, 190_000);
    await expectExactlyTwo(scene);
  });
});
