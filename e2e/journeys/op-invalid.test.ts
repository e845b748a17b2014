// Behaviour 11: what the CRD can refuse, kubectl users get refused at once; what only the
// operator can judge becomes Valid=False and an Event, with no CronJob and no crash loop.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { clients, clusterDir, eventually } from './support.js';
import { createJob, FUNCTION_ID, jobWhere, patchSpec, withOperator } from './operator.js';

const run = promisify(execFile);

describe('journey: operator — invalid jobs', function () {
  const { batch, core } = clients();
  const scene = withOperator('op-invalid');

  async function applyExpectingRefusal(spec: object): Promise<string> {
    const file = `${tmpdir()}/${scene.ns}-${Math.random().toString(36).slice(2)}.json`;
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: 'refused' },
        spec,
      }),
    );
    try {
      await run(`${clusterDir}/bin/kubectl`, [
        '--kubeconfig',
        `${clusterDir}/kubeconfig`,
        'apply',
        '-n',
        scene.ns,
        '-f',
        file,
      ]);
    } catch (err) {
      return (err as { stderr: string }).stderr;
    }
    throw new Error('kubectl apply was accepted');
  }

  it('kubectl apply is refused by the CRD where a schema can say why', async function () {
    this.timeout(30_000);
    const cases: [object, string][] = [
      [{ functionId: FUNCTION_ID }, 'pattern or first_execution_time must be specified.'],
      [{ pattern: '* * * * *' }, 'Either function_alias or function_id must be provided.'],
      [
        { functionId: FUNCTION_ID, firstExecutionTime: '2030-01-01T00:00:00Z', count: 3 },
        'pattern must be provided if count is greater than 1.',
      ],
      [
        { functionId: FUNCTION_ID, pattern: '* * * * *', count: 0 },
        'spec.count in body should be greater than or equal to 1',
      ],
      [{ functionId: 'not-a-uuid', pattern: '* * * * *' }, 'spec.functionId in body must be of type uuid'],
      [
        { functionId: FUNCTION_ID, firstExecutionTime: 'tomorrow' },
        'spec.firstExecutionTime in body must be of type date-time',
      ],
    ];
    for (const [spec, message] of cases) expect(await applyExpectingRefusal(spec)).to.contain(message);
  });

  it('a pattern only the operator can judge: Valid=False, an Event, no CronJob, and the operator carries on', async function () {
    this.timeout(60_000);
    const bad: [string, string][] = [
      ['feb30', '0 0 30 2 *'],
      ['every', '@every 1m'],
      ['seconds', '*/10 * * * * *'],
    ];
    for (const [name, pattern] of bad) await createJob(scene.ns, name, { pattern });
    for (const [name, pattern] of bad) {
      const j = await jobWhere(
        scene.ns,
        name,
        'Valid=False',
        20_000,
        (x) => x.status?.conditions?.some((c) => c.type === 'Valid' && c.status === 'False') ?? false,
      );
      expect(j.status?.phase).to.equal('Failed');
      expect(j.status?.conditions?.find((c) => c.type === 'Valid')?.message).to.contain(
        `The specified pattern is not valid: ${pattern}`,
      );
    }
    const events = await eventually('InvalidSpec events', 20_000, async () => {
      const list = await core.listNamespacedEvent({
        namespace: scene.ns,
        fieldSelector: 'reason=InvalidSpec',
      });
      return list.items.length >= 3 ? list.items : undefined;
    });
    expect(events.map((e) => e.involvedObject.name).sort()).to.deep.equal(['every', 'feb30', 'seconds']);
    const cronJobs = await batch.listNamespacedCronJob({ namespace: scene.ns });
    expect(cronJobs.items).to.deep.equal([]);

    // Still alive and healthy, and serving other jobs.
    expect(scene.op.child.exitCode).to.equal(null);
    const health = await fetch(`http://127.0.0.1:${await scene.op.port()}/healthz`);
    expect(health.status).to.equal(200);
    await createJob(scene.ns, 'fine', { pattern: '0 0 * * *' });
    await jobWhere(scene.ns, 'fine', 'Running', 20_000, (x) => x.status?.phase === 'Running');
    // And a fixed spec recovers.
    await patchSpec(scene.ns, 'feb30', { pattern: '0 0 28 2 *' });
    const fixed = await jobWhere(
      scene.ns,
      'feb30',
      'Running once fixed',
      20_000,
      (x) => x.status?.phase === 'Running',
    );
    expect(fixed.status?.nextExecutionTime).to.match(/-02-28T00:00:00/);
  });
});
