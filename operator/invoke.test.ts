import { expect } from 'chai';
import {
  buildInvocation,
  callOnce,
  classifyError,
  classifyResponse,
  ConfigError,
  EXIT,
  runInvoke,
  runtimeUrl,
  scheduledTime,
  waitMs,
} from './invoke.js';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAttemptReport } from '../domain/retry.js';
import { selfSignedCertificate } from '../fakes/tls.js';

const base = {
  QJ_RUNTIME_URL: 'http://runtime:7070/',
  QJ_JOB_ID: 'job-uid',
  QJ_FUNCTION_ID: 'fn-1',
  QJ_FUNCTION_VERSION: '2',
  QJ_FUNCTION_INPUT: '{"a": "$(x) \'q\'"}\nü',
  QJ_SCHEDULED_TIME: '2026-11-27T12:01:00Z',
};

describe('invoke: the request', () => {
  it("qinling mode posts Qinling's execution body with the job headers", () => {
    const inv = buildInvocation(base);
    expect(inv.url).to.equal('http://runtime:7070/v1/executions');
    expect(JSON.parse(inv.body)).to.deep.equal({
      function_id: 'fn-1',
      function_version: 2,
      input: base.QJ_FUNCTION_INPUT,
      sync: false,
      description: 'Created by Job job-uid',
    });
    expect(inv.headers).to.include({
      'x-qinling-job-id': 'job-uid',
      'x-qinling-scheduled-time': '2026-11-27T12:01:00.000Z',
      'idempotency-key': 'job-uid/2026-11-27T12:01:00.000Z',
    });
    expect(inv.headers).to.not.have.property('x-auth-token');
  });

  it('a run by hand has its own key (never a slot key), says it is manual and who asked', () => {
    const inv = buildInvocation({ ...base, QJ_RUN_REQUEST: 'r-7', QJ_REQUESTED_BY: 'alice@proj-a' });
    expect(inv.headers).to.include({
      'idempotency-key': 'job-uid/manual/r-7',
      'x-qinling-trigger': 'manual',
      'x-qinling-run-request': 'r-7',
      'x-qinling-requested-by': 'alice@proj-a',
      'x-qinling-scheduled-time': '2026-11-27T12:01:00.000Z',
    });
    expect(buildInvocation(base).headers).to.not.have.property('x-qinling-trigger');
  });

  it('uses the alias instead of id and version when given, and the token from the Secret', () => {
    const inv = buildInvocation({ ...base, QJ_FUNCTION_ALIAS: 'prod', QJ_RUNTIME_TOKEN: 's3cret' });
    const body = JSON.parse(inv.body) as Record<string, unknown>;
    expect(body.function_alias).to.equal('prod');
    expect(body).to.not.have.property('function_id');
    expect(inv.headers['x-auth-token']).to.equal('s3cret');
  });

  it('http mode posts the raw input to the filled URL template', () => {
    const inv = buildInvocation({
      ...base,
      QJ_RUNTIME_MODE: 'http',
      QJ_RUNTIME_URL: 'http://{function_id}.fn.svc/run?j={job_id}',
      QJ_RUNTIME_TOKEN: 't',
    });
    expect(inv.url).to.equal('http://fn-1.fn.svc/run?j=job-uid');
    expect(inv.body).to.equal(base.QJ_FUNCTION_INPUT);
    expect(inv.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect(inv.headers.authorization).to.equal('Bearer t');
  });

  it('takes the scheduled time from the CronJob Job name when there is no annotation', () => {
    expect(scheduledTime({ QJ_SCHEDULED_TIME: '', QJ_KUBE_JOB_NAME: 'nightly-29929685' })).to.equal(
      new Date(29929685 * 60_000).toISOString(),
    );
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ ...base, QJ_RUNTIME_URL: '' }, /QJ_RUNTIME_URL/],
    [{ ...base, QJ_RUNTIME_MODE: 'grpc' }, /qinling or http/],
    [{ ...base, QJ_TIMEOUT_SECONDS: '0' }, /positive integer/],
    [{ ...base, QJ_SCHEDULED_TIME: '', QJ_KUBE_JOB_NAME: 'manual' }, /scheduled time/],
  ];
  for (const [env, msg] of bad)
    it(`refuses ${msg.source}`, () => expect(() => buildInvocation(env)).to.throw(msg));
});

