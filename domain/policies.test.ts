// The policies of issue 16 as the pure planner decides them, in a small world: every run a plan
// starts exists from the next pass on (Running until the case ends it), a job the plan pauses is
// paused, and a run it replaces is gone. Each case tries to break one promise, alone and with
// count, pause, run-now and overrides.
import { expect } from 'chai';
import { defaultPlannerConfig as cfg } from './config.js';
import { job as jobOf, ownedCronJob, UID } from '../fakes/jobs.js';
import type { ObservedRun } from './observe.js';
import { plan, type Plan } from './planner.js';
import { jitterOffsetMs, runAfter, timingOf } from './timing.js';
import {
  ANNOTATION_DEAD_LETTER,
  ANNOTATION_RUN_REQUEST,
  ANNOTATION_SCHEDULED,
  ANNOTATION_TRIGGER,
  type QinlingJobSpec,
  type QinlingJobStatus,
  type RunRecord,
  type RunResult,
} from './types.js';

const at = (s: string) => new Date(s);
const iso = (d: Date) => d.toISOString();

class World {
  status: QinlingJobStatus | undefined;
  runs = new Map<string, ObservedRun & { requestId?: string }>();
  letters = new Set<string>();
  plans: Plan[] = [];
  constructor(public spec: QinlingJobSpec) {}

  pass(t: string): Plan {
    const j = jobOf(this.spec, this.status);
    const all = [...this.runs.values()];
    const p = plan(
      j,
      {
        runs: all.filter((r) => !r.requestId),
        manualRuns: all.filter((r): r is ObservedRun & { requestId: string } => !!r.requestId),
        cronJob: ownedCronJob(this.spec.pattern ?? '* * * * *'),
        deadLetterJobs: this.letters,
      },
      at(t),
      cfg,
    );
    for (const name of [...(p.replaceRuns ?? []), ...(p.withdrawRuns ?? [])]) this.runs.delete(name);
    for (const r of p.startRuns) {
      const a = r.metadata?.annotations ?? {};
      const name = r.metadata?.name ?? '';
      if (a[ANNOTATION_DEAD_LETTER] !== undefined) {
        this.letters.add(name);
        continue;
      }
      if (this.runs.has(name)) continue;
      const requestId = a[ANNOTATION_RUN_REQUEST];
      this.runs.set(name, {
        jobName: name,
        scheduledTime: at(a[ANNOTATION_SCHEDULED] ?? ''),
        result: 'Running',
        byOperator: true,
        ...(a[ANNOTATION_TRIGGER] === 'catch-up' ? { catchup: true } : {}),
        ...(requestId ? { requestId } : {}),
      });
    }
    if (p.suspendJob) this.spec = { ...this.spec, suspend: true };
    this.status = p.status;
    this.plans.push(p);
    return p;
  }

  /** Ends every run still running (or the one at `time`) with `result`. */
  end(result: RunResult, time?: string): void {
    for (const r of this.runs.values()) {
      if (r.result !== 'Running' || (time && iso(r.scheduledTime) !== iso(at(time)))) continue;
      r.result = result;
      r.completionTime = new Date(r.scheduledTime.getTime() + 5000);
    }
  }

  started(): string[] {
    return this.plans.flatMap((p) =>
      p.startRuns.map((r) => r.metadata?.annotations?.[ANNOTATION_SCHEDULED] ?? ''),
    );
  }

  record(t: string): RunRecord | undefined {
    return this.status?.recentRuns?.find((r) => r.scheduledTime === iso(at(t)));
  }
}

