// The planner's promises under the events that broke them (code review 2026-12, D2-D4, D6, R4,
// T1, T3, T4): each case tries to break one, with the pure planner and a small world that turns
// the runs it starts (and, for unlimited jobs, the ticks the CronJob fires) back into observations.
import { expect } from 'chai';
import type { V1CronJob } from '@kubernetes/client-node';
import { defaultPlannerConfig as cfg } from './config.js';
import type { ObservedRun } from './observe.js';
import { plan, type Plan } from './planner.js';
import { MISSED_GRACE_MS } from './settle.js';
import type { QinlingJob, QinlingJobSpec, QinlingJobStatus } from './types.js';
import { toWire } from './wire.js';

const at = (s: string) => new Date(s);
const UID = '5b2a7c1e-1111-4222-8333-944455556666';
const DEADLINE_MS = cfg.startingDeadlineSeconds * 1000;

function job(spec: QinlingJobSpec, status?: QinlingJobStatus): QinlingJob {
  return {
    apiVersion: 'qinling.io/v1',
    kind: 'QinlingJob',
    metadata: {
      name: 'nightly',
      namespace: 'p1',
      uid: UID,
      generation: 1,
      creationTimestamp: '2026-11-27T12:00:05Z',
    },
    spec: { functionId: 'f-1', ...spec },
    ...(status ? { status } : {}),
  };
}

const cronJob = (suspend = false): V1CronJob => ({
  metadata: {
    name: 'nightly',
    uid: 'cj-uid',
    creationTimestamp: at('2026-11-27T12:00:06Z'),
    ownerReferences: [
      { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'nightly', uid: UID, controller: true },
    ],
  },
  spec: { schedule: '* * * * *', suspend, jobTemplate: {} },
});

const run = (t: string | Date, by: 'operator' | 'cronjob' = 'cronjob'): ObservedRun => {
  const d = typeof t === 'string' ? at(t) : t;
  return {
    jobName: `nightly-${by === 'operator' ? d.getTime() / 1000 : d.getTime() / 60_000}`,
    scheduledTime: d,
    result: 'Succeeded',
  };
};

/** Plans at each instant in turn; every run the plan starts exists from the next pass on. */
function simulate(
  spec: QinlingJobSpec,
  instants: string[],
  cronFires: string[] = [],
): { plans: Plan[]; runs: ObservedRun[] } {
  let status: QinlingJobStatus | undefined;
  const runs = new Map<string, ObservedRun>();
  const plans: Plan[] = [];
  for (const t of instants) {
    for (const c of cronFires) if (at(c) <= at(t) && !runs.has(c)) runs.set(at(c).toISOString(), run(c));
    const p = plan(job(spec, status), { runs: [...runs.values()], cronJob: cronJob(true) }, at(t), cfg);
    for (const r of p.startRuns) {
      const st = at(r.metadata?.annotations?.['qinling.io/scheduled-time'] ?? '');
      if (!runs.has(st.toISOString())) runs.set(st.toISOString(), run(st, 'operator'));
    }
    status = p.status;
    plans.push(p);
  }
  return { plans, runs: [...runs.values()] };
}

const last = <T>(xs: T[]): T => xs[xs.length - 1] as T;

