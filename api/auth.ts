// Who is calling. `static` mode: a token file of CSV lines `token,user_id,project_id,roles`
// (roles separated by `;`; `admin` may see every project), re-read when the file changes. A
// malformed line is skipped and logged; a missing file means no tokens.
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';

export interface Caller {
  userId: string;
  projectId: string;
  roles: string[];
  isAdmin: boolean;
  /** kubernetes auth: who the apiserver's RBAC is asked about (SubjectAccessReviews). */
  subject?: Subject;
  /**
   * kubernetes auth: may this user `verb` QinlingJobs in `namespace` ('' for every namespace)?
   * Asked before every read from the cache and every write the facade makes for them.
   */
  can?: (verb: 'get' | 'list' | 'create' | 'patch' | 'delete', namespace: string) => Promise<boolean>;
}

/** A Kubernetes user as a TokenReview names them. */
export interface Subject {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface Authenticator {
  /** The caller for a token, or undefined for an unknown one. */
  authenticate(token: string): Promise<Caller | undefined>;
  /** WWW-Authenticate on a 401, when not the default (Keystone's address, for one). */
  readonly challenge?: string;
}

export interface TokenFile {
  /** Callers by the SHA-256 (hex) of their token: a lookup, not a scan, and no token kept in clear. */
  tokens: Map<string, Caller>;
  /** One message per line skipped; never the line itself, which holds a token. */
  errors: string[];
}

export const tokenKey = (token: string) => createHash('sha256').update(token).digest('hex');

/** The token file's lines; a malformed line is skipped (and reported), the others apply. */
export function parseTokenFile(text: string, adminRole = 'admin'): TokenFile {
  const tokens = new Map<string, Caller>();
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [token, userId, projectId, roles = ''] = line.split(',').map((x) => x.trim());
    if (!token || !userId || !projectId) {
      errors.push(`token file line ${i + 1}: expected token,user_id,project_id,roles; line skipped`);
      return;
    }
    const r = roles
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean);
    tokens.set(tokenKey(token), { userId, projectId, roles: r, isAdmin: r.includes(adminRole) });
  });
  return { tokens, errors };
}

export interface StaticTokenOptions {
  /** The role that makes an admin (default `admin`). */
  adminRole?: string;
  /** The file was read: how many tokens it holds and how many lines were skipped. */
  loaded?: (count: number, skipped: number) => void;
  /** A skipped line, or the file gone or unreadable; never holds a token. */
  problem?: (message: string) => void;
  now?: () => number;
}

/** loadedMtime when the file could not be read: no token is accepted. */
const UNREADABLE = -2;

export class StaticTokens implements Authenticator {
  private tokens = new Map<string, Caller>();
  private loadedMtime = -1;
  private checkedAt = 0;
  private readonly now: () => number;

  constructor(
    private readonly file: string,
    private readonly opts: StaticTokenOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.checkedAt = this.now();
    this.reload();
  }

  /**
   * Reads the file when its mtime changed. A file that is gone or unreadable means no tokens,
   * so deleting it revokes them all; keeping the last table would keep revoked tokens alive.
   */
  private reload(): void {
    let mtime: number;
    let text: string;
    try {
      mtime = statSync(this.file).mtimeMs;
      if (mtime === this.loadedMtime) return;
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if (this.loadedMtime !== UNREADABLE) {
        const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        this.opts.problem?.(`token file ${this.file} cannot be read (${why}): no token is accepted`);
      }
      this.tokens = new Map();
      this.loadedMtime = UNREADABLE;
      return;
    }
    const { tokens, errors } = parseTokenFile(text, this.opts.adminRole);
    for (const e of errors) this.opts.problem?.(e);
    this.tokens = tokens;
    this.loadedMtime = mtime;
    this.opts.loaded?.(tokens.size, errors.length);
  }

  authenticate(token: string): Promise<Caller | undefined> {
    if (this.now() - this.checkedAt > 1000) {
      this.checkedAt = this.now();
      this.reload();
    }
    return Promise.resolve(this.tokens.get(tokenKey(token)));
  }
}
