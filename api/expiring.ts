// The auth modes' answer caches: each entry lives until its own time (an exact deadline: a
// token's expiry or a review's TTL, never a moment longer), and the cache holds at most `max`
// entries, dropping the least recently used.
import { LRUCache } from 'lru-cache';

export class ExpiringCache<V> {
  private readonly m: LRUCache<string, { v: V; until: number }>;

  constructor(
    max: number,
    private readonly now: () => number = Date.now,
  ) {
    this.m = new LRUCache({ max });
  }

  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.m.delete(k);
      return undefined;
    }
    return e.v;
  }

  /** Keeps `v` until the time `until` (ms since the epoch). */
  set(k: string, v: V, until: number): void {
    this.m.set(k, { v, until });
  }
}
