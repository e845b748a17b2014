import { expect } from 'chai';
import type { V1Job } from '@kubernetes/client-node';
import { defaultPlannerConfig as cfg } from './config.js';
import { job, ownedCronJob, UID } from '../fakes/jobs.js';
import { KEEP_HANDLED, planRunRequests } from './manual.js';
import { plan } from './planner.js';
import { observeRun } from './observe.js';
import { ANNOTATION_RUN_REQUEST, type HandledRunRequest, type QinlingJobSpec } from './types.js';

const NOW = new Date('2026-11-27T12:00:30.250Z');
const cronJob = ownedCronJob('0 3 * * *');
const none = new Set<string>();
const envOf = (j: V1Job | undefined) =>
  Object.fromEntries(
    (j?.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]),
  );
const spec = (extra: Partial<QinlingJobSpec> = {}): QinlingJobSpec => ({ pattern: '0 3 * * *', ...extra });

describe('manual: runs by hand', () => {
  it('a new request is taken in status and made a Job with its own name, key and who asked', () => {
    const j = job(
      spec({ runRequests: [{ id: 'r1', requestedBy: 'alice@proj-a', functionInput: '{"x":1}' }] }),
      {
        phase: 'Running',
      },
    );
    const p = planRunRequests(j, 'Running', cronJob, none, NOW, cfg);
    expect(p.handled).to.deep.equal([
      {
        id: 'r1',
        acceptedAt: NOW.toISOString(),
        requestedBy: 'alice@proj-a',
        jobName: p.startRuns[0]?.metadata?.name,
      },
    ]);
    expect(p.startRuns).to.have.length(1);
    const run = p.startRuns[0];
    expect(run?.metadata?.name).to.match(/^nightly-m[0-9a-f]{9}$/);
    expect(run?.metadata?.annotations?.[ANNOTATION_RUN_REQUEST]).to.equal('r1');
    expect(run?.metadata?.ownerReferences?.[0]).to.include({
      kind: 'QinlingJob',
      uid: UID,
      controller: true,
    });
    const env = envOf(run);
    expect(env).to.include({
      QJ_RUN_REQUEST: 'r1',
      QJ_REQUESTED_BY: 'alice@proj-a',
      QJ_FUNCTION_INPUT: '{"x":1}',
    });
    expect(p.events.map((e) => e.reason)).to.deep.equal(['RunRequested']);
  });

  it('without an input of its own the run reads the job input, as every run', () => {
    const j = job(spec({ functionInput: '{"y":2}', runRequests: [{ id: 'r1' }] }), { phase: 'Running' });
    const env = envOf(planRunRequests(j, 'Running', cronJob, none, NOW, cfg).startRuns[0]);
    expect(env.QJ_FUNCTION_INPUT).to.deep.include({
      configMapKeyRef: { name: 'nightly-input', key: 'input' },
    });
  });

  it('a job without input: its runs have no input variable (the invoker posts an empty input)', () => {
    const j = job(spec({ runRequests: [{ id: 'r1' }] }), { phase: 'Running' });
    const env = envOf(planRunRequests(j, 'Running', cronJob, none, NOW, cfg).startRuns[0]);
    expect(env).to.not.have.property('QJ_FUNCTION_INPUT');
  });

  it('a taken request is made again until its Job is seen, then never again (even once the Job is gone)', () => {
    const taken: HandledRunRequest = {
      id: 'r1',
      acceptedAt: NOW.toISOString(),
      jobName: 'nightly-m123456789',
    };
    const j = job(spec({ runRequests: [{ id: 'r1' }] }), { phase: 'Running', runRequests: [taken] });
    const again = planRunRequests(j, 'Running', cronJob, none, NOW, cfg);
    expect(again.startRuns).to.have.length(1);
    expect(again.handled).to.deep.equal([taken]); // the same acceptedAt: the same scheduled time and Job
    expect(again.events).to.deep.equal([]);
    const seen = planRunRequests(j, 'Running', cronJob, new Set([taken.jobName ?? '']), NOW, cfg);
    expect(seen.startRuns).to.deep.equal([]);
    expect(seen.handled).to.deep.equal([{ ...taken, started: true }]);
    const later = job(spec({ runRequests: [{ id: 'r1' }] }), { phase: 'Running', runRequests: seen.handled });
    expect(planRunRequests(later, 'Running', cronJob, none, NOW, cfg).startRuns).to.deep.equal([]);
  });

  it('a paused job runs by hand; a done or cancelled one refuses, with a Warning', () => {
    const j = job(spec({ suspend: true, runRequests: [{ id: 'r1' }] }), { phase: 'Paused' });
    expect(planRunRequests(j, 'Paused', cronJob, none, NOW, cfg).startRuns).to.have.length(1);
    for (const phase of ['Done', 'Cancelled'] as const) {
      const p = planRunRequests(j, phase, cronJob, none, NOW, cfg);
      expect(p.startRuns).to.deep.equal([]);
      expect(p.handled[0]?.refused).to.equal(`the job is ${phase === 'Done' ? 'done' : 'cancelled'}`);
      expect(p.events[0]).to.include({ type: 'Warning', reason: 'RunRefused' });
    }
  });

  it('a request taken but not started when the job is cancelled is refused, not run', () => {
    const taken: HandledRunRequest = { id: 'r1', acceptedAt: NOW.toISOString(), jobName: 'nightly-m1' };
    const j = job(spec({ cancelled: true, runRequests: [{ id: 'r1' }] }), {
      phase: 'Running',
      runRequests: [taken],
    });
    const p = planRunRequests(j, 'Cancelled', cronJob, none, NOW, cfg);
    expect(p.startRuns).to.deep.equal([]);
    expect(p.handled).to.deep.equal([
      { id: 'r1', acceptedAt: taken.acceptedAt, refused: 'the job was cancelled before the run started' },
    ]);
  });

  it('waits for the CronJob (its input ConfigMap comes first) before making a run', () => {
    const j = job(spec({ runRequests: [{ id: 'r1' }] }), { phase: 'Running' });
    const p = planRunRequests(j, 'Running', undefined, none, NOW, cfg);
    expect(p.handled).to.have.length(1);
    expect(p.startRuns).to.deep.equal([]);
  });

  it('keeps what is in the spec and what is not started, and the last few others', () => {
    const old = Array.from({ length: KEEP_HANDLED + 5 }, (_, i) => ({
      id: `old${i}`,
      acceptedAt: NOW.toISOString(),
      jobName: `nightly-m${i}`,
      started: true,
    }));
    const pending = { id: 'pending', acceptedAt: NOW.toISOString(), jobName: 'nightly-mp' };
    const j = job(spec({ runRequests: [{ id: 'old0' }] }), {
      phase: 'Running',
      runRequests: [...old, pending],
    });
    const ids = planRunRequests(j, 'Running', cronJob, none, NOW, cfg).handled.map((h) => h.id);
    expect(ids).to.include.members(['old0', 'pending']);
    expect(ids).to.have.length(KEEP_HANDLED + 2);
    expect(ids).to.include(`old${KEEP_HANDLED + 4}`);
    expect(ids).to.not.include('old1');
  });

  it('in a whole pass: claimed in status, started, and its Job neither counts nor settles a tick', () => {
    const j = job({ pattern: '* * * * *', count: 3, runRequests: [{ id: 'r1' }] }, { phase: 'Running' });
    const p = plan(j, { cronJob, runs: [] }, NOW, cfg);
    const run = p.startRuns.find((r) => r.metadata?.annotations?.[ANNOTATION_RUN_REQUEST] === 'r1');
    expect(run).to.not.equal(undefined);
    expect(p.status.runRequests?.[0]?.jobName).to.equal(run?.metadata?.name);
    expect(p.status.remaining).to.equal(3);
    const done: V1Job = { ...run, status: { conditions: [{ type: 'Complete', status: 'True' }] } };
    expect(observeRun(done, cronJob, undefined, UID)).to.equal(undefined);
  });
});
