// `keystone` auth: the X-Auth-Token is an OpenStack Keystone token. The facade validates it as a
// service user (GET /v3/auth/tokens with X-Subject-Token, as keystonemiddleware does), keeps a
// valid answer until the token expires or the cache bound passes, whichever is first, and takes
// the project from the token. Keystone unreachable or failing is a 503, never a 401 or a 500.
import { createHash } from 'node:crypto';
import type { Authenticator, Caller } from './auth.js';
import { HttpError } from './errors.js';
import { ExpiringCache } from './expiring.js';

export interface KeystoneConfig {
  /** Keystone's v3 root, e.g. http://keystone:5000/v3 (a URL without /v3 gets it added). */
  url: string;
  /** The service user, scoped to its project; it needs the `service` (or `admin`) role. */
  user: string;
  userDomain: string;
  project: string;
  projectDomain: string;
  /** Read on every service login, so a rotated Secret is picked up without a restart. */
  password: () => string;
  /** Longest a validated token is trusted without asking again (0: ask on every request). */
  cacheMs: number;
  /** Bound on each request to Keystone. */
  timeoutMs: number;
  /** Most tokens kept in the cache. */
  maxEntries?: number;
  /** Most validations waiting on Keystone at once; more is a 503, so a flood of new tokens cannot pile up. */
  maxInFlight?: number;
  /** Who is Qinling's admin; nobody when absent. */
  admin?: AdminPolicy;
  /**
   * The address clients are sent to in `WWW-Authenticate` (keystonemiddleware's
   * `www_authenticate_uri`), as given; when absent, `url` without `/v3`. Set it whenever `url`
   * is an internal address clients cannot (or should not) reach.
   */
  publicUrl?: string;
}

/**
 * Admin is the admin role held on the admin project: the configured one (by id, or by name in
 * its domain), or the one Keystone itself marks with `is_admin_project: true` (when Keystone's
 * `[resource] admin_project_name` is set). The role on any other project makes no admin: in
 * Keystone every project has its own admins.
 */
export interface AdminPolicy {
  role: string;
  /** The admin project's id or name; none when empty. */
  project: string;
  /** The admin project's domain (name or id), when `project` is a name. */
  projectDomain: string;
}

/** After a failed service login, requests are answered 503 this long before logging in again. */
const LOGIN_RETRY_MS = 5000;

export interface KeystoneEvents {
  /** The service user could not log in, or Keystone failed; `reason` never holds a secret. */
  unavailable?: (reason: string) => void;
}

/** Keystone's v3 root for a configured URL: trailing slashes dropped, `/v3` added when missing. */
export function v3Root(url: string): string {
  const u = url.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

interface TokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
    roles?: { name?: string }[];
    is_admin_project?: boolean;
  };
}

const unavailable = () =>
  new HttpError(503, 'The identity service is unavailable; try again shortly.', { 'retry-after': '5' });

/** The caller a validated token stands for; undefined when it is not scoped to a project. */
export function callerOf(body: TokenBody, admin?: AdminPolicy): Caller | undefined {
  const t = body.token;
  const projectId = t?.project?.id;
  const userId = t?.user?.id;
  if (!projectId || !userId) return undefined;
  const roles = (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean);
  return { userId, projectId, roles, isAdmin: isAdminToken(t, roles, admin) };
}

function isAdminToken(t: NonNullable<TokenBody['token']>, roles: string[], admin?: AdminPolicy): boolean {
  if (!admin || !roles.includes(admin.role)) return false;
  // Only an explicit true: keystoneauth reads a missing flag as true, for old Keystones.
  if (t.is_admin_project === true) return true;
  const p = t.project ?? {};
  if (!admin.project) return false;
  if (p.id === admin.project) return true;
  const d = p.domain ?? {};
  return p.name === admin.project && (d.name === admin.projectDomain || d.id === admin.projectDomain);
}

export class KeystoneTokens implements Authenticator {
  readonly challenge: string;
  private readonly root: string;
  private readonly valid: ExpiringCache<Caller>;
  /** Tokens Keystone refused, kept apart so a flood of garbage never evicts valid entries. */
  private readonly refused: ExpiringCache<true>;
  private readonly inFlight = new Map<string, Promise<Caller | undefined>>();
  private service: { token: string; until: number } | undefined;
  private login: Promise<string> | undefined;
  /** No new login before this: a refused password must not lock the service user out. */
  private loginAfter = 0;

