// Component tests: the real app, service and static auth over an in-memory JobStore fake.
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { makeApp, publicBase, type AppDeps } from './app.js';
import { StaticTokens, type Authenticator } from './auth.js';
import { InFlight, RecentTokens, TokenBuckets } from './limits.js';
import { listen, makeServer } from './listen.js';
import { makeApiMetrics, metricsHandler } from './metrics.js';
import { JobService } from './service.js';
import type { JobStore } from './store.js';
import { FakeStore, NOW } from '../fakes/store.js';

const FID = '5b2a7c1e-1111-4222-8333-944455556666';

/** The real app over `store`, listening on a free loopback port; resolves to its base URL. */
async function serve(
  store: JobStore,
  tokens: string,
  limits: TokenBuckets,
  served?: ReadonlySet<string>,
  extra: Partial<AppDeps> = {},
): Promise<{ server: Server; base: string }> {
  const dir = mkdtempSync(`${tmpdir()}/qj-api-`);
  writeFileSync(`${dir}/tokens`, tokens);
  const app = makeApp({
    service: new JobService(
      store,
      { createNamespaces: true, ...(served ? { namespaces: served } : {}) },
      () => NOW,
    ),
    limits,
    authLimits: {
      failures: new TokenBuckets(0, 1),
      inFlight: new InFlight(0),
      recent: new RecentTokens(60_000),
    },
    metrics: makeApiMetrics(),
    auth: new StaticTokens(`${dir}/tokens`),
    ready: () => store.ready(),
    log: pino({ level: 'silent' }),
    bodyLimit: 4096,
    publicBase: '',
    ...extra,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const addr = server.address();
  return { server, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

/** A logger that keeps its JSON lines, to check what was logged at which level. */
function keptLog() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as never) });
  return { log, lines };
}

