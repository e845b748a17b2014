// The auth modes' answer caches: each entry lives until its own time, and the cache holds at most
// `max` entries, dropping the oldest written first (a Map keeps insertion order).
export class ExpiringCache<V> {
  private readonly m = new Map<string, { v: V; until: number }>();

  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

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
    this.m.delete(k);
    this.m.set(k, { v, until });
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value ?? '');
  }
}