  constructor(
    private readonly cfg: KeystoneConfig,
    private readonly events: KeystoneEvents = {},
    private readonly now: () => number = Date.now,
  ) {
    this.root = v3Root(cfg.url);
    const shown = cfg.publicUrl ? cfg.publicUrl.replace(/\/+$/, '') : this.root.replace(/\/v3$/, '');
    this.challenge = `Keystone uri="${shown}"`;
    this.valid = new ExpiringCache(cfg.maxEntries ?? 10_000, now);
    this.refused = new ExpiringCache(Math.ceil((cfg.maxEntries ?? 10_000) / 10), now);
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    // Keystone's tokens are short printable ASCII; anything else cannot be one (and could not
    // even be sent on as a header), so it is refused here rather than reported as an outage.
    if (token.length > 8192 || !/^[\x21-\x7e]+$/.test(token)) return undefined;
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.valid.get(key);
    if (hit) return hit;
    if (this.refused.get(key)) return undefined;
    // A burst of requests with one new token makes one validation.
    let p = this.inFlight.get(key);
    if (!p) {
      if (this.inFlight.size >= (this.cfg.maxInFlight ?? 256)) throw unavailable();
      p = this.validate(token, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async validate(token: string, key: string): Promise<Caller | undefined> {
    let res = await this.check(token, await this.serviceToken());
    if (res.status === 401) {
      // Our own token expired or was revoked: log in again once.
      this.service = undefined;
      res = await this.check(token, await this.serviceToken());
    }
    const now = this.now();
    if (res.status === 404) {
      this.refused.set(key, true, now + Math.min(this.cfg.cacheMs, 60_000));
      return undefined;
    }
    if (res.status !== 200) {
      this.events.unavailable?.(`token validation answered ${res.status}`);
      throw unavailable();
    }
    const body = res.body as TokenBody;
    const caller = callerOf(body, this.cfg.admin);
    if (!caller) {
      this.refused.set(key, true, now + Math.min(this.cfg.cacheMs, 60_000));
      return undefined;
    }
    const expires = Date.parse(body.token?.expires_at ?? '');
    const until = Math.min(now + this.cfg.cacheMs, Number.isNaN(expires) ? now : expires);
    if (until > now) this.valid.set(key, caller, until);
    return caller;
  }

  private check(subject: string, service: string) {
    return this.call('GET', '/auth/tokens?nocatalog', {
      'x-auth-token': service,
      'x-subject-token': subject,
    });
  }

  /** The service user's token: kept until a minute before it expires, one login at a time. */
  private serviceToken(): Promise<string> {
    const s = this.service;
    if (s && s.until > this.now()) return Promise.resolve(s.token);
    if (this.now() < this.loginAfter) return Promise.reject(unavailable());
    this.login ??= this.logIn()
      .catch((err: unknown) => {
        this.loginAfter = this.now() + LOGIN_RETRY_MS;
        throw err;
      })
      .finally(() => (this.login = undefined));
    return this.login;
  }

  private async logIn(): Promise<string> {
    let password: string;
    try {
      password = this.cfg.password();
    } catch (err) {
      this.events.unavailable?.(`cannot read the service user's password: ${(err as Error).message}`);
      throw unavailable();
    }
    const res = await this.call(
      'POST',
      '/auth/tokens?nocatalog',
      { 'content-type': 'application/json' },
      {
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: { name: this.cfg.user, domain: { name: this.cfg.userDomain }, password },
            },
          },
          scope: { project: { name: this.cfg.project, domain: { name: this.cfg.projectDomain } } },
        },
      },
    );
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) {
      this.events.unavailable?.(`service user ${this.cfg.user} could not log in (${res.status})`);
      throw unavailable();
    }
    const expires = Date.parse((res.body as TokenBody).token?.expires_at ?? '');
    const now = this.now();
    // Renew a minute early (or halfway, for short-lived tokens) so it never expires mid-request.
    const life = Number.isNaN(expires) ? 0 : expires - now;
    this.service = { token, until: now + Math.max(0, life - 60_000, life / 2) };
    return token;
  }

  private async call(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; body: unknown }> {
    try {
      const res = await fetch(`${this.root}${path}`, {
        method,
        headers: { accept: 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      const text = await res.text();
      let parsed: unknown = {};
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        // a proxy's HTML error page; the status says enough
      }
      return { status: res.status, headers: res.headers, body: parsed };
    } catch (err) {
      this.events.unavailable?.(`${method} ${path.split('?')[0] ?? ''}: ${(err as Error).message}`);
      throw unavailable();
    }
  }
}
