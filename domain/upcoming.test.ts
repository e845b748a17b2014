import { expect } from 'chai';
import { job } from '../fakes/jobs.js';
import { schedule, upcomingTimes } from './upcoming.js';
import { toWire } from './wire.js';

const at = (s: string) => new Date(s);
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const NOW = at('2026-11-27T12:00:30Z');

describe('upcoming: what will run', () => {
  it('the next runs of a pattern, the first being the next_execution_time the job shows', () => {
    const j = job({ pattern: '*/15 * * * *' });
    const times = upcomingTimes(j, 'Etc/UTC', NOW, 5);
    expect(iso(times)).to.deep.equal([
      '2026-11-27T12:15:00.000Z',
      '2026-11-27T12:30:00.000Z',
      '2026-11-27T12:45:00.000Z',
      '2026-11-27T13:00:00.000Z',
      '2026-11-27T13:15:00.000Z',
    ]);
    expect(toWire(j, 'p', NOW).next_execution_time).to.equal('2026-11-27T12:15:00Z');
  });

  it('no more than the count has left', () => {
    const j = job({ pattern: '* * * * *', count: 5 }, { phase: 'Running', remaining: 2 });
    expect(upcomingTimes(j, 'Etc/UTC', NOW, 5)).to.have.length(2);
    expect(upcomingTimes(job({ pattern: '* * * * *', count: 3 }), 'Etc/UTC', NOW, 5)).to.have.length(3);
  });

  it('a one-shot has its one time; paused, cancelled and done jobs have none', () => {
    const first = '2026-11-27T13:00:00Z';
    expect(iso(upcomingTimes(job({ firstExecutionTime: first }), 'Etc/UTC', NOW, 5))).to.deep.equal([
      '2026-11-27T13:00:00.000Z',
    ]);
    for (const j of [
      job({ pattern: '* * * * *', suspend: true }, { phase: 'Paused' }),
      job({ pattern: '* * * * *', cancelled: true }, { phase: 'Cancelled' }),
      job({ firstExecutionTime: first }, { phase: 'Done' }),
    ])
      expect(upcomingTimes(j, 'Etc/UTC', NOW, 5)).to.deep.equal([]);
  });

  it('an override comes first, then the pattern from it (Qinling: later runs follow the pattern)', () => {
    const j = job(
      { pattern: '0 * * * *', nextExecutionTime: '2026-11-27T12:10:07Z' },
      { phase: 'Running', nextExecutionTime: '2026-11-27T13:00:00Z' },
    );
    expect(iso(upcomingTimes(j, 'Etc/UTC', NOW, 3))).to.deep.equal([
      '2026-11-27T12:10:07.000Z',
      '2026-11-27T13:00:00.000Z',
      '2026-11-27T14:00:00.000Z',
    ]);
  });

  it('none after 2100, and zero asked is zero given', () => {
    const j = job({ pattern: '0 0 1 1 *' });
    expect(upcomingTimes(j, 'Etc/UTC', at('2098-06-01T00:00:00Z'), 10)).to.have.length(2);
    expect(upcomingTimes(j, 'Etc/UTC', NOW, 0)).to.deep.equal([]);
  });

  it('spring forward in Berlin: 02:30 does not exist on 29 March, the run is skipped and said so', () => {
    const j = job({ pattern: '30 2 * * *', timeZone: 'Europe/Berlin' });
    const s = schedule(j, 'Europe/Berlin', at('2026-03-27T12:00:00Z'), 3);
    expect(s.runs.map((r) => r.local)).to.deep.equal([
      '2026-03-28T02:30:00+01:00',
      '2026-03-30T02:30:00+02:00',
      '2026-03-31T02:30:00+02:00',
    ]);
    expect(s.runs.map((r) => r.overlap)).to.deep.equal([false, false, false]);
    expect(s.skipped).to.deep.equal(['2026-03-29T02:30:00']);
  });

  it('fall back in Berlin: 02:30 happens twice on 25 October, and so does the run', () => {
    const j = job({ pattern: '30 2 * * *', timeZone: 'Europe/Berlin' });
    const s = schedule(j, 'Europe/Berlin', at('2026-10-24T12:00:00Z'), 3);
    expect(s.runs.map((r) => [r.time.toISOString(), r.local, r.overlap])).to.deep.equal([
      ['2026-10-25T00:30:00.000Z', '2026-10-25T02:30:00+02:00', true],
      ['2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00+01:00', true],
      ['2026-10-26T01:30:00.000Z', '2026-10-26T02:30:00+01:00', false],
    ]);
    expect(s.skipped).to.deep.equal([]);
  });

  it('every minute through the gap: the minutes that never come are listed, as many as runs asked for', () => {
    const j = job({ pattern: '* * * * *', timeZone: 'Europe/Berlin' });
    const s = schedule(j, 'Europe/Berlin', at('2026-03-29T00:58:30Z'), 3);
    expect(s.runs.map((r) => r.local)).to.deep.equal([
      '2026-03-29T01:59:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-29T03:01:00+02:00',
    ]);
    expect(s.skipped).to.have.length(3); // at most as many as runs asked for
    expect(s.skipped[0]).to.equal('2026-03-29T02:00:00');
  });
});
