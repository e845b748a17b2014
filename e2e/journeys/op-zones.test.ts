// Time truth on the real control plane (issue 10): jobs in zones with DST (and half- and
// quarter-hour offsets). (a) Patterns near a DST transition: status.nextExecutionTime is what
// robfig/cron (the controller's parser, the crondiff binary) says for the same instant. (b) A
// pattern that fires at the next minute in each zone: the CronJob controller fires it at exactly
// the time status announced, and the runtime is called for that time.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './support.js';
import { callsAtLeast, createJob, jobWhere, untilNextMinute, sleep, withOperator } from './operator.js';

const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/Santiago',
];

/** robfig's next tick after `from`, as the CronJob controller computes it. */
function robfigNext(cases: { pattern: string; zone: string; from: number }[]): (number | undefined)[] {
  const bin =
    execFileSync('bash', [`${repoRoot}/e2e/crondiff/build.sh`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1) ?? '';
  const env = { ...process.env };
  delete env.ZONEINFO;
  const out = execFileSync(bin, {
    input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n',
    encoding: 'utf8',
    env,
  });
  return out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { next?: number }).next);
}

/** The pattern that fires at `at` (a whole minute) in `zone`: its local minute and hour. */
function patternAt(at: Date, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: 'numeric',
    minute: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return `${get('minute')} ${get('hour')} * * *`;
}

describe('journey: operator — jobs in DST zones', function () {
  const scene = withOperator('op-zones');

  it('near transitions: the status is robfig’s next tick (what the CronJob controller fires)', async function () {
    this.timeout(120_000);
    const near = [
      ['30 2 * * *', 'Europe/Berlin'],
      ['30 1 * * *', 'America/New_York'],
      ['0 0 * * *', 'America/Santiago'],
      ['0 0 * * *', 'America/Havana'],
      ['0 12 * * *', 'Australia/Lord_Howe'],
      ['15 2 * 3,10 0', 'Europe/London'],
    ] as const;
    const made = await Promise.all(
      near.map(([pattern, timeZone], i) => createJob(scene.ns, `near-${i}`, { pattern, timeZone })),
    );
    const jobs = await Promise.all(
      made.map((m) =>
        jobWhere(scene.ns, m.metadata.name, 'planned', 30_000, (j) => !!j.status?.nextExecutionTime),
      ),
    );
    const want = robfigNext(
      jobs.map((j) => ({
        pattern: j.spec.pattern ?? '',
        zone: j.spec.timeZone ?? '',
        from: new Date(j.metadata.creationTimestamp ?? '').getTime(),
      })),
    );
    const got = jobs.map((j) => new Date(j.status?.nextExecutionTime ?? '').getTime());
    expect(got).to.deep.equal(want);
  });

  it('at the next minute in each zone: fired exactly when the status said', async function () {
    this.timeout(200_000);
    if (untilNextMinute() < 25_000) await sleep(untilNextMinute() + 1000);
    const at = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
    const made = await Promise.all(
      ZONES.map((timeZone, i) =>
        createJob(scene.ns, `zone-${i}`, { pattern: patternAt(at, timeZone), timeZone }),
      ),
    );
    for (const m of made) {
      const j = await jobWhere(
        scene.ns,
        m.metadata.name,
        'planned',
        20_000,
        (x) => !!x.status?.nextExecutionTime,
      );
      expect(j.status?.nextExecutionTime, j.spec.timeZone).to.equal(at.toISOString());
    }
    const calls = await callsAtLeast(scene.runtime.calls, ZONES.length, untilNextMinute() + 60_000);
    expect(calls.map((c) => c.scheduled)).to.deep.equal(ZONES.map(() => at.toISOString()));
    for (const m of made) {
      const j = await jobWhere(
        scene.ns,
        m.metadata.name,
        'run seen',
        30_000,
        (x) => x.status?.lastExecution !== undefined,
      );
      expect(j.status?.lastExecution?.scheduledTime).to.equal(at.toISOString());
      expect(j.status?.lastExecution?.jobName).to.equal(`${m.metadata.name}-${at.getTime() / 60_000}`); // the controller's Job
    }
  });
});
