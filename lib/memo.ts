// A bounded memo for pure functions: remembers up to `max` results (failures too), forgetting
// the least recently used first. Schedule math is pure and the same few patterns and zones recur
// across thousands of jobs.
import { LRUCache } from 'lru-cache';

type Outcome<R> = { ok: true; v: R } | { ok: false; e: unknown };

export function memo<A extends unknown[], R>(
  max: number,
  key: (...a: A) => string,
  fn: (...a: A) => R,
): (...a: A) => R {
  const cache = new LRUCache<string, Outcome<R>>({ max });
  return (...a: A): R => {
    const k = key(...a);
    let hit = cache.get(k);
    if (!hit) {
      try {
        hit = { ok: true, v: fn(...a) };
      } catch (e) {
        hit = { ok: false, e };
      }
      cache.set(k, hit);
    }
    if (!hit.ok) throw hit.e;
    return hit.v;
  };
}
