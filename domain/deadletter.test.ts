import { expect } from 'chai';
import type { V1Job } from '@kubernetes/client-node';
import { defaultPlannerConfig as cfg } from './config.js';
import { deadLetterEvent, deadLetterJobName, KEEP_DEAD_LETTERS, planDeadLetters } from './deadletter.js';
import { job as jobOf, UID } from '../fakes/jobs.js';
import { ANNOTATION_DEAD_LETTER, type RunRecord } from './types.js';

const NOW = new Date('2026-12-04T10:01:00Z');
const failed: RunRecord = {
  scheduledTime: '2026-12-04T10:00:00.000Z',
  trigger: 'operator',
  attempt: 3,
  result: 'Failed',
  jobName: 'nightly-1733306400',
  httpStatus: 503,
  message: 'exit code 11: runtime answered HTTP 503',
};
const spec = { pattern: '* * * * *', deadLetterUrl: 'https://sink.example/dl?key=s3cret' };
const env = (j: V1Job | undefined) =>
  Object.fromEntries(
    (j?.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]),
  );

describe('dead letters', () => {
  it('a run failed for good: one delivery Job with the CloudEvent, and an Event naming only the origin', () => {
    const p = planDeadLetters(jobOf(spec), [], [failed], [failed], new Set(), NOW, cfg);
    expect(p.deadLetters).to.deep.equal([
      { run: failed.scheduledTime, jobName: deadLetterJobName('nightly', failed.scheduledTime) },
    ]);
    const j = p.startRuns[0];
    expect(j?.metadata?.annotations?.[ANNOTATION_DEAD_LETTER]).to.equal(failed.scheduledTime);
    expect(j?.metadata?.name).to.match(/^nightly-d[0-9a-f]{9}$/);
    expect(j?.spec?.template.spec?.containers[0]?.args).to.deep.equal(['deliver']);
    expect(j?.spec?.template.spec?.automountServiceAccountToken).to.equal(false);
    const e = env(j);
    expect(e.QJ_DEAD_LETTER_URL).to.equal(spec.deadLetterUrl);
    expect(e).to.not.have.property('QJ_DEAD_LETTER_TOKEN');
    expect(JSON.parse(e.QJ_EVENT as string)).to.deep.equal(deadLetterEvent(jobOf(spec), failed, NOW));
    const ce = deadLetterEvent(jobOf(spec), failed, NOW);
    expect(ce).to.include({
      specversion: '1.0',
      type: 'io.qinling.job.run.failed',
      id: `${UID}/${failed.scheduledTime}`,
    });
    expect(ce.data).to.include({ attempts: 3, http_status: 503, scheduled_time: failed.scheduledTime });
    expect(p.events.map((x) => x.message).join())
      .to.include('https://sink.example')
      .and.not.include('s3cret');
  });

  it('made once: the same failure again (a retried pass) adds nothing; its Job seen, it is never made again', () => {
    const first = planDeadLetters(jobOf(spec), [], [failed], [failed], new Set(), NOW, cfg);
    const again = planDeadLetters(jobOf(spec), first.deadLetters, [failed], [failed], new Set(), NOW, cfg);
    expect(again.deadLetters).to.have.length(1);
    expect(again.events).to.deep.equal([]);
    expect(again.startRuns).to.have.length(1); // still not seen: made again (the name is the lock)
    const name = first.deadLetters[0]?.jobName ?? '';
    const seen = planDeadLetters(jobOf(spec), first.deadLetters, [], [failed], new Set([name]), NOW, cfg);
    expect(seen.deadLetters[0]?.started).to.equal(true);
    expect(seen.startRuns).to.deep.equal([]);
    const gone = planDeadLetters(jobOf(spec), seen.deadLetters, [], [failed], new Set(), NOW, cfg);
    expect(gone.startRuns).to.deep.equal([]);
  });

  it('the namespace’s dead-letter Secret as the token, when the operator names one', () => {
    const p = planDeadLetters(jobOf(spec), [], [failed], [failed], new Set(), NOW, {
      ...cfg,
      deadLetterSecret: 'dl',
    });
    expect(env(p.startRuns[0]).QJ_DEAD_LETTER_TOKEN).to.deep.equal({
      secretKeyRef: { name: 'dl', key: 'token', optional: true },
    });
  });

  it(`without a deadLetterUrl nothing is sent; ${KEEP_DEAD_LETTERS} sent ones are kept`, () => {
    expect(
      planDeadLetters(jobOf({ pattern: '* * * * *' }), [], [failed], [failed], new Set(), NOW, cfg).startRuns,
    ).to.deep.equal([]);
    const many = Array.from({ length: KEEP_DEAD_LETTERS + 5 }, (_, i) => ({
      run: `r${i}`,
      jobName: `j${i}`,
      started: true,
    }));
    expect(planDeadLetters(jobOf(spec), many, [], [], new Set(), NOW, cfg).deadLetters).to.have.length(
      KEEP_DEAD_LETTERS,
    );
  });
});
