import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIVERY_ATTEMPTS, runDeliver } from './deliver.js';
import { EXIT } from './invoke.js';

async function sink(answers: number[]) {
  const calls: { auth: string | undefined; type: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      calls.push({ auth: req.headers.authorization, type: req.headers['content-type'], body });
      res.statusCode = answers[Math.min(calls.length - 1, answers.length - 1)] ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { calls, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dl?k=secret`, server };
}

const event = JSON.stringify({
  specversion: '1.0',
  id: 'u/2026-12-04T10:00:00.000Z',
  type: 'io.qinling.job.run.failed',
});

async function quietly<T>(f: () => Promise<T>): Promise<{ out: T; printed: string }> {
  const [log, error] = [console.log, console.error];
  const printed: string[] = [];
  console.log = console.error = (m: string) => printed.push(m);
  try {
    return { out: await f(), printed: printed.join('\n') };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

describe('deliver: a dead letter to its sink', () => {
  const noWait = () => Promise.resolve();

  it('a sink that is down is tried again; the event arrives once, structured, with the token', async () => {
    const s = await sink([503, 200]);
    try {
      const { out, printed } = await quietly(() =>
        runDeliver({ QJ_DEAD_LETTER_URL: s.url, QJ_EVENT: event, QJ_DEAD_LETTER_TOKEN: 'tok-1' }, noWait),
      );
      expect(out).to.equal(EXIT.ok);
      expect(s.calls).to.have.length(2);
      expect(s.calls[1]).to.deep.include({ auth: 'Bearer tok-1', body: event });
      expect(s.calls[1]?.type).to.match(/^application\/cloudevents\+json/);
      expect(printed).to.not.include('tok-1').and.not.include('secret'); // no token, no query
    } finally {
      s.server.close();
    }
  });

  it(`still down after ${DELIVERY_ATTEMPTS} tries: exit 11, for the Job controller to try again later`, async () => {
    const s = await sink([500]);
    try {
      expect(
        (await quietly(() => runDeliver({ QJ_DEAD_LETTER_URL: s.url, QJ_EVENT: event }, noWait))).out,
      ).to.equal(EXIT.transient);
      expect(s.calls).to.have.length(DELIVERY_ATTEMPTS);
      expect(s.calls[0]?.auth).to.equal(undefined);
    } finally {
      s.server.close();
    }
  });

  it('a refusal is final (exit 10, one call); a bad URL or event is a misconfiguration (exit 2)', async () => {
    const s = await sink([400, 200]);
    try {
      expect(
        (await quietly(() => runDeliver({ QJ_DEAD_LETTER_URL: s.url, QJ_EVENT: event }, noWait))).out,
      ).to.equal(EXIT.refused);
      expect(s.calls).to.have.length(1);
    } finally {
      s.server.close();
    }
    for (const env of [
      { QJ_DEAD_LETTER_URL: 'file:///etc/passwd', QJ_EVENT: event },
      { QJ_DEAD_LETTER_URL: 'http://x', QJ_EVENT: 'not json' },
      {},
    ])
      expect((await quietly(() => runDeliver(env, noWait))).out).to.equal(EXIT.misconfigured);
  });
});
