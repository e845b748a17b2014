// Rate limiting: a token bucket per key (a caller's token, a client's address), refilled at
// `rate` per second up to `burst`; a bound on concurrent work per key; and the tokens that
// recently authenticated. Pure arithmetic over an injected clock; the middleware turns "no"
// into a 429.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export class TokenBuckets {
  // Keys an attacker can mint (addresses, bad tokens): bounded, the least recently seen dropped.
  private readonly buckets = new LRUCache<string, { tokens: number; at: number }>({ max: 100_000 });

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** 0 when the request may go ahead, else the seconds to wait before one will. */
  take(key: string): number {
    if (this.rate <= 0) return 0;
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.rate);
  }

  /** What `take` would answer, without taking: for work that is charged only when it fails. */
  wait(key: string): number {
    if (this.rate <= 0) return 0;
    const b = this.refill(key);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.rate);
  }

  private refill(key: string) {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.buckets.set(key, b);
    return b;
  }
}

/** At most `max` pieces of work under way per key (0: no bound). */
export class InFlight {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** False when `max` are already under way for `key`; else counts one, to be `leave`d. */
  enter(key: string): boolean {
    if (this.max <= 0) return true;
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  leave(key: string): void {
    if (this.max <= 0) return;
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}

/**
 * Tokens that authenticated within `ttlMs`, kept as SHA-256 digests (never the token). An
 * address refused for its failures still has these validated: behind a proxy every client shares
 * one address, and one client's bad tokens must not lock the others out.
 */
export class RecentTokens {
  private readonly seen: LRUCache<string, number>;

  constructor(
    private readonly ttlMs: number,
    max = 10_000,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.seen = new LRUCache({ max });
  }

  add(token: string): void {
    const k = digest(token);
    this.seen.set(k, this.now() + this.ttlMs);
  }

  has(token: string): boolean {
    const k = digest(token);
    const until = this.seen.get(k);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.seen.delete(k);
    return false;
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');