describe('policy: pauseAfterFailures', () => {
  const failing = (w: World, minute: number) => {
    const t = `2026-11-27T12:0${minute}:00Z`;
    w.pass(t); // claims and starts the run for this minute
    w.end('Failed');
    return w.pass(`2026-11-27T12:0${minute}:30Z`);
  };

  it('pauses after K failures in a row (spec.suspend set, condition, Event), once; a resume clears it', () => {
    const w = new World({ pattern: '* * * * *', count: 100, pauseAfterFailures: 2 });
    w.pass('2026-11-27T11:59:30Z');
    expect(failing(w, 0).suspendJob).to.equal(undefined); // one failure: not yet
    const p = failing(w, 1);
    expect(p.suspendJob).to.equal(true);
    expect(p.status.autoPaused).to.include({ failures: 2 });
    const cond = p.status.conditions?.find((c) => c.type === 'AutoPaused');
    expect(cond).to.include({ status: 'True', reason: 'ConsecutiveFailures' });
    expect(cond?.message).to.match(/after 2 failed runs in a row \(pauseAfterFailures 2\)/);
    expect(p.events.map((e) => e.reason)).to.include('AutoPaused');
    // The spec now says suspend: the pause is applied, nothing more runs, and it is not asked again.
    const paused = w.pass('2026-11-27T12:02:10Z');
    expect(paused.suspendJob).to.equal(undefined);
    expect(paused.status.phase).to.equal('Paused');
    expect(paused.status.autoPaused?.applied).to.equal(true);
    expect(paused.startRuns).to.deep.equal([]);
    // Resumed by hand: cleared, and the count of failures starts again from here.
    w.spec = { ...w.spec, suspend: false };
    const resumed = w.pass('2026-11-27T12:02:20Z');
    expect(resumed.status.autoPaused).to.equal(undefined);
    expect(resumed.status.conditions?.find((c) => c.type === 'AutoPaused')?.status).to.equal('False');
    expect(failing(w, 3).suspendJob).to.equal(undefined); // 3 in a row, 1 since the resume
    expect(failing(w, 4).suspendJob).to.equal(true);
  });

  it('a success in between resets the count', () => {
    const w = new World({ pattern: '* * * * *', count: 100, pauseAfterFailures: 2 });
    w.pass('2026-11-27T11:59:30Z');
    failing(w, 0);
    w.pass('2026-11-27T12:01:00Z');
    w.end('Succeeded');
    w.pass('2026-11-27T12:01:30Z');
    expect(failing(w, 2).suspendJob).to.equal(undefined);
    expect(w.status?.consecutiveFailures).to.equal(1);
  });

  it('a job paused by hand is not paused again, and without the policy nothing pauses', () => {
    const w = new World({ pattern: '* * * * *', count: 100 });
    w.pass('2026-11-27T11:59:30Z');
    for (const m of [0, 1, 2, 3]) expect(failing(w, m).suspendJob).to.equal(undefined);
    expect(w.status?.consecutiveFailures).to.equal(4);
  });
});

describe('policy: start and end bounds', () => {
  it('no run before startTime: the first is the first tick at or after it', () => {
    const w = new World({ pattern: '*/5 * * * *', startTime: '2026-11-27T13:02:00Z' });
    const p = w.pass('2026-11-27T12:00:30Z');
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T13:05:00.000Z');
    expect(p.status.upcoming?.[0]).to.equal('2026-11-27T13:05:00.000Z');
    expect(p.status.nextRunByOperator).to.equal(true); // the CronJob never fires a bounded job
    expect(p.cronJob?.spec?.suspend).to.equal(true);
  });

  it('no run after endTime; once its last run started the job is Done, and a run by hand is refused', () => {
    const w = new World({ pattern: '* * * * *', endTime: '2026-11-27T12:02:30Z' });
    w.pass('2026-11-27T12:00:05Z');
    expect(w.status?.upcoming).to.deep.equal(['2026-11-27T12:01:00.000Z', '2026-11-27T12:02:00.000Z']);
    for (const t of ['12:00:40', '12:01:00', '12:01:40', '12:02:00', '12:02:40', '12:03:00', '12:04:00'])
      w.pass(`2026-11-27T${t}Z`);
    expect(w.started()).to.deep.equal(['2026-11-27T12:01:00.000Z', '2026-11-27T12:02:00.000Z']);
    expect(w.status?.phase).to.equal('Done');
    expect(w.status?.nextExecutionTime).to.equal(undefined);
    w.spec = { ...w.spec, runRequests: [{ id: 'late' }] };
    const p = w.pass('2026-11-27T12:05:00Z');
    expect(p.startRuns).to.deep.equal([]);
    expect(p.status.runRequests?.[0]?.refused).to.match(/done/);
  });

  it('a count ends a bounded job first if it comes first', () => {
    const w = new World({ pattern: '* * * * *', count: 1, endTime: '2026-11-27T13:00:00Z' });
    for (const t of ['12:00:05', '12:00:40', '12:01:00', '12:01:30']) w.pass(`2026-11-27T${t}Z`);
    expect(w.started()).to.have.length(1);
    expect(w.status?.phase).to.equal('Done');
  });

  it('invalid bounds are refused with the REST messages (objects stored before a rule existed)', () => {
    const w = new World({
      pattern: '* * * * *',
      startTime: '2026-11-28T00:00:00Z',
      endTime: '2026-11-27T00:00:00Z',
    });
    const p = w.pass('2026-11-27T12:00:00Z');
    expect(p.status.phase).to.equal('Failed');
    expect(p.status.conditions?.find((c) => c.type === 'Valid')?.message).to.equal(
      'end_time must be after start_time.',
    );
  });
});

