// Behaviour 10: the runtime answers 500, hangs, or refuses the connection: the run fails once
// (no retries), status.lastExecution says how, and a Warning Event says why.
import { expect } from 'chai';
import { createServer } from 'node:net';
import { clients, eventually, recorder, testNamespace } from './support.js';
import { createJob, executions, jobWhere, sleep, startOperator, type OperatorProcess } from './operator.js';

async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 1}`;
}

describe('journey: operator — runtime failures', function () {
  const { core, batch } = clients();
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function scenario(prefix: string, runtimeUrl: string) {
    const ns = await testNamespace(prefix);
    const op: OperatorProcess = await startOperator(ns.name, runtimeUrl, {
      args: ['--invoke-timeout-seconds=3'],
    });
    cleanup.push(
      () => ns.remove(),
      () => op.stop(),
    );
    await createJob(ns.name, 'call', { firstExecutionTime: new Date(Date.now() + 5000).toISOString() });
    const j = await jobWhere(
      ns.name,
      'call',
      'a failed run',
      90_000,
      (x) => x.status?.lastExecution?.result === 'Failed',
    );
    const events = await eventually('a RunFailed event', 20_000, async () => {
      const list = await core.listNamespacedEvent({ namespace: ns.name, fieldSelector: 'reason=RunFailed' });
      return list.items.length > 0 ? list.items : undefined;
    });
    const jobs = await batch.listNamespacedJob({ namespace: ns.name });
    return { ns: ns.name, job: j, events, jobs: jobs.items };
  }

  it('a 500 answer: one call, failed, and says HTTP 500', async function () {
    this.timeout(120_000);
    const runtime = await recorder(500);
    cleanup.push(() => runtime.close());
    const r = await scenario('op-fail500', runtime.url);
    expect(r.job.status?.lastExecution?.message).to.contain('runtime answered HTTP 500');
    expect(r.events[0]?.type).to.equal('Warning');
    expect(r.events[0]?.message).to.contain('HTTP 500');
    expect(r.jobs).to.have.length(1);
    expect(r.jobs[0]?.status?.failed).to.equal(1); // backoffLimit 0: one pod, no retry
    await sleep(10_000);
    expect(executions(runtime.calls)).to.have.length(1);
  });

  it('a hanging runtime: the call times out once', async function () {
    this.timeout(120_000);
    const runtime = await recorder();
    runtime.answer.hang = true;
    cleanup.push(() => runtime.close());
    const r = await scenario('op-failhang', runtime.url);
    expect(r.job.status?.lastExecution?.message).to.contain('did not answer within 3s');
    expect(r.events[0]?.message).to.contain('did not answer');
    await sleep(10_000);
    expect(executions(runtime.calls)).to.have.length(1);
  });

  it('a refused connection: failed, and says so', async function () {
    this.timeout(120_000);
    const r = await scenario('op-failconn', await closedPortUrl());
    expect(r.job.status?.lastExecution?.message).to.contain('ECONNREFUSED');
    expect(r.jobs).to.have.length(1);
    expect(r.jobs[0]?.status?.failed).to.equal(1);
  });
});