describe('invoke: the http-mode URL stays within its template', () => {
  const values = (alias: string) => ({
    function_id: 'fn-1',
    function_alias: alias,
    function_version: '0',
    job_id: 'j',
  });
  const cases: { template: string; alias: string; want: string | RegExp }[] = [
    {
      template: 'http://gateway.fn.svc/function/{function_alias}/invoke',
      alias: 'prod',
      want: 'http://gateway.fn.svc/function/prod/invoke',
    },
    {
      template: 'http://gateway.fn.svc/function/{function_alias}/invoke',
      alias: '..',
      want: /may not be ".."/,
    },
    {
      template: 'http://gateway.fn.svc/function/{function_alias}/invoke',
      alias: '.',
      want: /may not be "."/,
    },
    {
      template: 'http://gateway.fn.svc/function/{function_alias}/invoke',
      alias: '../../admin',
      want: 'http://gateway.fn.svc/function/..%2F..%2Fadmin/invoke',
    },
    {
      template: 'http://gateway.fn.svc/function/{function_alias}',
      alias: 'a b/ü',
      want: 'http://gateway.fn.svc/function/a%20b%2F%C3%BC',
    },
    { template: 'http://gateway.fn.svc/fn-{function_alias}', alias: 'x', want: 'http://gateway.fn.svc/fn-x' },
    { template: 'http://gateway.fn.svc/run?alias={function_alias}', alias: '..', want: /may not be/ },
    { template: 'http://{function_id}.fn.svc/run', alias: '', want: 'http://fn-1.fn.svc/run' },
    // A template whose fixed tail climbs over its placeholder leaves its own prefix.
    {
      template: 'http://gw/a/{function_alias}/../../x',
      alias: 'v',
      want: /leaves the template's fixed part "http:\/\/gw\/a\/"/,
    },
    { template: 'http://{function_alias}.fn.svc/run', alias: 'a@evil', want: /not a URL|leaves/ },
  ];
  for (const tc of cases)
    it(`${tc.template} with ${JSON.stringify(tc.alias)}`, () => {
      if (typeof tc.want === 'string') expect(runtimeUrl(tc.template, values(tc.alias))).to.equal(tc.want);
      else expect(() => runtimeUrl(tc.template, values(tc.alias))).to.throw(ConfigError, tc.want);
    });

  it('a dot segment in the fixed part is the template’s own business', () =>
    expect(runtimeUrl('http://gw/a/../b/{function_alias}', values('x'))).to.equal('http://gw/a/../b/x'));

  it('an alias of .. is a permanent failure: exit 2, nothing sent', async () => {
    const errors: string[] = [];
    const was = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      const code = await runInvoke({
        ...base,
        QJ_RUNTIME_MODE: 'http',
        QJ_RUNTIME_URL: 'http://127.0.0.1:9/function/{function_alias}/invoke',
        QJ_FUNCTION_ALIAS: '..',
        QJ_RUNTIME_TOKEN: 'secret-token',
      });
      expect(code).to.equal(EXIT.misconfigured);
    } finally {
      console.error = was;
    }
    expect(errors.join('\n'))
      .to.match(/may not be ".."/)
      .and.not.include('secret-token');
  });
});

describe('invoke: exit codes', () => {
  const cases: [number, number][] = [
    [200, EXIT.ok],
    [201, EXIT.ok],
    [400, EXIT.refused],
    [404, EXIT.refused],
    [429, EXIT.transient],
    [500, EXIT.transient],
    [503, EXIT.transient],
  ];
  for (const [status, code] of cases)
    it(`HTTP ${status} exits ${code}`, () => expect(classifyResponse(status, '').code).to.equal(code));
  it('says what the runtime answered', () =>
    expect(classifyResponse(500, 'boom\n  now').message).to.equal('runtime answered HTTP 500: boom now'));
  it('a timeout is transient', () => {
    const e = Object.assign(new Error('t'), { name: 'TimeoutError' });
    expect(classifyError(e, 5000)).to.deep.equal({
      code: EXIT.transient,
      message: 'runtime did not answer within 5s',
    });
  });
  it('a refused connection is transient and named', () => {
    const e = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(classifyError(e, 5000)).to.deep.equal({
      code: EXIT.transient,
      message: 'runtime unreachable: ECONNREFUSED',
    });
  });
});

