// A bounded memo for pure functions: remembers up to `max` results, forgetting the oldest
// first. Schedule math is pure and the same few patterns recur across thousands of jobs.
export function memo<A extends unknown[], R>(
  max: number,
  key: (...a: A) => string,
  fn: (...a: A) => R,
): (...a: A) => R {
  const cache = new Map<string, { ok: true; v: R } | { ok: false; e: unknown }>();
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
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
    }
    if (!hit.ok) throw hit.e;
    return hit.v;
  };
}