describe('policy: deterministic jitter', () => {
  it('an offset from the uid, the same every time, within 0..jitterSeconds', () => {
    expect(jitterOffsetMs(UID, 30)).to.equal(jitterOffsetMs(UID, 30));
    const spread = new Set(Array.from({ length: 50 }, (_, i) => jitterOffsetMs(`uid-${i}`, 30)));
    expect(spread.size).to.be.greaterThan(10);
    for (const o of spread) expect(o % 1000 === 0 && o >= 0 && o <= 30_000).to.equal(true);
    expect(jitterOffsetMs(UID, undefined)).to.equal(0);
  });

  it('nextExecutionTime and upcoming are the moved times, and the run is started for that time', () => {
    const offset = jitterOffsetMs(UID, 50);
    expect(offset).to.be.greaterThan(0); // else this case proves nothing
    const w = new World({ pattern: '*/10 * * * *', jitterSeconds: 50 });
    const p = w.pass('2026-11-27T12:00:30Z');
    const first = at('2026-11-27T12:10:00Z').getTime() + offset;
    expect(p.status.nextExecutionTime).to.equal(iso(new Date(first)));
    expect(p.status.upcoming?.[1]).to.equal(iso(new Date(first + 600_000)));
    w.pass(iso(new Date(first - 10_000)));
    expect(w.started()).to.deep.equal([iso(new Date(first))]);
  });

  it('never past the next slot: an offset larger than the gap stops a second before the next tick', () => {
    const j = jobOf({ pattern: '* * * * *', jitterSeconds: 3600 });
    const t = timingOf(j, 'Etc/UTC');
    if (!t) throw new Error('no timing');
    const r1 = runAfter(t, at('2026-11-27T12:00:00Z'));
    const r2 = runAfter(t, r1 ?? at('2026-11-27T12:00:00Z'));
    expect(r1 && r2 && r2.getTime() - r1.getTime()).to.equal(60_000);
    expect((r1?.getTime() ?? 0) % 60_000).to.be.at.most(59_000);
  });
});

