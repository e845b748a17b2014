// Behaviours 1 and 2: a recurring job applied with kubectl runs on its owned CronJob at the
// time status announced, reaching the runtime once per tick with Qinling's body, byte for byte.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { clients, eventually, kubectl } from './support.js';
import { clearOfTick, executions, FUNCTION_ID, getJob, jobWhere, withOperator } from './operator.js';

describe('journey: operator — a recurring job', function () {
  const { batch, core } = clients();
  const scene = withOperator('op-recur');

  const input = [
    `{"text": "it's \\"quoted\\"", "cmd": "$(rm -rf /) && \`id\`", "cost": "$$5 \${HOME} $HOME"}`,
    'second line\twith a tab, ünïcødé ✓ and a backslash \\ at the end\\',
  ].join('\n');

  it('kubectl apply: an owned CronJob (zone, restricted pods, no retries) and a Running status', async function () {
    this.timeout(60_000);
    const manifest = `${tmpdir()}/${scene.ns}-ticker.json`;
    writeFileSync(
      manifest,
      JSON.stringify({
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: 'ticker' },
        spec: { name: 'ticker job', functionId: FUNCTION_ID, functionInput: input, pattern: '* * * * *' },
      }),
    );
    await clearOfTick(); // this journey is about runs the CronJob starts: not a tick the operator takes
    expect(await kubectl('apply', '-n', scene.ns, '-f', manifest)).to.contain(
      'qinlingjob.qinling.io/ticker created',
    );
    const job = await jobWhere(
      scene.ns,
      'ticker',
      'Running with a next execution time',
      30_000,
      (j) => j.status?.phase === 'Running' && !!j.status.nextExecutionTime,
    );
    const cj = await batch.readNamespacedCronJob({ name: 'ticker', namespace: scene.ns });
    expect(cj.metadata?.ownerReferences?.[0]).to.include({
      kind: 'QinlingJob',
      uid: job.metadata.uid,
      controller: true,
    });
    expect(cj.spec).to.include({ schedule: '* * * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Allow' });
    const jt = cj.spec?.jobTemplate.spec;
    expect(jt?.backoffLimit).to.equal(0);
    const pod = jt?.template.spec;
    expect(pod?.securityContext).to.deep.include({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.containers[0]?.securityContext).to.deep.include({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(pod?.containers[0]?.securityContext?.capabilities?.drop).to.deep.equal(['ALL']);
    expect(pod?.automountServiceAccountToken).to.equal(false);
    // The input is stored once, in the job's ConfigMap (owned, so collected with the job); the
    // template only refers to it and carries its hash.
    expect(JSON.stringify(cj.spec)).to.not.contain('ünïcødé');
    expect(pod?.containers[0]?.env?.find((e) => e.name === 'QJ_FUNCTION_INPUT')).to.deep.equal({
      name: 'QJ_FUNCTION_INPUT',
      valueFrom: { configMapKeyRef: { name: 'ticker-input', key: 'input' } },
    });
    expect(jt?.template.metadata?.annotations?.['qinling.io/input-sha256']).to.match(/^[0-9a-f]{16}$/);
    const cm = await core.readNamespacedConfigMap({ name: 'ticker-input', namespace: scene.ns });
    expect(cm.data).to.deep.equal({ input });
    expect(cm.metadata?.ownerReferences?.[0]).to.include({
      kind: 'QinlingJob',
      uid: job.metadata.uid,
      controller: true,
    });
    const printed = await kubectl('get', 'qjob', '-n', scene.ns);
    expect(printed).to.match(/ticker\s+ticker job\s+Running\s+\* \* \* \* \*\s+\d{4}-/);
  });

  it('runs at the announced time, once per tick, with the input byte for byte', async function () {
    this.timeout(200_000);
    const before = await getJob(scene.ns, 'ticker');
    const announced = before.status?.nextExecutionTime ?? '';
    const uid = before.metadata.uid;
    const first = await eventually('the first execution', 130_000, () => executions(scene.runtime.calls)[0]);
    expect(first.scheduled).to.equal(announced);
    expect(first.at.getTime()).to.be.at.least(new Date(announced).getTime());
    expect(first.body).to.deep.equal({
      function_id: FUNCTION_ID,
      function_version: 0,
      input,
      sync: false,
      description: `Created by Job ${uid}`,
    });
    expect(first.jobId).to.equal(uid);
    expect(first.key).to.equal(`${uid}/${announced}`);
    const runs = await batch.listNamespacedJob({ namespace: scene.ns });
    const run = runs.items.find(
      (j) => j.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'],
    );
    expect(
      new Date(
        run?.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? 0,
      ).toISOString(),
    ).to.equal(announced);

    const next = (
      await jobWhere(
        scene.ns,
        'ticker',
        'the next tick announced',
        30_000,
        (j) => j.status?.nextExecutionTime !== announced,
      )
    ).status?.nextExecutionTime;
    expect(new Date(next ?? 0).getTime() - new Date(announced).getTime()).to.equal(60_000);
    await eventually('the second execution', 90_000, () => executions(scene.runtime.calls).length >= 2);
    const calls = executions(scene.runtime.calls);
    expect(calls.map((c) => c.scheduled).slice(0, 2)).to.deep.equal([announced, next]);
    expect(new Set(calls.map((c) => c.key)).size).to.equal(calls.length); // never twice for one tick
    const done = await jobWhere(
      scene.ns,
      'ticker',
      'two executions counted',
      30_000,
      (j) => (j.status?.executions ?? 0) >= 2,
    );
    expect(done.status?.lastExecution?.result).to.be.oneOf(['Running', 'Succeeded']);
  });
});
