// Control loops that survive the cluster (issue 11): the apiserver restarted, then etcd stopped
// for 30 s, while jobs run. The operator and the facade recover on their own (same processes, no
// crash loop), `/readyz` is false while their caches are not kept current and true after, and
// no run is doubled or lost unseen: each tick of the window either reached the runtime or is
// reported missed, a counted job still ends with exactly its count. Serial: it stops the cluster.
import { expect } from 'chai';
import { clusterComponent, eventually } from '../support.js';
import { labelProject, startFacade, type Facade } from '../facade.js';
import { clearOfTick, createJob, executions, getJob, jobWhere, sleep, withOperator } from '../operator.js';

const ready = async (url: string) => (await fetch(url).catch(() => undefined))?.status === 200;

describe('journey: serial — the apiserver restarted and etcd away for 30 s', function () {
  const scene = withOperator('cp-away');
  let facade: Facade | undefined;
  after(async () => {
    await clusterComponent('start', 'etcd');
    await clusterComponent('start', 'kube-apiserver');
    facade?.stop();
  });

  it('both components recover by themselves; no run doubled or lost unseen', async function () {
    this.timeout(900_000);
    const project = `proj-cp-${Math.random().toString(36).slice(2, 8)}`;
    await labelProject(scene.ns, project);
    facade = await startFacade(scene.ns, `tok,alice,${project},member\n`, ['--create-namespaces=false']);
    const opReady = `http://127.0.0.1:${await scene.op.port()}/readyz`;
    const apiReady = `${facade.url}/readyz`;
    await clearOfTick();
    await createJob(scene.ns, 'minutely', { pattern: '* * * * *' });
    await createJob(scene.ns, 'thrice', { pattern: '* * * * *', count: 3 });
    const from = Math.ceil(Date.now() / 60_000) * 60_000;
    await eventually('a first run', 100_000, () => executions(scene.runtime.calls).length >= 2);

    await clusterComponent('stop', 'kube-apiserver');
    await eventually('operator /readyz false', 60_000, async () => !(await ready(opReady)));
    await eventually('facade /readyz false', 60_000, async () => !(await ready(apiReady)));
    await sleep(5_000);
    await clusterComponent('start', 'kube-apiserver');
    await eventually('operator /readyz true', 90_000, () => ready(opReady));
    await eventually('facade /readyz true', 90_000, () => ready(apiReady));

    await clusterComponent('stop', 'etcd');
    await sleep(30_000);
    await clusterComponent('start', 'etcd');
    await eventually('operator /readyz true after etcd', 120_000, () => ready(opReady));
    await eventually('facade /readyz true after etcd', 120_000, () => ready(apiReady));
    expect(scene.op.child.exitCode, 'the operator process lives on').to.equal(null);
    expect(facade.process.exitCode, 'the facade process lives on').to.equal(null);

    const done = await jobWhere(scene.ns, 'thrice', 'Done', 300_000, (j) => j.status?.phase === 'Done');
    expect(done.status?.executions).to.equal(3);
    await sleep(30_000); // the last Job's call follows its count a moment later
    const until = Date.now() - 60_000; // ticks old enough to be settled
    const minutely = await getJob(scene.ns, 'minutely');
    const mine = (uid: string) => executions(scene.runtime.calls).filter((c) => c.jobId === uid);
    const called = mine(minutely.metadata.uid).map((c) => c.scheduled);
    expect(new Set(called).size, 'no tick called twice').to.equal(called.length);
    const missed = new Set(minutely.status?.recentMisses ?? []);
    const unseen: string[] = [];
    for (let t = from; t <= until; t += 60_000) {
      const iso = new Date(t).toISOString();
      if (!called.includes(iso) && !missed.has(iso)) unseen.push(iso);
      expect(called.includes(iso) && missed.has(iso), `${iso} both called and missed`).to.equal(false);
    }
    expect(unseen, 'ticks neither called nor reported missed').to.deep.equal([]);
    const thrice = mine(done.metadata.uid);
    expect(thrice.length).to.equal(3);
    expect(new Set(thrice.map((c) => c.key)).size).to.equal(3);
    console.log(`      (minutely: ${called.length} calls, ${missed.size} reported missed)`);
  });
});
