// Whether every field we set on an object is already what the server holds. The apiserver
// fills defaults into what we send, so equality would never hold; a subset check does.
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === undefined) return true;
  if (want instanceof Date)
    return have instanceof Date ? want.getTime() === have.getTime() : want.toISOString() === have;
  if (want === null || typeof want !== 'object') return want === have;
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => isSubset(w, have[i]));
  }
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  const h = have as Record<string, unknown>;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => isSubset(v, h[k]));
}