/** A request through node:http, which (unlike fetch) sends any method, TRACE included. */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('api: the facade over a fake store', () => {
  const store = new FakeStore();
  let server: Server;
  let base = '';
  before(async () => {
    const tokens = [
      '# token,user,project,roles',
      'tok-a,alice,proj-a,member',
      'tok-b,bob,proj-b,member',
      'tok-admin,root,proj-a,admin;member',
    ];
    ({ server, base } = await serve(store, tokens.join('\n'), new TokenBuckets(0, 1)));
  });
  after(() => server.close());

  async function call(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(base + path, {
      method,
      headers: {
        'content-type': 'application/json',
        accept: '*/*',
        ...(token ? { 'x-auth-token': token } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  }
  const post = (token: string, b: Record<string, unknown>) =>
    call('POST', '/v1/jobs', token, {
      name: null,
      function_id: FID,
      function_alias: null,
      function_version: 0,
      first_execution_time: null,
      pattern: null,
      function_input: null,
      count: null,
      ...b,
    });

  it('serves the version documents without a token', async () => {
    const root = await call('GET', '/');
    expect(root.status).to.equal(200);
    expect(root.json).to.deep.equal({
      versions: [{ id: 'v1.0', status: 'CURRENT', links: [{ href: '/v1', target: 'v1', rel: 'self' }] }],
    });
    expect((await call('GET', '/v1/')).json).to.deep.equal({ uri: '/v1' });
  });

  it('creates a job (201) with the 14 fields, and shows it', async () => {
    const r = await post('tok-a', {
      name: 'nightly',
      pattern: '*/5 * * * *',
      count: 2,
      function_input: '{"a": "$(b)"}',
    });
    expect(r.status).to.equal(201);
    expect(r.headers.get('x-openstack-request-id')).to.match(/^req-[0-9a-f-]{36}$/);
    expect(Object.keys(r.json ?? {}).sort()).to.deep.equal([
      'count',
      'created_at',
      'first_execution_time',
      'function_alias',
      'function_id',
      'function_input',
      'function_version',
      'id',
      'name',
      'next_execution_time',
      'pattern',
      'project_id',
      'status',
      'updated_at',
    ]);
    expect(r.json).to.include({
      status: 'running',
      project_id: 'proj-a',
      count: 2,
      first_execution_time: '2026-11-27T12:05:00Z',
      function_input: '{"a": "$(b)"}',
    });
    const shown = await call('GET', `/v1/jobs/${String(r.json?.id)}`, 'tok-a');
    expect(shown.json).to.deep.equal(r.json);
    const listed = await call('GET', '/v1/jobs', 'tok-a');
    expect((listed.json?.jobs as unknown[]).length).to.equal(1);
  });

  it('GET /v1/jobs/{id}/schedule: the next runs, the first being next_execution_time; its own project only', async () => {
    const r = await post('tok-a', { name: 'sched', pattern: '*/20 * * * *', count: 4 });
    const id = String(r.json?.id);
    const s = await call('GET', `/v1/jobs/${id}/schedule?count=10`, 'tok-a');
    expect(s.status).to.equal(200);
    expect(s.json).to.deep.equal({
      job_id: id,
      time_zone: 'Etc/UTC',
      runs: ['12:20', '12:40', '13:00', '13:20'].map((t) => ({
        time: `2026-11-27T${t}:00Z`,
        local: `2026-11-27T${t}:00+00:00`,
        overlap: false,
      })),
      skipped: [],
    });
    expect((s.json?.runs as { time: string }[])[0]?.time).to.equal(r.json?.next_execution_time);
    const five = await call('GET', `/v1/jobs/${id}/schedule`, 'tok-a');
    expect(five.json?.runs).to.have.length(4); // the count has 4 left; 5 when none is asked
    for (const bad of ['0', '1001', 'x', '1.5', '-1']) {
      const b = await call('GET', `/v1/jobs/${id}/schedule?count=${bad}`, 'tok-a');
      expect(b.status, bad).to.equal(400);
      expect(b.json?.faultstring).to.equal('Invalid count: must be an integer from 1 to 1000.');
    }
    expect((await call('GET', `/v1/jobs/${id}/schedule`, 'tok-b')).status).to.equal(404);
    await call('DELETE', `/v1/jobs/${id}`, 'tok-a');
  });

  it('POST /v1/jobs/{id}/run: 202 with the request the operator starts once; a retried key adds nothing', async () => {
    const r = await post('tok-a', { name: 'by-hand', pattern: '0 3 * * *' });
    const id = String(r.json?.id);
    const first = await call(
      'POST',
      `/v1/jobs/${id}/run`,
      'tok-a',
      { function_input: 'once' },
      { 'idempotency-key': 'k1' },
    );
    expect(first.status).to.equal(202);
    expect(first.json).to.deep.include({ job_id: id, requested_by: 'alice@proj-a' });
    const again = await call(
      'POST',
      `/v1/jobs/${id}/run`,
      'tok-a',
      { function_input: 'once' },
      { 'idempotency-key': 'k1' },
    );
    expect(again.json?.id).to.equal(first.json?.id);
    const plain = await call('POST', `/v1/jobs/${id}/run`, 'tok-a');
    expect(plain.status).to.equal(202);
    expect(plain.json?.id).to.not.equal(first.json?.id);
    const stored = [...store.jobs.values()].find((j) => j.metadata.uid === id);
    expect(stored?.spec.runRequests).to.deep.equal([
      { id: first.json?.id, requestedBy: 'alice@proj-a', functionInput: 'once' },
      { id: plain.json?.id, requestedBy: 'alice@proj-a' },
    ]);
    // Qinling's updated_at is the job's, and a run request changes nothing of the job.
    expect((await call('GET', `/v1/jobs/${id}`, 'tok-a')).json?.updated_at).to.equal(r.json?.updated_at);
    for (const [body, message] of [
      [{ count: 1 }, 'Unknown attribute(s): count'],
      [{ function_input: 'a\u0000' }, 'Invalid function_input: must not contain NUL characters.'],
    ] as const) {
      const bad = await call('POST', `/v1/jobs/${id}/run`, 'tok-a', body);
      expect(bad.status).to.equal(400);
      expect(bad.json?.faultstring).to.equal(message);
    }
    expect((await call('POST', `/v1/jobs/${id}/run`, 'tok-b')).status).to.equal(404);
    for (let i = 0; i < 8; i++)
      expect((await call('POST', `/v1/jobs/${id}/run`, 'tok-a')).status).to.equal(202);
    const full = await call('POST', `/v1/jobs/${id}/run`, 'tok-a');
    expect(full.status).to.equal(409); // 10 waiting: the operator has taken none (no operator here)
    await call('PUT', `/v1/jobs/${id}`, 'tok-a', { status: 'cancelled' });
    const refused = await call('POST', `/v1/jobs/${id}/run`, 'tok-a');
    expect(refused.status).to.equal(400);
    expect(refused.json?.faultstring).to.equal('Can not run a finished job.');
    await call('DELETE', `/v1/jobs/${id}`, 'tok-a');
  });

  it('GET /v1/jobs/{id}/runs: the ledger newest first, a page at a time, with the counters', async () => {
    const r = await post('tok-a', { name: 'ledger', pattern: '* * * * *' });
    const id = String(r.json?.id);
    const stored = [...store.jobs.values()].find((j) => j.metadata.uid === id);
    if (!stored) throw new Error('not stored');
    stored.status = {
      phase: 'Running',
      recentRuns: [
        {
          scheduledTime: '2026-11-27T12:02:00.000Z',
          trigger: 'manual',
          attempt: 1,
          result: 'Failed',
          runRequest: 'r1',
          httpStatus: 503,
          message: 'busy',
        },
        { scheduledTime: '2026-11-27T12:01:00.000Z', trigger: 'schedule', attempt: 1, result: 'Missed' },
      ],
      succeeded: 4,
      failed: 1,
      missedRuns: 1,
      consecutiveFailures: 1,
      lastFailureTime: '2026-11-27T12:02:05.000Z',
    };
    const all = await call('GET', `/v1/jobs/${id}/runs`, 'tok-a');
    expect(all.status).to.equal(200);
    expect(all.json).to.deep.include({
      succeeded: 4,
      failed: 1,
      missed: 1,
      consecutive_failures: 1,
      last_success_time: null,
    });
    const runs = all.json?.runs as { id: string; result: string; http_status: number | null }[];
    expect(runs.map((x) => [x.id, x.result, x.http_status])).to.deep.equal([
      ['manual/r1', 'Failed', 503],
      ['2026-11-27T12:01:00.000Z', 'Missed', null],
    ]);
    const page = await call('GET', `/v1/jobs/${id}/runs?limit=1&marker=manual%2Fr1`, 'tok-a');
    expect((page.json?.runs as { id: string }[]).map((x) => x.id)).to.deep.equal([
      '2026-11-27T12:01:00.000Z',
    ]);
    expect((await call('GET', `/v1/jobs/${id}/runs?limit=0`, 'tok-a')).status).to.equal(400);
    expect((await call('GET', `/v1/jobs/${id}/runs`, 'tok-b')).status).to.equal(404);
    await call('DELETE', `/v1/jobs/${id}`, 'tok-a');
  });

  it('POST /v1/jobs?dry_run=true: checked as a create, answered with its first runs, nothing stored', async () => {
    const before = store.jobs.size;
    const body = { name: 'try', function_id: FID, pattern: '*/20 * * * *', count: 2 };
    const r = await call('POST', '/v1/jobs?dry_run=true', 'tok-a', body);
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.include({
      name: 'try',
      status: 'running',
      count: 2,
      project_id: 'proj-a',
      first_execution_time: '2026-11-27T12:20:00Z',
      next_execution_time: '2026-11-27T12:20:00Z',
      first_runs: ['2026-11-27T12:20:00Z', '2026-11-27T12:40:00Z'],
    });
    expect(store.jobs.size).to.equal(before);
    const bad = await call('POST', '/v1/jobs?dry_run=true', 'tok-a', { ...body, pattern: '61 * * * *' });
    expect(bad.status).to.equal(400);
    expect(bad.json?.faultstring).to.equal('The specified pattern is not valid: 61 * * * *');
  });

  it('keeps projects apart: another project’s job is 404, its list empty; all_projects is admin-only', async () => {
    const mine = await post('tok-a', { pattern: '0 * * * *' });
    const id = String(mine.json?.id);
    const other = await call('GET', `/v1/jobs/${id}`, 'tok-b');
    expect(other.status).to.equal(404);
    expect(other.json).to.deep.equal({
      faultcode: 'Client',
      faultstring: `Job not found [id=${id}]`,
      debuginfo: null,
    });
    expect((await call('PUT', `/v1/jobs/${id}`, 'tok-b', { status: 'paused' })).status).to.equal(404);
    expect((await call('DELETE', `/v1/jobs/${id}`, 'tok-b')).status).to.equal(404);
    expect((await call('GET', '/v1/jobs', 'tok-b')).json).to.deep.equal({ jobs: [] });
    expect((await call('GET', '/v1/jobs?all_projects=true', 'tok-b')).status).to.equal(403);
    const all = await call('GET', '/v1/jobs?all_projects=true', 'tok-admin');
    expect((all.json?.jobs as unknown[]).length).to.equal(store.jobs.size);
  });

  it('pages with limit and marker, and filters, without changing the default', async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++)
      made.push(String((await post('tok-b', { pattern: '0 * * * *', name: `p${i}` })).json?.id));
    const ids = async (query: string) =>
      ((await call('GET', `/v1/jobs${query}`, 'tok-b')).json?.jobs as { id: string }[]).map((j) => j.id);
    expect(await ids('')).to.deep.equal(made);
    expect(await ids('?limit=2')).to.deep.equal(made.slice(0, 2));
    expect(await ids('?limit=100000')).to.deep.equal(made); // clamped to the maximum page
    expect(await ids(`?limit=2&marker=${made[1]}`)).to.deep.equal(made.slice(2));
    expect(await ids('?name=p1')).to.deep.equal([made[1]]);
    expect(await ids('?status=paused')).to.deep.equal([]);
    const bad = await call('GET', '/v1/jobs?limit=0', 'tok-b');
    expect(bad.status).to.equal(400);
    expect(bad.json?.faultstring).to.contain('Invalid limit');
    expect((await call('GET', '/v1/jobs?marker=nope', 'tok-b')).json?.faultstring).to.equal(
      'Invalid marker: nope',
    );
    // A filter and a marker together: the page starts after the marker, among the matches.
    const filtered = await call('GET', `/v1/jobs?name=p1&marker=${made[0]}`, 'tok-b');
    expect(filtered.status).to.equal(400); // Qinling: the marker must be in the result
    expect(filtered.json?.faultstring).to.equal(`Invalid marker: ${made[0]}`);
    expect(await ids(`?name=p1&limit=1&marker=${made[1]}`)).to.deep.equal([]);
    const theirs = String((await post('tok-a', { pattern: '0 * * * *' })).json?.id);
    expect(
      (await call('GET', `/v1/jobs?marker=${theirs}`, 'tok-b')).status,
      'another project’s job',
    ).to.equal(400);
  });

  it('a job with an operator-written status shows a PUT’s next_execution_time at once, and a resume’s next tick', async () => {
    const made = await post('tok-a', { pattern: '*/10 * * * *' });
    const id = String(made.json?.id);
    const job = store.jobs.get(id);
    if (!job) throw new Error('no job');
    // What the operator wrote: the pattern's next tick, computed for that pattern and zone.
    job.status = {
      phase: 'Running',
      nextExecutionTime: '2026-11-27T12:10:00.000Z',
      nextRunByOperator: false,
      scheduledWith: { pattern: '*/10 * * * *', timeZone: 'Etc/UTC' },
    };
    const put = await call('PUT', `/v1/jobs/${id}`, 'tok-a', { next_execution_time: '2026-11-27 12:04:30' });
    expect(put.json?.next_execution_time).to.equal('2026-11-27T12:04:30Z');
    expect((await call('GET', `/v1/jobs/${id}`, 'tok-a')).json?.next_execution_time).to.equal(
      '2026-11-27T12:04:30Z',
    );
    // The operator applied that override, then saw the job paused (its status says so).
    const paused = store.jobs.get(id);
    if (paused) {
      paused.spec.suspend = true;
      paused.status = {
        ...job.status,
        phase: 'Paused',
        nextExecutionTime: '2026-11-27T12:04:30.000Z',
        appliedNextExecutionTime: '2026-11-27T12:04:30Z',
      };
    }
    const resumed = await call('PUT', `/v1/jobs/${id}`, 'tok-a', { status: 'running' });
    // Qinling: resuming skips what was missed; NOW is 12:00:30, so the tick after it.
    expect(resumed.json?.next_execution_time).to.equal('2026-11-27T12:10:00Z');
  });

  it('updates with Qinling’s rules and retries a conflict', async () => {
    const j = await post('tok-a', { pattern: '* * * * *' });
    const id = String(j.json?.id);
    store.conflictsToThrow = 2;
    const paused = await call('PUT', `/v1/jobs/${id}`, 'tok-a', {
      name: 'renamed',
      status: 'paused',
      pattern: null,
      next_execution_time: null,
      function_input: null,
    });
    expect(paused.status).to.equal(200);
    expect(paused.json).to.include({ name: 'renamed', status: 'paused', updated_at: '2026-11-27T12:00:30Z' });
    const bad = await call('PUT', `/v1/jobs/${id}`, 'tok-a', { status: 'done' });
    expect(bad.status).to.equal(400);
    expect(bad.json?.faultstring).to.equal('Invalid status.');
  });

  it('with an Idempotency-Key, a retried POST returns the job it made; another body is a 409', async () => {
    const body = {
      name: null,
      function_id: FID,
      function_alias: null,
      function_version: 0,
      first_execution_time: null,
      pattern: '0 4 * * *',
      function_input: 'once',
      count: null,
    };
    const key = { 'idempotency-key': 'retry-me-1' };
    const first = await call('POST', '/v1/jobs', 'tok-a', body, key);
    const again = await call('POST', '/v1/jobs', 'tok-a', body, key);
    expect(first.status).to.equal(201);
    expect(again.status).to.equal(201);
    expect(again.json?.id).to.equal(first.json?.id);
    const other = await call('POST', '/v1/jobs', 'tok-a', { ...body, function_input: 'different' }, key);
    expect(other.status).to.equal(409);
    expect(other.json?.faultstring).to.equal('This Idempotency-Key was used for a different job.');
    const bad = await call('POST', '/v1/jobs', 'tok-a', body, { 'idempotency-key': 'has space' });
    expect(bad.status).to.equal(400);
  });

  it('finds a job another replica just made (read through), only in the caller’s own project', async () => {
    const made = await post('tok-a', { pattern: '0 * * * *' });
    const id = String(made.json?.id);
    const job = store.jobs.get(id);
    if (!job) throw new Error('no job');
    store.jobs.delete(id); // this replica's cache has not seen it yet
    store.elsewhere.set(id, job);
    try {
      const shown = await call('GET', `/v1/jobs/${id}`, 'tok-a');
      expect(shown.status).to.equal(200);
      expect(shown.json?.id).to.equal(id);
      expect(store.readThroughs[store.readThroughs.length - 1]).to.deep.equal(['ns-a']);
      expect((await call('GET', `/v1/jobs/${id}`, 'tok-b')).status).to.equal(404);
      expect(store.readThroughs[store.readThroughs.length - 1]).to.deep.equal(['ns-b']);
      const n = store.readThroughs.length;
      expect((await call('GET', '/v1/jobs/not-a-uuid', 'tok-a')).status).to.equal(400);
      expect(store.readThroughs.length, 'no apiserver read for an id that cannot exist').to.equal(n);
    } finally {
      store.elsewhere.delete(id);
      store.jobs.set(id, job);
    }
  });

  it('ids that are no UUID are 400s, as Qinling’s UUID-typed routes answered; never spliced into anything', async () => {
    for (const id of ['..%2F..%2Fsecrets', '%00', 'x'.repeat(10_000), 'not-a-uuid']) {
      const r = await call('GET', `/v1/jobs/${id}`, 'tok-a');
      expect(r.status, id.slice(0, 20)).to.equal(400);
      expect(r.json?.faultcode).to.equal('Client');
      expect(r.json?.faultstring).to.equal(`Expected a uuid but received ${decodeURIComponent(id)}.`);
    }
  });

  it('refuses a JSON array, null, or __proto__ as a body, and creates nothing', async () => {
    const before = store.jobs.size;
    for (const body of ['[]', 'null', '{"__proto__": {"admin": true}, "pattern": "* * * * *"}']) {
      const r = await call('POST', '/v1/jobs', 'tok-a', body);
      expect(r.status, body).to.equal(400);
      expect(r.json?.faultcode).to.equal('Client');
    }
    expect(store.jobs.size).to.equal(before);
    expect(({} as Record<string, unknown>).admin).to.equal(undefined);
  });

  it('deletes (204, empty) and the job is gone', async () => {
    const j = await post('tok-a', { first_execution_time: '2026-11-27 13:00:00' });
    const id = String(j.json?.id);
    const del = await call('DELETE', `/v1/jobs/${id}`, 'tok-a');
    expect(del.status).to.equal(204);
    expect(del.json).to.equal(undefined);
    expect((await call('GET', `/v1/jobs/${id}`, 'tok-a')).status).to.equal(404);
  });

  const errors: [
    string,
    () => Promise<{ status: number; json?: Record<string, unknown> }>,
    number,
    string,
  ][] = [
    ['no token', () => call('GET', '/v1/jobs'), 401, 'The request you have made requires authentication.'],
    [
      'an unknown token',
      () => call('GET', '/v1/jobs', 'nope'),
      401,
      'The request you have made requires authentication.',
    ],
    [
      'a bad rule',
      () => post('tok-a', { pattern: null }),
      400,
      'pattern or first_execution_time must be specified.',
    ],
    [
      'an unknown key',
      () => post('tok-a', { pattern: '* * * * *', colour: 'red' }),
      400,
      'Unknown attribute(s): colour',
    ],
    [
      'malformed JSON',
      () => call('POST', '/v1/jobs', 'tok-a', '{"pattern": '),
      400,
      'Malformed JSON in request body.',
    ],
    [
      'a body over the limit',
      () => post('tok-a', { pattern: '* * * * *', function_input: 'x'.repeat(5000) }),
      413,
      'Request body too large.',
    ],
    [
      'a non-JSON body',
      () => call('POST', '/v1/jobs', 'tok-a', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'Unsupported media type: send application/json.',
    ],
    ['an unknown route', () => call('GET', '/v1/nothing', 'tok-a'), 404, 'Resource not found.'],
    ['a method the route lacks', () => call('PATCH', '/v1/jobs', 'tok-a', {}), 405, 'Method not allowed.'],
  ];
  for (const [name, make, status, message] of errors) {
    it(`${name}: ${status} with Qinling's JSON error body`, async () => {
      const r = await make();
      expect(r.status).to.equal(status);
      expect(r.json).to.deep.equal({ faultcode: 'Client', faultstring: message, debuginfo: null });
    });
  }

  it('marks every response, function_input or error, as not to be cached or sniffed', async () => {
    const made = await post('tok-a', { pattern: '0 * * * *', function_input: 'secret-ish' });
    const id = String(made.json?.id);
    const cases: [string, () => ReturnType<typeof call>][] = [
      ['a create', () => Promise.resolve(made)],
      ['a show', () => call('GET', `/v1/jobs/${id}`, 'tok-a')],
      ['a list', () => call('GET', '/v1/jobs', 'tok-a')],
      ['an update', () => call('PUT', `/v1/jobs/${id}`, 'tok-a', { function_input: 'changed' })],
      ['a 404 fault', () => call('GET', `/v1/jobs/${FID}`, 'tok-a')],
      ['a 401 fault', () => call('GET', '/v1/jobs')],
      ['the version document', () => call('GET', '/')],
    ];
    for (const [name, make] of cases) {
      const r = await make();
      expect(r.headers.get('cache-control'), name).to.equal('no-store');
      expect(r.headers.get('x-content-type-options'), name).to.equal('nosniff');
    }
  });

  it('answers 503 (JSON, Server) until the cache has synced', async () => {
    store.isReady = false;
    try {
      const r = await call('GET', '/v1/jobs', 'tok-a');
      expect(r.status).to.equal(503);
      expect(r.json?.faultcode).to.equal('Server');
      expect((await call('GET', '/readyz')).status).to.equal(503);
    } finally {
      store.isReady = true;
    }
  });
});

describe('api: the version documents never reflect the Host header', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const cases = [
    { name: 'no --public-url: relative links', publicUrl: '', want: '/v1' },
    {
      name: 'a --public-url',
      publicUrl: 'https://qinling.example.com',
      want: 'https://qinling.example.com/v1',
    },
    {
      name: 'a --public-url with a path and a trailing slash',
      publicUrl: 'https://gw.example.com/qinling/',
      want: 'https://gw.example.com/qinling/v1',
    },
  ];
  for (const tc of cases) {
    it(`${tc.name}, whatever Host says`, async () => {
      const { server, base } = await serve(
        new FakeStore(),
        't,u,p,member\n',
        new TokenBuckets(0, 1),
        undefined,
        {
          publicBase: publicBase(tc.publicUrl),
        },
      );
      servers.push(server);
      for (const host of ['evil.example', 'evil.example:8443']) {
        const root = JSON.parse((await raw(base, 'GET', '/', { host })).text) as {
          versions: { links: { href: string }[] }[];
        };
        expect(root.versions[0]?.links[0]?.href, host).to.equal(tc.want);
        for (const path of ['/v1', '/v1/'])
          expect(JSON.parse((await raw(base, 'GET', path, { host })).text), path).to.deep.equal({
            uri: tc.want,
          });
      }
    });
  }

  const bad = ['ftp://x.example', 'https://x.example/?a=b', 'https://u:p@x.example', 'not a url'];
  for (const url of bad) it(`refuses --public-url ${url}`, () => expect(() => publicBase(url)).to.throw());
});

describe('api: methods nobody implements', () => {
  const kept = keptLog();
  let server: Server;
  let base = '';
  before(async () => {
    ({ server, base } = await serve(
      new FakeStore(),
      'tok,u,proj-a,member\n',
      new TokenBuckets(0, 1),
      undefined,
      {
        log: kept.log,
      },
    ));
  });
  after(() => server.close());

  const cases = [
    { method: 'PROPFIND', path: '/v1/jobs' },
    { method: 'TRACE', path: '/v1/jobs' },
    { method: 'MKCOL', path: '/v1/jobs' },
    { method: 'PROPFIND', path: '/' },
    { method: 'MKCOL', path: '/v1/nothing' },
  ];
  for (const tc of cases) {
    it(`${tc.method} ${tc.path} without a token: 501 with Qinling's fault, no error log`, async () => {
      kept.lines.length = 0;
      const r = await raw(base, tc.method, tc.path);
      expect(r.status).to.equal(501);
      expect(r.headers['content-type']).to.match(/^application\/json/);
      expect(JSON.parse(r.text)).to.deep.equal({
        faultcode: 'Server',
        faultstring: 'Method not implemented.',
        debuginfo: null,
      });
      expect(kept.lines.filter((l) => l.level >= 40).map((l) => l.msg)).to.deep.equal([]);
    });
  }
});

describe('api: limits and metrics', () => {
  let server: Server;
  let base = '';
  const metrics = makeApiMetrics();
  before(async () => {
    ({ server, base } = await serve(
      new FakeStore(),
      'tok,u,proj-a,member\n',
      new TokenBuckets(1, 2),
      undefined,
      {
        metrics,
      },
    ));
  });
  after(() => server.close());

  it('answers 429 with Retry-After once a token has used its burst', async () => {
    const get = () => fetch(`${base}/v1/jobs`, { headers: { 'x-auth-token': 'tok' } });
    expect((await get()).status).to.equal(200);
    expect((await get()).status).to.equal(200);
    const limited = await get();
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers.get('retry-after'))).to.be.at.least(1);
    expect(await limited.json()).to.deep.equal({
      faultcode: 'Client',
      faultstring: 'Too many requests; slow down.',
      debuginfo: null,
    });
  });

  it('exposes request metrics by route pattern, never by id, on the metrics listener only', async () => {
    await fetch(`${base}/v1/jobs/some-id`, { headers: { 'x-auth-token': 'nope' } });
    const publicScrape = await fetch(`${base}/metrics`);
    expect(publicScrape.status).to.equal(404);
    expect(await publicScrape.json()).to.deep.equal({
      faultcode: 'Client',
      faultstring: 'Resource not found.',
      debuginfo: null,
    });
    const handle = metricsHandler(metrics.registry);
    const listener = makeServer((req, res) => void handle(req, res), { requestTimeoutMs: 5000 });
    const port = await listen(listener, 0, '127.0.0.1');
    let text: string;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/v1/jobs`)).status).to.equal(404);
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } finally {
      listener.close();
    }
    expect(text).to.match(
      /qinling_jobs_api_requests_total\{method="GET",route="\/v1\/jobs",status="200"\} 2/,
    );
    expect(text).to.contain('qinling_jobs_api_rate_limited_total 1');
    expect(text).to.not.contain('some-id');
  });
});

describe('api: authentication comes first, and failing it is limited per address', () => {
  const store = new FakeStore();
  let t = 0;
  const failures = new TokenBuckets(1, 3, () => t);
  /** Static tokens, counted; a token `slow-*` waits until released. */
  const validations: string[] = [];
  const held: (() => void)[] = [];
  const tokens = new StaticTokens(
    (() => {
      const dir = mkdtempSync(`${tmpdir()}/qj-api-`);
      writeFileSync(`${dir}/tokens`, 'tok-a,alice,proj-a,member\ntok-new,nina,proj-a,member\n');
      return `${dir}/tokens`;
    })(),
  );
  const auth: Authenticator = {
    authenticate: async (token) => {
      validations.push(token);
      if (token.startsWith('slow-')) await new Promise<void>((r) => held.push(r));
      return tokens.authenticate(token);
    },
  };
  let server: Server;
  let base = '';
  before(async () => {
    ({ server, base } = await serve(store, 'unused,u,p,member\n', new TokenBuckets(0, 1), undefined, {
      auth,
      authLimits: { failures, inFlight: new InFlight(2), recent: new RecentTokens(60_000, 100, () => t) },
    }));
  });
  after(() => server.close());
  beforeEach(() => {
    t += 3600_000; // a full bucket for each test
    validations.length = 0;
  });
  const get = (token?: string) => raw(base, 'GET', '/v1/jobs', token ? { 'x-auth-token': token } : {});

  const bodies: { name: string; body: string | Buffer }[] = [
    { name: 'malformed JSON', body: '{"pattern": ' },
    { name: 'a 300 KiB body', body: Buffer.alloc(300 * 1024, 'x') },
    { name: 'JSON of the wrong type', body: '[]' },
  ];
  for (const tc of bodies) {
    it(`without a token, ${tc.name} is a 401, never read as a job`, async () => {
      const r = await raw(base, 'POST', '/v1/jobs', { 'content-type': 'application/json' }, tc.body);
      expect(r.status).to.equal(401);
      expect(JSON.parse(r.text)).to.deep.equal({
        faultcode: 'Client',
        faultstring: 'The request you have made requires authentication.',
        debuginfo: null,
      });
    });
  }

  it('after a burst of failures an address gets 429 with Retry-After, and nothing is validated', async () => {
    const statuses = [];
    for (const token of ['bad-1', '', 'bad-2']) statuses.push((await get(token)).status);
    expect(statuses).to.deep.equal([401, 401, 401]);
    const limited = await get('bad-3');
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers['retry-after'])).to.be.at.least(1);
    expect(JSON.parse(limited.text)).to.deep.equal({
      faultcode: 'Client',
      faultstring: 'Too many requests; slow down.',
      debuginfo: null,
    });
    expect(validations).to.deep.equal(['bad-1', 'bad-2']);
    t += 1000; // one failure's worth back
    expect((await get('bad-4')).status).to.equal(401);
    expect((await get('bad-5')).status).to.equal(429);
  });

  it('a token that passed lately still works from a refused address; a new one waits', async () => {
    expect((await get('tok-a')).status).to.equal(200);
    for (let i = 0; i < 3; i++) await get(`bad-${i}`);
    expect((await get('bad-x')).status).to.equal(429);
    expect((await get('tok-a')).status).to.equal(200);
    expect((await get('tok-new')).status).to.equal(429);
  });

  it('bounds the validations under way per address', async () => {
    const first = [get('slow-1'), get('slow-2')];
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await get('slow-3');
    expect(third.status).to.equal(429);
    for (const release of held.splice(0)) release();
    expect((await Promise.all(first)).map((r) => r.status)).to.deep.equal([401, 401]);
  });
});

describe('api: serving only the operator’s namespaces', () => {
  const store = new FakeStore();
  let server: Server;
  let base = '';
  const spec = { function_id: '5b2a7c1e-1111-4222-8333-944455556666', pattern: '0 5 * * *' };
  before(async () => {
    const tokens = ['tok-a,alice,proj-a,member', 'tok-b,bob,proj-b,member', 'tok-c,carol,proj-c,member'];
    tokens.push('tok-admin,root,proj-a,admin');
    ({ server, base } = await serve(store, tokens.join('\n'), new TokenBuckets(0, 1), new Set(['ns-a'])));
  });
  after(() => server.close());
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('makes jobs only in a served namespace, and never makes a namespace', async () => {
    expect((await call('POST', '/v1/jobs', 'tok-a', spec)).status).to.equal(201);
    const b = await call('POST', '/v1/jobs', 'tok-b', spec);
    expect(b.status).to.equal(403);
    expect(b.json.faultstring).to.equal('Project proj-b has no namespace for jobs on this cluster.');
    expect((await call('POST', '/v1/jobs', 'tok-c', spec)).status).to.equal(403);
    expect([...store.namespaces.keys()]).to.deep.equal(['ns-a', 'ns-b']);
  });

  it('shows no job of an unserved namespace, even to the admin', async () => {
    const other = await store.create('ns-b', { functionId: spec.function_id, pattern: spec.pattern });
    const all = await call('GET', '/v1/jobs?all_projects=true', 'tok-admin');
    const ids = (all.json.jobs as { id: string }[]).map((j) => j.id);
    expect(ids).to.have.length(1).and.not.include(other.metadata.uid);
    expect((await call('GET', `/v1/jobs/${other.metadata.uid}`, 'tok-admin')).status).to.equal(404);
    expect((await call('GET', '/v1/jobs', 'tok-b')).json.jobs).to.deep.equal([]);
  });
});

describe('api: what an admin may do in other projects', () => {
  const admin = { userId: 'root', projectId: 'proj-a', roles: ['admin'], isAdmin: true };
  const member = { userId: 'bob', projectId: 'proj-b', roles: ['member'], isAdmin: false };
  const body = { function_id: FID, pattern: '0 5 * * *', name: 'b-job' };
  const cases = [
    { name: 'by default', writes: undefined, canWrite: false },
    { name: 'with adminCrossProjectWrites', writes: true, canWrite: true },
  ];
  for (const tc of cases) {
    it(`${tc.name}: lists and reads every project; ${tc.canWrite ? 'may' : 'may not'} change or delete`, async () => {
      const store = new FakeStore();
      const svc = new JobService(
        store,
        { createNamespaces: true, ...(tc.writes ? { adminCrossProjectWrites: tc.writes } : {}) },
        () => NOW,
      );
      const job = await svc.create(member, body);
      expect([...(await svc.list(admin, { all_projects: 'true' })).jobs].map((j) => j.id)).to.deep.equal([
        job.id,
      ]);
      expect([...(await svc.list(admin, { project_id: 'proj-b' })).jobs].map((j) => j.id)).to.deep.equal([
        job.id,
      ]);
      expect((await svc.get(admin, job.id)).name).to.equal('b-job');
      const put = await svc.update(admin, job.id, { status: 'paused' }).then(
        (j) => j.status,
        (err: Error & { kind?: string }) => `${err.kind}: ${err.message}`,
      );
      const del = await svc.remove(admin, job.id).then(
        () => 'removed',
        (err: Error & { kind?: string }) => `${err.kind}: ${err.message}`,
      );
      if (tc.canWrite) {
        expect([put, del]).to.deep.equal(['paused', 'removed']);
      } else {
        const refused = "Forbidden: Operation not allowed: admins may not change other projects' jobs.";
        expect([put, del]).to.deep.equal([refused, refused]);
        expect((await svc.get(member, job.id)).status).to.equal('running');
      }
    });
  }

  it("an admin's own project's jobs are theirs to change, whatever the option", async () => {
    const svc = new JobService(new FakeStore(), { createNamespaces: true }, () => NOW);
    const job = await svc.create(admin, body);
    expect((await svc.update(admin, job.id, { status: 'paused' })).status).to.equal('paused');
    await svc.remove(admin, job.id);
  });
});
