// `kubernetes` auth: the X-Auth-Token is a Kubernetes bearer token. A TokenReview says who it
// is; the facade then acts as that user (impersonation) so Kubernetes RBAC decides every write,
// and asks SubjectAccessReviews before serving reads from its cache. A ServiceAccount's project
// is its namespace's. The reviewer unreachable is a 503, never a 401 or 500.
import { createHash } from 'node:crypto';
import type { Kube } from '../kube/client.js';
import { GROUP, PLURAL } from '../domain/types.js';
import type { Authenticator, Caller, Impersonation } from './auth.js';
import { HttpError } from './errors.js';
import { ExpiringCache } from './expiring.js';

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

const unavailable = () =>
  new HttpError(503, 'The token reviewer is unavailable; try again shortly.', { 'retry-after': '5' });

export class KubernetesTokens implements Authenticator {
  /** Reviews and decisions, so a burst of requests makes one review. */
  private readonly reviews = new ExpiringCache<Caller | null>(10_000);
  private readonly decisions = new ExpiringCache<boolean>(10_000);

  constructor(
    private readonly kube: Kube,
    private readonly projectOf: (namespace: string) => string,
    private readonly ttlMs = 10_000,
  ) {}

  async authenticate(token: string): Promise<Caller | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.reviews.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const status = (await this.post('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    })) as {
      authenticated?: boolean;
      user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    };
    if (!status.authenticated || !status.user?.username) {
      this.reviews.set(key, null, Date.now() + this.ttlMs / 2);
      return undefined;
    }
    const u = status.user;
    const actAs: Impersonation = {
      user: u.username ?? '',
      groups: u.groups ?? [],
      extra: u.extra ?? {},
      ...(u.uid ? { uid: u.uid } : {}),
    };
    const sa = SERVICE_ACCOUNT.exec(actAs.user);
    const caller: Caller = {
      userId: actAs.user,
      projectId: sa?.[1] ? this.projectOf(sa[1]) : actAs.user,
      roles: [],
      // The admin of Qinling is whoever RBAC lets list jobs in every namespace.
      isAdmin: await this.allowed(actAs, 'list', ''),
      actAs,
      can: (verb, namespace) => this.allowed(actAs, verb, namespace),
    };
    this.reviews.set(key, caller, Date.now() + this.ttlMs);
    return caller;
  }

  private async allowed(as: Impersonation, verb: string, namespace: string): Promise<boolean> {
    const key = `${as.user}\n${as.uid ?? ''}\n${verb}\n${namespace}`;
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    const status = (await this.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: as.user,
        groups: as.groups,
        extra: as.extra,
        ...(as.uid ? { uid: as.uid } : {}),
        resourceAttributes: { group: GROUP, resource: PLURAL, verb, ...(namespace ? { namespace } : {}) },
      },
    })) as { allowed?: boolean };
    const ok = status.allowed === true;
    this.decisions.set(key, ok, Date.now() + this.ttlMs);
    return ok;
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    let res;
    try {
      res = await this.kube.request({ method: 'POST', path, body });
    } catch {
      throw unavailable();
    }
    if (res.status !== 201 && res.status !== 200) throw unavailable();
    return (res.body as { status?: unknown }).status ?? {};
  }
}
