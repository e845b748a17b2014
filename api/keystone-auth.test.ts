import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { HttpError } from './errors.js';
import { callerOf, KeystoneTokens, v3Root, type KeystoneConfig } from './keystone-auth.js';

const T0 = Date.parse('2026-11-27T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, '.000000Z');

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A small Keystone of our own: issues the service token `svc-N` on POST, and validates subject
 * tokens from `tokens` on GET. `answer` overrides either with a status; `hang` never answers.
 */
async function fakeKeystone() {
  const seen: Seen[] = [];
  const state = {
    logins: 0,
    serviceExpires: T0 + 3_600_000,
    validService: new Set<string>(),
    tokens: new Map<
      string,
      { project?: string; name?: string; isAdminProject?: boolean; roles: string[]; expires: number }
    >(),
    loginStatus: 201,
    validateStatus: 0,
    hang: false,
  };
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (state.hang) return;
      const send = (status: number, obj: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'POST') {
        if (state.loginStatus !== 201) return send(state.loginStatus, { error: { code: state.loginStatus } });
        const token = `svc-${++state.logins}`;
        state.validService.add(token);
        return send(201, { token: { expires_at: iso(state.serviceExpires) } }, { 'x-subject-token': token });
      }
      if (state.validateStatus) return send(state.validateStatus, { error: {} });
      if (!state.validService.has(String(req.headers['x-auth-token']))) return send(401, { error: {} });
      const t = state.tokens.get(String(req.headers['x-subject-token']));
      if (!t) return send(404, { error: { code: 404, message: 'Failed to validate token' } });
      send(200, {
        token: {
          expires_at: iso(t.expires),
          user: { id: 'u-1', name: 'user-a' },
          ...(t.project
            ? {
                project: {
                  id: t.project,
                  name: t.name ?? 'proj-a',
                  domain: { id: 'default', name: 'Default' },
                },
              }
            : {}),
          ...(t.isAdminProject !== undefined ? { is_admin_project: t.isAdminProject } : {}),
          roles: t.roles.map((name) => ({ id: `r-${name}`, name })),
        },
      });
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    state,
    validations: () => seen.filter((s) => s.method === 'GET').length,
    close: () => {
      srv.closeAllConnections();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

describe('KeystoneTokens', () => {
  let ks: Awaited<ReturnType<typeof fakeKeystone>>;
  let clock: number;
  const reasons: string[] = [];
  const make = (over: Partial<KeystoneConfig> = {}) =>
    new KeystoneTokens(
      {
        url: `${ks.url}/v3/`,
        user: 'qinling',
        userDomain: 'Default',
        project: 'service',
        projectDomain: 'Default',
        password: () => 'svc-password',
        cacheMs: 300_000,
        timeoutMs: 1000,
        ...over,
      },
      { unavailable: (r) => reasons.push(r) },
      () => clock,
    );

  beforeEach(async () => {
    ks = await fakeKeystone();
    clock = T0;
    reasons.length = 0;
    ks.state.tokens.set('tok-a', { project: 'p-a', roles: ['member', 'reader'], expires: T0 + 3_600_000 });
    ks.state.tokens.set('tok-admin', {
      project: 'p-admin',
      roles: ['reader', 'admin', 'member'],
      expires: T0 + 3_600_000,
    });
  });
  afterEach(() => ks.close());

  it('validates as the service user and takes the user, project and roles from the token', async () => {
    const auth = make();
    expect(await auth.authenticate('tok-a')).to.deep.equal({
      userId: 'u-1',
      projectId: 'p-a',
      roles: ['member', 'reader'],
      isAdmin: false,
    });
    // The admin role alone is no admin: it must be held on the admin project.
    expect((await auth.authenticate('tok-admin'))?.isAdmin).to.equal(false);
    const [login, check] = ks.seen;
    expect(login?.url).to.equal('/v3/auth/tokens?nocatalog');
    expect(JSON.parse(login?.body ?? '')).to.deep.equal({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'qinling', domain: { name: 'Default' }, password: 'svc-password' } },
        },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    });
    expect(check?.method).to.equal('GET');
    expect(check?.url).to.equal('/v3/auth/tokens?nocatalog');
    expect(check?.headers).to.include({ 'x-auth-token': 'svc-1', 'x-subject-token': 'tok-a' });
    expect(ks.state.logins).to.equal(1);
    expect(auth.challenge).to.equal(`Keystone uri="${ks.url}"`);
  });

  it('admin is the configured role on the configured admin project, by id or by name', async () => {
    ks.state.tokens.set('tok-b-admin', { project: 'p-b', roles: ['admin'], expires: T0 + 3_600_000 });
    ks.state.tokens.set('tok-named', {
      project: 'p-n',
      name: 'ops',
      roles: ['admin'],
      expires: T0 + 3_600_000,
    });
    const byId = make({ admin: { role: 'admin', project: 'p-admin', projectDomain: 'Default' } });
    expect((await byId.authenticate('tok-admin'))?.isAdmin).to.equal(true);
    expect((await byId.authenticate('tok-b-admin'))?.isAdmin).to.equal(false);
    const byName = make({ admin: { role: 'admin', project: 'ops', projectDomain: 'Default' } });
    expect((await byName.authenticate('tok-named'))?.isAdmin).to.equal(true);
    expect((await byName.authenticate('tok-admin'))?.isAdmin).to.equal(false);
  });

  it("takes Keystone's own is_admin_project: true", async () => {
    ks.state.tokens.set('tok-k', {
      project: 'p-k',
      isAdminProject: true,
      roles: ['admin'],
      expires: T0 + 3_600_000,
    });
    const auth = make({ admin: { role: 'admin', project: '', projectDomain: 'Default' } });
    expect((await auth.authenticate('tok-k'))?.isAdmin).to.equal(true);
    expect((await auth.authenticate('tok-admin'))?.isAdmin).to.equal(false);
  });

  it('sends clients to the public URL in WWW-Authenticate, when one is given', () => {
    expect(make().challenge).to.equal(`Keystone uri="${ks.url}"`);
    expect(make({ publicUrl: 'https://keystone.example.com/v3/' }).challenge).to.equal(
      'Keystone uri="https://keystone.example.com/v3"',
    );
    expect(make({ publicUrl: 'https://keystone.example.com/v3/' }).challenge).to.not.include(ks.url);
  });

  it('keeps a valid token until the cache bound, then asks again', async () => {
    const auth = make({ cacheMs: 10_000 });
    await auth.authenticate('tok-a');
    clock = T0 + 9_999;
    await auth.authenticate('tok-a');
    expect(ks.validations()).to.equal(1);
    clock = T0 + 10_000;
    ks.state.tokens.delete('tok-a'); // revoked meanwhile
    expect(await auth.authenticate('tok-a')).to.equal(undefined);
    expect(ks.validations()).to.equal(2);
  });

  it('keeps a token no longer than its expiry when that comes before the bound', async () => {
    ks.state.tokens.set('short', { project: 'p-a', roles: [], expires: T0 + 2_000 });
    const auth = make({ cacheMs: 300_000 });
    await auth.authenticate('short');
    clock = T0 + 1_999;
    await auth.authenticate('short');
    expect(ks.validations()).to.equal(1);
    clock = T0 + 2_000;
    await auth.authenticate('short');
    expect(ks.validations()).to.equal(2);
  });

  it('with a bound of 0 asks Keystone on every request', async () => {
    const auth = make({ cacheMs: 0 });
    await auth.authenticate('tok-a');
    await auth.authenticate('tok-a');
    expect(ks.validations()).to.equal(2);
  });

  it('a burst with one new token makes one validation', async () => {
    const auth = make();
    const got = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate('tok-a')));
    expect(got.every((c) => c?.projectId === 'p-a')).to.equal(true);
    expect(ks.validations()).to.equal(1);
    expect(ks.state.logins).to.equal(1);
  });

  it('holds at most maxEntries tokens, dropping the oldest', async () => {
    const auth = make({ maxEntries: 2 });
    ks.state.tokens.set('tok-c', { project: 'p-c', roles: [], expires: T0 + 3_600_000 });
    await auth.authenticate('tok-a');
    await auth.authenticate('tok-admin');
    await auth.authenticate('tok-c');
    expect(ks.validations()).to.equal(3);
    await auth.authenticate('tok-c');
    expect(ks.validations()).to.equal(3);
    await auth.authenticate('tok-a');
    expect(ks.validations()).to.equal(4);
  });

  const refused: [string, string][] = [
    ['unknown, expired or revoked (Keystone: 404)', 'nope'],
    ['with a character no header may carry', 'tok\u00e9'],
    ['with a space', 'tok a'],
    ['too long to be a token', 'x'.repeat(8193)],
  ];
  for (const [name, token] of refused) {
    it(`a token ${name} is no caller`, async () => {
      expect(await make().authenticate(token)).to.equal(undefined);
      expect(reasons).to.deep.equal([]);
    });
  }

  it('a refused token is remembered for a while, not asked again on every request', async () => {
    const auth = make({ cacheMs: 30_000 });
    await auth.authenticate('nope');
    await auth.authenticate('nope');
    expect(ks.validations()).to.equal(1);
    clock = T0 + 30_000;
    await auth.authenticate('nope');
    expect(ks.validations()).to.equal(2);
  });

  it('a token not scoped to a project is no caller', async () => {
    ks.state.tokens.set('unscoped', { roles: [], expires: T0 + 3_600_000 });
    expect(await make().authenticate('unscoped')).to.equal(undefined);
  });

  it('logs in again when Keystone no longer takes the service token', async () => {
    const auth = make({ cacheMs: 0 });
    await auth.authenticate('tok-a');
    ks.state.validService.clear(); // e.g. Keystone's keys rotated or the token revoked
    expect((await auth.authenticate('tok-a'))?.projectId).to.equal('p-a');
    expect(ks.state.logins).to.equal(2);
    expect(ks.seen.at(-1)?.headers['x-auth-token']).to.equal('svc-2');
  });

  it('renews the service token before it expires, reading the password again', async () => {
    let password = 'old';
    const auth = make({ cacheMs: 0, password: () => password });
    await auth.authenticate('tok-a');
    password = 'rotated';
    clock = T0 + 3_600_000 - 61_000;
    await auth.authenticate('tok-a');
    expect(ks.state.logins).to.equal(1);
    clock = T0 + 3_600_000 - 59_000;
    await auth.authenticate('tok-a');
    expect(ks.state.logins).to.equal(2);
    const logins = ks.seen.filter((s) => s.method === 'POST').map((s) => s.body);
    expect(logins[1]).to.contain('"password":"rotated"');
  });

  const outages: [string, (s: typeof ks.state) => void][] = [
    ['failing (500)', (s) => (s.validateStatus = 500)],
    ['refusing the service user (403)', (s) => (s.validateStatus = 403)],
    ['refusing the service token even after a new login', (s) => (s.validateStatus = 401)],
    ['refusing the service user’s password', (s) => (s.loginStatus = 401)],
    ['not answering within the timeout', (s) => (s.hang = true)],
  ];
  for (const [name, breakIt] of outages) {
    it(`Keystone ${name} is a 503 with Retry-After, never a 401`, async () => {
      breakIt(ks.state);
      const err = await make({ timeoutMs: 200 })
        .authenticate('tok-a')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(HttpError);
      expect((err as HttpError).status).to.equal(503);
      expect((err as HttpError).headers['retry-after']).to.equal('5');
      expect(reasons).to.have.length.greaterThan(0);
      expect(reasons.join(' ')).to.not.contain('svc-password');
    });
  }

  it('Keystone unreachable is a 503', async () => {
    const err = await make({ url: 'http://127.0.0.1:1/v3' })
      .authenticate('tok-a')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as HttpError).status).to.equal(503);
    expect((err as HttpError).headers['retry-after']).to.equal('5');
  });

  it('after a refused service login, waits 5 s before logging in again', async () => {
    const auth = make();
    ks.state.loginStatus = 401;
    const logins = () => ks.seen.filter((x) => x.method === 'POST').length;
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (e: unknown) => (e as HttpError).status,
      );
    expect(await status(auth.authenticate('tok-a'))).to.equal(503);
    expect(await status(auth.authenticate('tok-admin'))).to.equal(503);
    expect(logins()).to.equal(1);
    ks.state.loginStatus = 201;
    clock += 4999;
    expect(await status(auth.authenticate('tok-a'))).to.equal(503);
    expect(logins()).to.equal(1);
    clock += 2;
    expect((await auth.authenticate('tok-a'))?.projectId).to.equal('p-a');
    expect(logins()).to.equal(2);
  });

  it('answers 503 at once beyond maxInFlight validations waiting on Keystone', async () => {
    const auth = make({ maxInFlight: 2, timeoutMs: 300 });
    await auth.authenticate('tok-a'); // logged in; the service token is cached
    ks.state.hang = true;
    const waiting = ['tok-1', 'tok-2'].map((t) => auth.authenticate(t).catch((e: unknown) => e));
    const third = await auth.authenticate('tok-3').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((third as HttpError).status).to.equal(503);
    expect(ks.validations()).to.be.at.most(3); // the two waiting ones at most, not the third
    for (const e of await Promise.all(waiting)) expect((e as HttpError).status).to.equal(503);
  });

  it('a failed validation is not cached: the next request asks again', async () => {
    const auth = make();
    ks.state.validateStatus = 500;
    await auth.authenticate('tok-a').catch(() => undefined);
    ks.state.validateStatus = 0;
    expect((await auth.authenticate('tok-a'))?.projectId).to.equal('p-a');
  });
});

