import { expect } from 'chai';
import { foldRuns, httpStatusOf, KEEP_RUNS, type SeenRun } from './ledger.js';
import type { RunRecord } from './types.js';

const at = (m: number) => new Date(Date.UTC(2026, 10, 27, 12, m));
const run = (m: number, result: SeenRun['result'], extra: Partial<SeenRun> = {}): SeenRun => ({
  jobName: `nightly-${m}`,
  scheduledTime: at(m),
  result,
  ...(result !== 'Running' ? { completionTime: new Date(at(m).getTime() + 5000) } : {}),
  ...extra,
});

describe('ledger: what ran', () => {
  it('records each run newest first, with how it started, and counts it once it is final', () => {
    const first = foldRuns({}, [run(1, 'Running'), run(2, 'Running', { byOperator: true })], { missed: [] });
    expect(first.recentRuns.map((r) => [r.scheduledTime, r.trigger, r.result])).to.deep.equal([
      [at(2).toISOString(), 'operator', 'Running'],
      [at(1).toISOString(), 'schedule', 'Running'],
    ]);
    expect(first.counters).to.include({ succeeded: 0, failed: 0 });
    const st = { recentRuns: first.recentRuns, ...first.counters };
    const done = foldRuns(
      st,
      [run(1, 'Succeeded'), run(2, 'Failed', { message: 'exit code 11: runtime answered HTTP 503: busy' })],
      { missed: [] },
    );
    expect(done.counters).to.include({ succeeded: 1, failed: 1, consecutiveFailures: 1 });
    expect(done.counters.lastSuccessTime).to.equal('2026-11-27T12:01:05.000Z');
    expect(done.recentRuns[0]).to.include({ result: 'Failed', httpStatus: 503 });
    // The same Jobs seen again (the next pass, or one retried after a conflict): nothing counts twice.
    const again = foldRuns(
      { recentRuns: done.recentRuns, ...done.counters },
      [run(1, 'Succeeded'), run(2, 'Failed')],
      { missed: [] },
    );
    expect(again.counters).to.deep.equal(done.counters);
  });

  it('a success resets the consecutive failures, counted in scheduled order', () => {
    const f = foldRuns({}, [run(3, 'Failed'), run(1, 'Failed'), run(2, 'Failed')], { missed: [] });
    expect(f.counters.consecutiveFailures).to.equal(3);
    const s = foldRuns({ recentRuns: f.recentRuns, ...f.counters }, [run(4, 'Succeeded')], { missed: [] });
    expect(s.counters).to.include({ consecutiveFailures: 0, failed: 3, succeeded: 1 });
    const mixed = foldRuns({}, [run(2, 'Succeeded'), run(1, 'Failed'), run(3, 'Failed')], { missed: [] });
    expect(mixed.counters.consecutiveFailures).to.equal(1);
  });

  it('missed slots appear though nothing ran; a run by hand names its request and who asked', () => {
    const r = foldRuns(
      {},
      [run(5, 'Succeeded', { requestId: 'r1', requestedBy: 'alice@p', byOperator: true })],
      { missed: [at(3)] },
    );
    expect(r.recentRuns.map((x) => [x.trigger, x.result, x.runRequest, x.requestedBy])).to.deep.equal([
      ['manual', 'Succeeded', 'r1', 'alice@p'],
      ['schedule', 'Missed', undefined, undefined],
    ]);
    expect(r.newlyMissed).to.equal(1);
    const again = foldRuns({ recentRuns: r.recentRuns }, [], { missed: [at(3)] });
    expect(again.newlyMissed).to.equal(0);
  });

  it(`keeps ${KEEP_RUNS}, and a run that fell out is not counted again when its Job is seen`, () => {
    const many = foldRuns(
      {},
      Array.from({ length: KEEP_RUNS + 2 }, (_, i) => run(i, 'Succeeded')),
      { missed: [] },
    );
    expect(many.recentRuns).to.have.length(KEEP_RUNS);
    expect(many.counters.succeeded).to.equal(KEEP_RUNS + 2);
    const st = { recentRuns: many.recentRuns, ...many.counters };
    const later = foldRuns(st, [run(0, 'Succeeded'), run(1, 'Succeeded')], { missed: [] });
    expect(later.counters.succeeded).to.equal(KEEP_RUNS + 2);
    expect(later.recentRuns.map((x: RunRecord) => x.scheduledTime)).to.deep.equal(
      many.recentRuns.map((x) => x.scheduledTime),
    );
  });

  it('reads the HTTP status from the invoker message, and nothing else', () => {
    expect(httpStatusOf('exit code 10: invoke: runtime answered HTTP 404: no such function')).to.equal(404);
    expect(httpStatusOf('exit code 11: runtime unreachable: ECONNREFUSED')).to.equal(undefined);
  });
});

describe('ledger: a run that retried', () => {
  it('shows each attempt, the last one’s HTTP status, and counts the run once', () => {
    const attempts = [
      { attempt: 1, httpStatus: 503, message: 'runtime answered HTTP 503' },
      { attempt: 2, httpStatus: 503, message: 'runtime answered HTTP 503' },
      { attempt: 3, httpStatus: 200, message: 'runtime answered HTTP 200' },
    ];
    const f = foldRuns({}, [run(1, 'Succeeded', { attempts })], { missed: [] });
    expect(f.recentRuns[0]).to.deep.include({ result: 'Succeeded', attempt: 3, httpStatus: 200, attempts });
    expect(f.counters).to.include({ succeeded: 1, failed: 0 });
  });
  it('a single attempt keeps the record short (no attempts list)', () => {
    const one = [{ attempt: 1, httpStatus: 503, message: 'runtime answered HTTP 503' }];
    const f = foldRuns({}, [run(1, 'Failed', { attempts: one })], { missed: [] });
    expect(f.recentRuns[0]).to.include({ attempt: 1, httpStatus: 503 });
    expect(f.recentRuns[0]).to.not.have.property('attempts');
  });
});