describe('policy: overlap', () => {
  const hanging = (policy: QinlingJobSpec['overlapPolicy']) => {
    const w = new World({ pattern: '* * * * *', count: 100, overlapPolicy: policy });
    w.pass('2026-11-27T11:59:30Z');
    w.pass('2026-11-27T12:00:00Z'); // the run for 12:00 starts and hangs
    return w;
  };

  it('an overlap policy decides at the run’s time: no run is made ahead of it', () => {
    const w = new World({ pattern: '* * * * *', count: 100, overlapPolicy: 'Forbid' });
    expect(w.pass('2026-11-27T11:59:45Z').startRuns).to.deep.equal([]);
    expect(w.pass('2026-11-27T12:00:00.050Z').startRuns).to.have.length(1);
  });

  it('Allow (the default) starts the next run beside the active one', () => {
    const w = hanging(undefined);
    w.pass('2026-11-27T12:00:40Z');
    expect(w.started()).to.include('2026-11-27T12:01:00.000Z');
  });

  it('Forbid: the run due while one is active is Skipped, in the ledger and an Event; not missed', () => {
    const w = hanging('Forbid');
    const p = w.pass('2026-11-27T12:01:00.100Z');
    expect(p.startRuns).to.deep.equal([]);
    expect(w.record('2026-11-27T12:01:00Z')).to.include({ result: 'Skipped' });
    expect(w.record('2026-11-27T12:01:00Z')?.message).to.match(/overlapPolicy Forbid/);
    expect(p.events.map((e) => e.reason)).to.include('RunSkipped');
    expect(p.status.missedRuns).to.equal(undefined);
    expect(p.status.nextExecutionTime).to.equal('2026-11-27T12:02:00.000Z');
    w.end('Succeeded');
    w.pass('2026-11-27T12:02:00.100Z');
    expect(w.started()).to.deep.equal(['2026-11-27T12:00:00.000Z', '2026-11-27T12:02:00.000Z']);
  });

  it('Forbid holds runs by hand too: a request while a run is active is refused', () => {
    const w = hanging('Forbid');
    w.spec = { ...w.spec, runRequests: [{ id: 'now' }] };
    const p = w.pass('2026-11-27T12:00:10Z');
    expect(p.startRuns).to.deep.equal([]);
    expect(p.status.runRequests?.[0]?.refused).to.match(/overlapPolicy Forbid/);
  });

  it('Replace: the active run is stopped (Replaced in the ledger) and the new one starts', () => {
    const w = hanging('Replace');
    const p = w.pass('2026-11-27T12:01:00.100Z');
    expect(p.replaceRuns).to.have.length(1);
    expect(p.startRuns.map((r) => r.metadata?.annotations?.[ANNOTATION_SCHEDULED])).to.deep.equal([
      '2026-11-27T12:01:00.000Z',
    ]);
    expect(w.record('2026-11-27T12:00:00Z')).to.include({ result: 'Replaced' });
    expect(p.status.failed).to.equal(undefined); // a replaced run is no failure
  });

  it('BufferOne: the next run waits for the active one, a third is Skipped, then the waiting one starts', () => {
    const w = hanging('BufferOne');
    const p1 = w.pass('2026-11-27T12:01:00.100Z');
    expect(p1.startRuns).to.deep.equal([]);
    expect(p1.status.claimedTimes).to.deep.equal(['2026-11-27T12:01:00.000Z']);
    const p2 = w.pass('2026-11-27T12:02:00.100Z');
    expect(p2.startRuns).to.deep.equal([]);
    expect(w.record('2026-11-27T12:02:00Z')).to.include({ result: 'Skipped' });
    w.end('Succeeded', '2026-11-27T12:00:00Z');
    const p3 = w.pass('2026-11-27T12:02:30Z');
    expect(p3.startRuns.map((r) => r.metadata?.annotations?.[ANNOTATION_SCHEDULED])).to.deep.equal([
      '2026-11-27T12:01:00.000Z',
    ]);
    expect(w.started()).to.deep.equal(['2026-11-27T12:00:00.000Z', '2026-11-27T12:01:00.000Z']);
  });

  it('with a count, a skipped run uses none of it', () => {
    const w = new World({ pattern: '* * * * *', count: 2, overlapPolicy: 'Forbid' });
    w.pass('2026-11-27T11:59:30Z');
    w.pass('2026-11-27T12:00:00.100Z');
    w.pass('2026-11-27T12:01:00.100Z'); // skipped
    w.end('Succeeded');
    w.pass('2026-11-27T12:02:00.100Z');
    w.end('Succeeded');
    w.pass('2026-11-27T12:02:30Z');
    expect(w.started()).to.deep.equal(['2026-11-27T12:00:00.000Z', '2026-11-27T12:02:00.000Z']);
    expect(w.status?.phase).to.equal('Done');
  });
});