describe('v3Root', () => {
  const cases: [string, string][] = [
    ['http://ks:5000/v3', 'http://ks:5000/v3'],
    ['http://ks:5000/v3/', 'http://ks:5000/v3'],
    ['http://ks:5000', 'http://ks:5000/v3'],
    ['https://cloud.example/identity/', 'https://cloud.example/identity/v3'],
  ];
  for (const [given, want] of cases) it(`${given} -> ${want}`, () => expect(v3Root(given)).to.equal(want));
});

describe('callerOf', () => {
  const policy = { role: 'admin', project: 'p-admin', projectDomain: 'Default' };
  const token = (project: Record<string, unknown>, roles: string[], extra: Record<string, unknown> = {}) => ({
    token: { user: { id: 'u' }, project, roles: roles.map((name) => ({ name })), ...extra },
  });
  const inDefault = { id: 'default', name: 'Default' };
  const cases: {
    name: string;
    body: ReturnType<typeof token>;
    admin?: typeof policy;
    want: boolean;
  }[] = [
    {
      name: 'the admin role on the admin project, by id',
      body: token({ id: 'p-admin', name: 'x', domain: inDefault }, ['admin', 'reader']),
      admin: policy,
      want: true,
    },
    {
      name: 'the admin role on the admin project, by name in its domain',
      body: token({ id: 'p-1', name: 'admin', domain: inDefault }, ['admin']),
      admin: { ...policy, project: 'admin' },
      want: true,
    },
    {
      name: 'the domain by id',
      body: token({ id: 'p-1', name: 'admin', domain: inDefault }, ['admin']),
      admin: { ...policy, project: 'admin', projectDomain: 'default' },
      want: true,
    },
    {
      name: 'a project of that name in another domain',
      body: token({ id: 'p-1', name: 'admin', domain: { id: 'd-2', name: 'Other' } }, ['admin']),
      admin: { ...policy, project: 'admin' },
      want: false,
    },
    {
      name: 'the admin role on any other project',
      body: token({ id: 'p-b', name: 'proj-b', domain: inDefault }, ['admin', 'member', 'reader']),
      admin: policy,
      want: false,
    },
    {
      name: 'a member of the admin project',
      body: token({ id: 'p-admin', name: 'admin', domain: inDefault }, ['member', 'reader']),
      admin: policy,
      want: false,
    },
    {
      name: "Keystone's is_admin_project: true with the admin role",
      body: token({ id: 'p-k', name: 'cloud', domain: inDefault }, ['admin'], { is_admin_project: true }),
      admin: { ...policy, project: '' },
      want: true,
    },
    {
      name: 'is_admin_project: true without the admin role',
      body: token({ id: 'p-k', name: 'cloud', domain: inDefault }, ['member'], { is_admin_project: true }),
      admin: policy,
      want: false,
    },
    {
      name: 'is_admin_project: false on another project',
      body: token({ id: 'p-b', name: 'proj-b', domain: inDefault }, ['admin'], { is_admin_project: false }),
      admin: { ...policy, project: '' },
      want: false,
    },
    {
      name: 'a configured role other than admin',
      body: token({ id: 'p-admin', name: 'x', domain: inDefault }, ['cloud-admin']),
      admin: { ...policy, role: 'cloud-admin' },
      want: true,
    },
    {
      name: 'plain admin when another role is configured',
      body: token({ id: 'p-admin', name: 'x', domain: inDefault }, ['admin']),
      admin: { ...policy, role: 'cloud-admin' },
      want: false,
    },
    {
      name: 'no admin policy: nobody',
      body: token({ id: 'p-admin', name: 'admin', domain: inDefault }, ['admin'], { is_admin_project: true }),
      want: false,
    },
  ];
  for (const tc of cases)
    it(`${tc.name}: ${tc.want ? 'admin' : 'no admin'}`, () => {
      const c = callerOf(tc.body, tc.admin);
      expect(c?.isAdmin).to.equal(tc.want);
      expect(c?.projectId).to.equal(tc.body.token.project.id);
    });
});