describe('planner truth: a count is never exceeded', () => {
  const cases: { name: string; instants: string[]; runs: number; missed: number }[] = [
    {
      name: 'operator away across three ticks before the first run',
      instants: [
        '12:00:10',
        '12:03:30',
        '12:04:00.1',
        '12:04:01',
        '12:05:00.1',
        '12:05:01',
        '12:06:00.1',
        '12:07:00.1',
      ],
      runs: 2,
      missed: 3,
    },
    {
      name: 'operator away between the first and the second run',
      instants: ['12:00:10', '12:01:00.1', '12:01:02', '12:04:40', '12:05:00.2', '12:05:02', '12:09:00.1'],
      runs: 2,
      missed: 3,
    },
    {
      name: 'operator away for an hour, then every pass repeated (a second leader with the same cache)',
      instants: [
        '12:00:10',
        '13:00:30',
        '13:00:30',
        '13:01:00.1',
        '13:01:00.1',
        '13:01:05',
        '13:02:00.1',
        '13:02:00.1',
        '13:03:00.1',
      ],
      runs: 2,
      missed: 60,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.runs} runs, ${c.missed} reported missed`, () => {
      const { plans, runs } = simulate(
        { pattern: '* * * * *', count: 2 },
        c.instants.map((t) => `2026-11-27T${t}Z`),
      );
      expect(runs.length).to.equal(c.runs);
      const end = last(plans).status;
      expect(end.phase).to.equal('Done');
      expect(end.executions).to.equal(2);
      expect(end.missedRuns).to.equal(c.missed);
      expect(plans.every((p) => p.cronJob?.spec?.suspend === true)).to.equal(true);
    });
  }

  it('starts no run while all that remain are claimed and their Jobs not yet seen', () => {
    const spec = { pattern: '* * * * *', count: 1 };
    const s0 = plan(
      job(spec),
      { runs: [], cronJob: cronJob(true) },
      at('2026-11-27T12:01:00.1Z'),
      cfg,
    ).status;
    expect(s0.claimedTimes).to.deep.equal(['2026-11-27T12:01:00.000Z']);
    const again = plan(
      job(spec, s0),
      { runs: [], cronJob: cronJob(true) },
      at('2026-11-27T12:02:00.1Z'),
      cfg,
    );
    // The claimed run is started again (same name: the lock), no second one is claimed.
    expect(again.status.claimedTimes).to.deep.equal(['2026-11-27T12:01:00.000Z']);
    expect(again.startRuns.map((j) => j.metadata?.name)).to.deep.equal([
      `nightly-${at('2026-11-27T12:01:00Z').getTime() / 1000}`,
    ]);
    expect(again.events.map((e) => e.reason)).to.not.include('LateRun'); // started again, not reported again
  });

  it('a one-shot whose second passed while no operator ran starts late, reported once', () => {
    const spec = { firstExecutionTime: '2026-11-27T12:01:00Z' };
    const late = plan(job(spec), { runs: [], cronJob: cronJob(true) }, at('2026-11-27T12:05:00Z'), cfg);
    expect(late.startRuns.length).to.equal(1);
    expect(late.events.filter((e) => e.reason === 'LateRun').map((e) => e.message)).to.deep.equal([
      'the run for 2026-11-27T12:01:00.000Z starts 240 s late',
    ]);
    const again = plan(
      job(spec, late.status),
      { runs: [], cronJob: cronJob(true) },
      at('2026-11-27T12:05:02Z'),
      cfg,
    );
    expect(again.startRuns.length).to.equal(1);
    expect(again.events.map((e) => e.reason)).to.not.include('LateRun');
  });
});

describe('planner truth: every tick is settled, a miss reported within seconds of its deadline', () => {
  const spec = { pattern: '*/5 * * * *' };
  const s0 = plan(job(spec), { runs: [], cronJob: cronJob() }, at('2026-11-27T12:01:10Z'), cfg).status;
  const missAt = at('2026-11-27T12:05:00Z').getTime() + DEADLINE_MS + MISSED_GRACE_MS;

  it('always requeues at the next tick deadline, padded (steady state included)', () => {
    const p = plan(job(spec, s0), { runs: [], cronJob: cronJob() }, at('2026-11-27T12:01:11Z'), cfg);
    expect(p.requeueAfterMs).to.equal(missAt + 100 - at('2026-11-27T12:01:11Z').getTime());
  });

  const cases: { name: string; now: number; runs: ObservedRun[]; next: string; missed: number }[] = [
    {
      name: 'a tick still inside its deadline waits',
      now: missAt - 1,
      runs: [],
      next: '2026-11-27T12:05:00.000Z',
      missed: 0,
    },
    {
      name: 'a tick with no Job past deadline + grace is missed',
      now: missAt + 100,
      runs: [],
      next: '2026-11-27T12:10:00.000Z',
      missed: 1,
    },
    {
      name: 'a tick that ran moves on',
      now: missAt + 100,
      runs: [run('2026-11-27T12:05:00Z')],
      next: '2026-11-27T12:10:00.000Z',
      missed: 0,
    },
    {
      name: '>100 missed ticks, each counted (controller down 10 h)',
      now: at('2026-11-27T22:05:10Z').getTime(),
      runs: [],
      next: '2026-11-27T22:05:00.000Z',
      missed: 120,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = plan(job(spec, s0), { runs: c.runs, cronJob: cronJob() }, new Date(c.now), cfg);
      expect(p.status.nextExecutionTime).to.equal(c.next);
      expect(p.status.missedRuns ?? 0).to.equal(c.missed);
      expect(p.missed).to.equal(c.missed);
      const events = p.events.filter((e) => e.reason === 'MissedRun');
      expect(events.length).to.equal(Math.min(c.missed, 21));
      if (c.missed > 0) expect(p.status.recentMisses?.[0]).to.match(/^2026-11-27T/);
    });
  }

  it('more ticks than one pass settles are skipped in one step and reported as at least that many', () => {
    const every = { pattern: '* * * * *' };
    const s1 = plan(job(every), { runs: [], cronJob: cronJob() }, at('2026-11-27T12:01:10Z'), cfg).status;
    const p = plan(job(every, s1), { runs: [], cronJob: cronJob() }, at('2026-11-30T12:00:30Z'), cfg);
    expect(p.status.nextExecutionTime).to.equal('2026-11-30T12:01:00.000Z');
    expect(p.missed).to.be.greaterThan(1000);
    expect(last(p.events).message).to.match(/^at least \d+ more runs/);
  });

  it('a miss whose Job shows up late after all is taken back', () => {
    const missed = plan(job(spec, s0), { runs: [], cronJob: cronJob() }, new Date(missAt + 100), cfg).status;
    expect(missed.missedRuns).to.equal(1);
    const late = plan(
      job(spec, missed),
      { runs: [run('2026-11-27T12:05:00Z')], cronJob: cronJob() },
      new Date(missAt + 200),
      cfg,
    );
    expect(late.status.missedRuns).to.equal(undefined);
    expect(late.status.recentMisses).to.equal(undefined);
    expect(late.status.executions).to.equal(1);
  });
});

describe('planner truth: counting', () => {
  it('counts runs observed out of order (an override after a tick), each once', () => {
    const spec = { pattern: '* * * * *' };
    const a = plan(
      job(spec),
      { runs: [run('2026-11-27T12:04:30Z', 'operator')], cronJob: cronJob() },
      at('2026-11-27T12:04:31Z'),
      cfg,
    );
    const b = plan(
      job(spec, a.status),
      { runs: [run('2026-11-27T12:04:30Z', 'operator'), run('2026-11-27T12:04:00Z')], cronJob: cronJob() },
      at('2026-11-27T12:04:32Z'),
      cfg,
    );
    expect(b.status.executions).to.equal(2);
  });

  it('carries a status from before counted times over without counting anything twice', () => {
    const old: QinlingJobStatus = {
      phase: 'Running',
      executions: 5,
      lastScheduledTime: '2026-11-27T12:04:00.000Z',
      nextExecutionTime: '2026-11-27T12:05:00.000Z',
    };
    const runs = [run('2026-11-27T12:03:00Z'), run('2026-11-27T12:04:00Z')];
    const a = plan(
      job({ pattern: '* * * * *' }, old),
      { runs, cronJob: cronJob() },
      at('2026-11-27T12:04:30Z'),
      cfg,
    );
    const b = plan(
      job({ pattern: '* * * * *' }, a.status),
      { runs, cronJob: cronJob() },
      at('2026-11-27T12:04:40Z'),
      cfg,
    );
    expect([a.status.executions, b.status.executions]).to.deep.equal([5, 5]);
  });
});

describe('planner truth: what status and REST show is what fires', () => {
  it('a pattern changed by hand recomputes the next run, with no spurious miss', () => {
    const s = plan(
      job({ pattern: '0 0 1 1 *' }),
      { runs: [], cronJob: cronJob() },
      at('2026-11-27T12:00:10Z'),
      cfg,
    ).status;
    expect(s.nextExecutionTime).to.equal('2027-01-01T00:00:00.000Z');
    const p = plan(
      job({ pattern: '* * * * *' }, s),
      { runs: [], cronJob: cronJob() },
      at('2026-11-27T12:03:10Z'),
      cfg,
    );
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:04:00.000Z');
    const back = plan(
      job({ pattern: '0 0 1 1 *' }, p.status),
      { runs: [], cronJob: cronJob() },
      at('2026-11-27T12:05:50Z'),
      cfg,
    );
    expect(back.status.nextExecutionTime).to.equal('2027-01-01T00:00:00.000Z');
    expect(back.events.map((e) => e.reason)).to.not.include('MissedRun');
  });

  it('a zone changed by hand recomputes the next run', () => {
    const s = plan(
      job({ pattern: '0 9 * * *' }),
      { runs: [], cronJob: cronJob() },
      at('2026-11-27T12:00:10Z'),
      cfg,
    ).status;
    const p = plan(
      job({ pattern: '0 9 * * *', timeZone: 'America/New_York' }, s),
      { runs: [], cronJob: cronJob() },
      at('2026-11-27T12:00:20Z'),
      cfg,
    );
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T14:00:00.000Z');
  });

  it('REST shows an unapplied next_execution_time, and after a resume the tick after now', () => {
    const s = plan(
      job({ pattern: '*/10 * * * *' }),
      { runs: [], cronJob: cronJob() },
      at('2026-11-27T12:01:00Z'),
      cfg,
    ).status;
    const put = job({ pattern: '*/10 * * * *', nextExecutionTime: '2026-11-27T12:04:30Z' }, s);
    expect(toWire(put, 'p', at('2026-11-27T12:02:00Z')).next_execution_time).to.equal('2026-11-27T12:04:30Z');
    const paused: QinlingJobStatus = { ...s, phase: 'Paused' };
    const resumed = job({ pattern: '*/10 * * * *' }, paused);
    expect(toWire(resumed, 'p', at('2026-11-27T13:00:05Z')).next_execution_time).to.equal(
      '2026-11-27T13:10:00Z',
    );
    const p = plan(resumed, { runs: [], cronJob: cronJob() }, at('2026-11-27T13:00:05Z'), cfg);
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T13:10:00.000Z');
  });

  it('a wait of 40 days is planned as such (the queue cuts it into hops) and starts nothing early', () => {
    const spec = { firstExecutionTime: '2027-01-06T12:00:00Z' };
    const p = plan(job(spec), { runs: [], cronJob: cronJob(true) }, at('2026-11-27T12:00:00Z'), cfg);
    expect(p.requeueAfterMs).to.equal(
      at('2027-01-06T12:00:00Z').getTime() - at('2026-11-27T12:00:00Z').getTime() - cfg.leadSeconds * 1000,
    );
    const hop = plan(
      job(spec, p.status),
      { runs: [], cronJob: cronJob(true) },
      at('2026-11-27T13:00:00Z'),
      cfg,
    );
    expect(hop.startRuns).to.deep.equal([]);
    expect(hop.status.claimedTimes).to.equal(undefined);
  });
});
