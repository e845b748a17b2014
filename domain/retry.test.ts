import { expect } from 'chai';
import { attemptReport, backoffSeconds, budgetSeconds, readAttemptReport, retryOf } from './retry.js';

const cfg = { invokeTimeoutSeconds: 30 };

describe('retry: the policy', () => {
  it('off by default: one attempt of the operator’s deadline, as Qinling', () =>
    expect(retryOf({}, cfg)).to.deep.equal({
      maxAttempts: 1,
      minBackoffSeconds: 1,
      maxBackoffSeconds: 60,
      attemptDeadlineSeconds: 30,
    }));

  it('the backoff doubles from the minimum and stops at the maximum', () => {
    const r = retryOf({ maxAttempts: 8, minBackoffSeconds: 5, maxBackoffSeconds: 30 }, cfg);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffSeconds(r, n))).to.deep.equal([5, 10, 20, 30, 30, 30, 30]);
  });

  it('a maximum below the minimum waits the minimum (the schema refuses it; old objects keep working)', () =>
    expect(backoffSeconds(retryOf({ minBackoffSeconds: 10, maxBackoffSeconds: 2 }, cfg), 1)).to.equal(10));

  it('the Job is given every attempt to its deadline and every backoff', () => {
    expect(budgetSeconds(retryOf({}, cfg))).to.equal(30);
    const r = retryOf({ maxAttempts: 3, minBackoffSeconds: 2, attemptDeadlineSeconds: 10 }, cfg);
    expect(budgetSeconds(r)).to.equal(3 * 10 + 2 + 4);
  });
});

describe('retry: the pod’s report of its attempts', () => {
  it('reads back what it wrote', () => {
    const attempts = [
      {
        attempt: 1,
        startTime: '2026-12-04T10:00:00.000Z',
        httpStatus: 503,
        message: 'runtime answered HTTP 503',
      },
      { attempt: 2, startTime: '2026-12-04T10:00:01.000Z', message: 'runtime unreachable: ECONNREFUSED' },
    ];
    expect(readAttemptReport(attemptReport(attempts))).to.deep.equal(attempts);
  });

  it('fits the kubelet’s 4096 bytes, keeping the last attempts', () => {
    const long = Array.from({ length: 10 }, (_, i) => ({ attempt: i + 1, message: '✗'.repeat(5000) }));
    const text = attemptReport(long);
    expect(Buffer.byteLength(text, 'utf8')).to.be.at.most(4096);
    const back = readAttemptReport(text) ?? [];
    expect(back.at(-1)?.attempt).to.equal(10);
  });

  it('anything else is no report (a log tail, a forged shape)', () => {
    expect(readAttemptReport('invoke: runtime answered HTTP 503')).to.equal(undefined);
    expect(readAttemptReport('{"attempts": 3}')).to.equal(undefined);
    expect(readAttemptReport('{"attempts":[{"attempt":"x","message":1}]}')).to.deep.equal([]);
    expect(readAttemptReport(undefined)).to.equal(undefined);
  });
});