describe('invoke: the HTTP exchange (node’s own client)', () => {
  const listen = async (server: Server) => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };
  const inv = (url: string, timeoutMs = 5000) => ({
    url,
    headers: { 'x-a': 'b' },
    body: '{"é": 1}',
    timeoutMs,
  });

  it('posts the body with its length and the headers, and reads the answer', async () => {
    let got: { method?: string; length?: string; a?: string; body: string } = { body: '' };
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got = {
          method: req.method,
          length: req.headers['content-length'],
          a: String(req.headers['x-a']),
          body,
        };
        res.statusCode = 201;
        res.end('{"id": "execution-1"}');
      });
    });
    try {
      const out = await callOnce(inv(`http://127.0.0.1:${await listen(server)}/v1/executions`));
      expect(out).to.deep.equal({
        outcome: { code: EXIT.ok, message: 'runtime answered HTTP 201: {"id": "execution-1"}' },
        httpStatus: 201,
      });
      expect(got).to.deep.equal({ method: 'POST', length: '9', a: 'b', body: '{"é": 1}' }); // bytes, not characters
    } finally {
      server.close();
    }
  });

  it('a redirect is not followed, and is no success', async () => {
    let elsewhere = 0;
    const other = createServer((_req, res) => {
      elsewhere++;
      res.end();
    });
    const otherPort = await listen(other);
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: `http://127.0.0.1:${otherPort}/` }).end();
    });
    try {
      const out = await callOnce(inv(`http://127.0.0.1:${await listen(server)}/`));
      expect(out.httpStatus).to.equal(307);
      expect(out.outcome.code).to.equal(EXIT.refused);
      expect(elsewhere).to.equal(0);
    } finally {
      server.close();
      other.close();
    }
  });

  it('a runtime that never answers: transient once the timeout is up', async () => {
    const server = createServer(() => undefined); // holds every request
    try {
      const out = await callOnce(inv(`http://127.0.0.1:${await listen(server)}/`, 300));
      expect(out.outcome).to.deep.equal({
        code: EXIT.transient,
        message: 'runtime did not answer within 0.3s',
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('nothing listening: transient, named ECONNREFUSED', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise<void>((r) => server.close(() => r()));
    const out = await callOnce(inv(`http://127.0.0.1:${port}/`));
    expect(out.outcome).to.deep.equal({ code: EXIT.transient, message: 'runtime unreachable: ECONNREFUSED' });
  });

  it('https: called over TLS with the certificate verified (a self-signed one is refused, named)', async () => {
    const { cert, key } = selfSignedCertificate();
    let served = 0;
    const server = createTlsServer({ cert, key }, (_req, res) => {
      served++;
      res.end();
    });
    try {
      const out = await callOnce(inv(`https://127.0.0.1:${await listen(server)}/`));
      expect(out.outcome).to.deep.equal({
        code: EXIT.transient,
        message: 'runtime unreachable: DEPTH_ZERO_SELF_SIGNED_CERT',
      });
      expect(served).to.equal(0);
    } finally {
      server.close();
    }
  });

  it('a scheme other than http or https is refused without a call', async () => {
    const out = await callOnce(inv('ftp://127.0.0.1/'));
    expect(out.outcome.code).to.equal(EXIT.transient);
    expect(out.outcome.message).to.contain('unsupported protocol ftp:');
  });
});

describe('invoke: a run made early calls at its time, not before', () => {
  it('waits the time left, none for a time passed, and refuses one absurdly far', () => {
    const t = Date.parse('2026-11-27T12:01:00Z');
    expect(waitMs('2026-11-27T12:01:00Z', t - 1500)).to.equal(1500);
    expect(waitMs('2026-11-27T12:01:00Z', t + 5000)).to.equal(0);
    expect(() => waitMs('2026-11-27T12:21:00Z', t)).to.throw(ConfigError, /more than 600 s away/);
  });

  it('the call reaches the runtime at the scheduled time or after it', async () => {
    const calls: number[] = [];
    const server = createServer((req, res) => {
      calls.push(Date.now());
      req.resume();
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const was = console.log;
    console.log = () => {};
    try {
      const at = new Date(Date.now() + 1200);
      const code = await runInvoke({
        ...base,
        QJ_RUNTIME_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        QJ_SCHEDULED_TIME: at.toISOString(),
      });
      expect(code).to.equal(EXIT.ok);
      expect(calls).to.have.length(1);
      expect(calls[0]).to.be.at.least(at.getTime());
    } finally {
      console.log = was;
      server.close();
    }
  });
});

describe('invoke: retries (maxAttempts)', () => {
  /** A runtime answering each call with the next status of `answers` (the last one after that). */
  async function runtime(answers: number[]) {
    const calls: { key: string; attempt: string; at: number }[] = [];
    const server = createServer((req, res) => {
      calls.push({
        key: String(req.headers['idempotency-key']),
        attempt: String(req.headers['x-qinling-attempt']),
        at: Date.now(),
      });
      req.resume();
      res.statusCode = answers[Math.min(calls.length - 1, answers.length - 1)] ?? 200;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { calls, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  async function quietly<T>(f: () => Promise<T>): Promise<T> {
    const [log, error] = [console.log, console.error];
    console.log = console.error = () => {};
    try {
      return await f();
    } finally {
      [console.log, console.error] = [log, error];
    }
  }

  const termination = () => join(mkdtempSync(join(tmpdir(), 'invoke-')), 'termination-log');

  it('fails twice, then succeeds: 3 calls, one key, attempts 1 2 3, backoff doubling; each reported', async () => {
    const rt = await runtime([503, 500, 200]);
    const file = termination();
    try {
      const code = await quietly(() =>
        runInvoke({
          ...base,
          QJ_RUNTIME_URL: rt.url,
          QJ_MAX_ATTEMPTS: '5',
          QJ_MIN_BACKOFF_SECONDS: '1',
          QJ_TERMINATION_LOG: file,
        }),
      );
      expect(code).to.equal(EXIT.ok);
      expect(rt.calls.map((c) => c.attempt)).to.deep.equal(['1', '2', '3']);
      expect(new Set(rt.calls.map((c) => c.key))).to.deep.equal(
        new Set(['job-uid/2026-11-27T12:01:00.000Z']),
      );
      const [a, b, c] = rt.calls.map((x) => x.at);
      expect((b ?? 0) - (a ?? 0)).to.be.at.least(1000); // 1 s, then 2 s
      expect((c ?? 0) - (b ?? 0)).to.be.at.least(2000);
      const reported = readAttemptReport(readFileSync(file, 'utf8'));
      expect(reported?.map((x) => [x.attempt, x.httpStatus])).to.deep.equal([
        [1, 503],
        [2, 500],
        [3, 200],
      ]);
    } finally {
      rt.server.close();
    }
  });

  it('a refusal (4xx) is never called again', async () => {
    const rt = await runtime([404, 200]);
    try {
      const code = await quietly(() => runInvoke({ ...base, QJ_RUNTIME_URL: rt.url, QJ_MAX_ATTEMPTS: '3' }));
      expect(code).to.equal(EXIT.refused);
      expect(rt.calls).to.have.length(1);
    } finally {
      rt.server.close();
    }
  });

  it('always transient: exactly maxAttempts calls, then exit 11 with every attempt reported', async () => {
    const rt = await runtime([429]);
    const file = termination();
    try {
      const code = await quietly(() =>
        runInvoke({ ...base, QJ_RUNTIME_URL: rt.url, QJ_MAX_ATTEMPTS: '2', QJ_TERMINATION_LOG: file }),
      );
      expect(code).to.equal(EXIT.transient);
      expect(rt.calls).to.have.length(2);
      expect(readAttemptReport(readFileSync(file, 'utf8'))).to.have.length(2);
    } finally {
      rt.server.close();
    }
  });

  it('without maxAttempts one call, as Qinling: no retry', async () => {
    const rt = await runtime([503, 200]);
    try {
      expect(await quietly(() => runInvoke({ ...base, QJ_RUNTIME_URL: rt.url }))).to.equal(EXIT.transient);
      expect(rt.calls.map((c) => c.attempt)).to.deep.equal(['1']);
    } finally {
      rt.server.close();
    }
  });

  it('a policy out of range is a permanent failure, nothing sent', () => {
    expect(() => buildInvocation({ ...base, QJ_MAX_ATTEMPTS: '11' })).to.throw(
      ConfigError,
      /QJ_MAX_ATTEMPTS/,
    );
    expect(() => buildInvocation({ ...base, QJ_MIN_BACKOFF_SECONDS: '0' })).to.throw(ConfigError);
  });
});