describe('policy: catch-up with a cap', () => {
  const away = (spec: QinlingJobSpec) => {
    const w = new World({ pattern: '* * * * *', ...spec });
    w.pass('2026-11-27T11:59:00Z'); // next: 12:00; then the operator is away until 12:04:10
    return { w, back: w.pass('2026-11-27T12:04:10Z') };
  };
  const times = (p: Plan) => p.startRuns.map((r) => r.metadata?.annotations?.[ANNOTATION_SCHEDULED]);

  it('the newest maxCatchupRuns missed runs run late, oldest first, with their own times; the rest are Missed', () => {
    const { w, back } = away({ count: 100, catchupWindowSeconds: 600, maxCatchupRuns: 2 });
    expect(times(back)).to.deep.equal([
      '2026-11-27T12:02:00.000Z',
      '2026-11-27T12:03:00.000Z',
      '2026-11-27T12:04:00.000Z', // due now (within its deadline): an ordinary run
    ]);
    expect(
      back.startRuns.slice(0, 2).map((r) => r.metadata?.annotations?.[ANNOTATION_TRIGGER]),
    ).to.deep.equal(['catch-up', 'catch-up']);
    expect(back.startRuns[2]?.metadata?.annotations?.[ANNOTATION_TRIGGER]).to.equal(undefined);
    expect(back.status.missedRuns).to.equal(2);
    expect(w.record('2026-11-27T12:00:00Z')?.result).to.equal('Missed');
    expect(w.record('2026-11-27T12:01:00Z')?.result).to.equal('Missed');
    w.pass('2026-11-27T12:04:15Z');
    expect(w.record('2026-11-27T12:02:00Z')).to.include({ trigger: 'catch-up', result: 'Running' });
    expect(w.record('2026-11-27T12:04:00Z')).to.include({ trigger: 'operator' });
    expect(w.status?.claimedTimes).to.equal(undefined);
    expect(w.status?.catchupTimes).to.equal(undefined);
  });

  it('the window bounds the age: older missed runs are Missed whatever the cap', () => {
    const { back } = away({ count: 100, catchupWindowSeconds: 150, maxCatchupRuns: 10 });
    expect(times(back)).to.deep.equal([
      '2026-11-27T12:02:00.000Z',
      '2026-11-27T12:03:00.000Z',
      '2026-11-27T12:04:00.000Z',
    ]);
    expect(back.status.missedRuns).to.equal(2);
  });

  it('a count is never exceeded by catching up', () => {
    const { w, back } = away({ count: 2, catchupWindowSeconds: 600, maxCatchupRuns: 5 });
    expect(times(back)).to.deep.equal(['2026-11-27T12:02:00.000Z', '2026-11-27T12:03:00.000Z']);
    w.end('Succeeded');
    for (const t of ['12:04:20', '12:05:00', '12:06:00']) w.pass(`2026-11-27T${t}Z`);
    expect(w.started()).to.have.length(2);
    expect(w.status?.phase).to.equal('Done');
  });

  it('without a policy, Qinling’s behaviour: every run missed while away is Missed, none runs late', () => {
    const { back } = away({ count: 100 });
    expect(times(back)).to.deep.equal(['2026-11-27T12:04:00.000Z']);
    expect(back.status.missedRuns).to.equal(4);
  });
});

describe('policy: dead letter, with retries and auto-pause', () => {
  it('each run failed for good sends one dead letter, also after the job paused itself', () => {
    const w = new World({
      pattern: '* * * * *',
      count: 100,
      maxAttempts: 3,
      pauseAfterFailures: 2,
      deadLetterUrl: 'http://sink.example/dl',
    });
    w.pass('2026-11-27T11:59:00Z');
    for (const m of [0, 1]) {
      w.pass(`2026-11-27T12:0${m}:00Z`);
      w.end('Failed');
      w.pass(`2026-11-27T12:0${m}:10Z`);
      w.pass(`2026-11-27T12:0${m}:15Z`); // a pass more: nothing twice
    }
    expect(w.letters.size).to.equal(2);
    expect(w.status?.deadLetters?.map((d) => [d.run, d.started])).to.deep.equal([
      ['2026-11-27T12:00:00.000Z', true],
      ['2026-11-27T12:01:00.000Z', true],
    ]);
    expect(w.spec.suspend).to.equal(true);
    const letters = w.plans
      .flatMap((p) => p.startRuns)
      .filter((r) => r.metadata?.annotations?.[ANNOTATION_DEAD_LETTER]);
    expect(new Set(letters.map((r) => r.metadata?.name)).size).to.equal(2);
  });
});
