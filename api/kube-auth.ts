// `kubernetes` auth: the X-Auth-Token is a Kubernetes bearer token issued for this service's
// audience (`kubectl create token <sa> --audience qinling-jobs`), so a token the facade sees can
// not be replayed against the apiserver, nor an apiserver token relayed here. A TokenReview says
// who it is; a SubjectAccessReview for that user (groups and extra included) decides every read
// from the cache and every write, which the facade then makes as itself: no impersonation, so
// the facade's own token can never act as another user or group. A ServiceAccount's project
// is its namespace's. The reviewer unreachable is a 503, never a 401 or 500.
import { createHash } from 'node:crypto';
import type { Kube } from '../kube/client.js';
import { GROUP, PLURAL } from '../domain/types.js';
import type { Authenticator, Caller, Subject } from './auth.js';
import { HttpError } from './errors.js';
import { ExpiringCache } from './expiring.js';

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

const unavailable = () =>
  new HttpError(503, 'The token reviewer is unavailable; try again shortly.', { 'retry-after': '5' });

export const DEFAULT_AUDIENCE = 'qinling-jobs';

export interface KubernetesTokenOptions {
  /** The audience a token must be issued for; the TokenReview asks for it and must confirm it. */
  audience?: string;
  /** How long a review or a decision is kept. */
  ttlMs?: number;
}

/**
 * Who a decision is for: user, uid, and groups and extra in a fixed order, hashed. Two tokens of
 * one user with different groups are different subjects to RBAC, so to the cache too.
 */
export function subjectKey(as: Subject): string {
  const extra = Object.keys(as.extra)
    .sort()
    .map((k) => [k, [...(as.extra[k] ?? [])].sort()]);
  const canonical = JSON.stringify([as.user, as.uid ?? '', [...as.groups].sort(), extra]);
  return createHash('sha256').update(canonical).digest('hex');
}

export class KubernetesTokens implements Authenticator {
  /** Reviews and decisions, so a burst of requests makes one review. */
  private readonly reviews = new ExpiringCache<Caller | null>(10_000);
  private readonly decisions = new ExpiringCache<boolean>(10_000);
  private readonly audience: string;
  private readonly ttlMs: number;

  constructor(
    private readonly kube: Kube,
    private readonly projectOf: (namespace: string) => string,
    opts: KubernetesTokenOptions = {},
  ) {
    this.audience = opts.audience ?? DEFAULT_AUDIENCE;
    this.ttlMs = opts.ttlMs ?? 10_000;
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.reviews.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const status = (await this.post('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [this.audience] },
    })) as {
      authenticated?: boolean;
      audiences?: string[];
      user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    };
    // An apiserver that ignores spec.audiences answers without them: such a token may be meant
    // for anything, the apiserver included, so it is refused.
    const forUs = status.audiences?.includes(this.audience) === true;
    if (!status.authenticated || !status.user?.username || !forUs) {
      this.reviews.set(key, null, Date.now() + this.ttlMs / 2);
      return undefined;
    }
    const u = status.user;
    const subject: Subject = {
      user: u.username ?? '',
      groups: u.groups ?? [],
      extra: u.extra ?? {},
      ...(u.uid ? { uid: u.uid } : {}),
    };
    const sa = SERVICE_ACCOUNT.exec(subject.user);
    const caller: Caller = {
      userId: subject.user,
      projectId: sa?.[1] ? this.projectOf(sa[1]) : subject.user,
      roles: [],
      // The admin of Qinling is whoever RBAC lets list jobs in every namespace.
      isAdmin: await this.allowed(subject, 'list', ''),
      subject,
      can: (verb, namespace) => this.allowed(subject, verb, namespace),
    };
    this.reviews.set(key, caller, Date.now() + this.ttlMs);
    return caller;
  }

  private async allowed(as: Subject, verb: string, namespace: string): Promise<boolean> {
    const key = `${subjectKey(as)}\n${verb}\n${namespace}`;
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
