// Who is calling. `static` mode: a token file of CSV lines `token,user_id,project_id,roles`
// (roles separated by `;`; `admin` may see every project), re-read when the file changes.
import { readFileSync, statSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';

export interface Caller {
  userId: string;
  projectId: string;
  roles: string[];
  isAdmin: boolean;
  /** kubernetes auth: the apiserver sees this user on every write, so RBAC decides. */
  actAs?: Impersonation;
  /**
   * kubernetes auth: may this user `verb` QinlingJobs in `namespace` ('' for every namespace)?
   * Asked before every read from the cache and every write the facade makes for them.
   */
  can?: (verb: 'get' | 'list' | 'create' | 'patch' | 'delete', namespace: string) => Promise<boolean>;
}

export interface Impersonation {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** Impersonate-* headers; groups and extra values as repeated header lines. */
export function impersonationHeaders(as: Impersonation | undefined): Record<string, string | string[]> {
  if (!as) return {};
  const h: Record<string, string | string[]> = { 'Impersonate-User': as.user };
  if (as.uid) h['Impersonate-Uid'] = as.uid;
  if (as.groups.length > 0) h['Impersonate-Group'] = as.groups;
  for (const [k, v] of Object.entries(as.extra)) h[`Impersonate-Extra-${encodeURIComponent(k)}`] = v;
  return h;
}

export interface Authenticator {
  /** The caller for a token, or undefined for an unknown one. */
  authenticate(token: string): Promise<Caller | undefined>;
  /** WWW-Authenticate on a 401, when not the default (Keystone's address, for one). */
  readonly challenge?: string;
}

export function parseTokenFile(text: string): Map<string, Caller> {
  const out = new Map<string, Caller>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [token, userId, projectId, roles = ''] = line.split(',').map((x) => x.trim());
    if (!token || !userId || !projectId)
      throw new Error(`token file line ${i + 1}: expected token,user_id,project_id,roles`);
    const r = roles
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean);
    out.set(token, { userId, projectId, roles: r, isAdmin: r.includes('admin') });
  });
  return out;
}

export class StaticTokens implements Authenticator {
  private tokens = new Map<string, Caller>();
  private loadedMtime = -1;
  private checkedAt = 0;

  constructor(
    private readonly file: string,
    private readonly onReload: (count: number) => void = () => undefined,
  ) {
    this.reload();
  }

  private reload(): void {
    const mtime = statSync(this.file).mtimeMs;
    if (mtime === this.loadedMtime) return;
    this.tokens = parseTokenFile(readFileSync(this.file, 'utf8'));
    this.loadedMtime = mtime;
    this.onReload(this.tokens.size);
  }

  authenticate(token: string): Promise<Caller | undefined> {
    if (Date.now() - this.checkedAt > 1000) {
      this.checkedAt = Date.now();
      try {
        this.reload();
      } catch {
        // a half-written or removed file keeps the last good table
      }
    }
    const given = Buffer.from(token);
    for (const [t, caller] of this.tokens) {
      const known = Buffer.from(t);
      if (known.length === given.length && timingSafeEqual(known, given)) return Promise.resolve(caller);
    }
    return Promise.resolve(undefined);
  }
}
