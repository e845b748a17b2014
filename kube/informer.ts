// An informer over one resource in some namespaces (or all), read as one cache. client-node's
// ListWatch stops on most errors and does not restart itself; this one does, from the moment it
// is made (whoever listens or not), with a jittered exponential back-off, and says whether its
// cache is being kept current (for /readyz) apart from whether it ever synced.
import { ListWatch, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type Handler<T> = (verb: 'add' | 'update' | 'delete', obj: T) => void;

/** One ListWatch per watched namespace (or one for all), read as a single cache. */
export class Informer<T> {
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private synced = false;
  private stopped = false;
  /** Watches stopped by an error and not yet running again. */
  private readonly broken = new Set<ListWatch<KubernetesObject>>();
  /** Per watch: errors seen, failed restarts in a row, and whether a restart is scheduled. */
  private readonly errors = new Map<ListWatch<KubernetesObject>, number>();
  private readonly attempts = new Map<ListWatch<KubernetesObject>, number>();
  private readonly pending = new Set<ListWatch<KubernetesObject>>();

  constructor(
    private readonly name: string,
    private readonly log: Logger,
    make: (namespace: string | undefined) => ListWatch<KubernetesObject>,
    namespaces: string[],
    private readonly delayOf: (attempt: number) => number = restartDelayMs,
  ) {
    for (const ns of namespaces.length > 0 ? namespaces : [undefined]) {
      const w = make(ns);
      // managedFields are a large share of every object and never read here: drop them from the
      // cached copy (the same object the cache holds), so 10,000 jobs fit in a small heap.
      const slim = (o: KubernetesObject) => delete o.metadata?.managedFields;
      w.on('add', slim);
      w.on('update', slim);
      w.on('error', (err) => {
        this.errors.set(w, (this.errors.get(w) ?? 0) + 1);
        this.restart(w, err);
      });
      this.watches.push(w);
    }
  }

  /**
   * An index of the cache by one value of each object (e.g. a label): `lookup(value)` returns the
   * objects holding it without a scan. Kept by the watch events, relists included.
   */
  index(valueOf: (o: T) => string | undefined): (value: string) => T[] {
    const byValue = new Map<string, Map<string, T>>();
    const valueByKey = new Map<string, string>();
    const drop = (o: KubernetesObject) => {
      const k = keyOf(o);
      const v = valueByKey.get(k);
      if (v === undefined) return;
      valueByKey.delete(k);
      const m = byValue.get(v);
      if (m?.delete(k) && m.size === 0) byValue.delete(v);
    };
    const put = (o: KubernetesObject) => {
      drop(o);
      const v = valueOf(o as T);
      if (v === undefined) return;
      const m = byValue.get(v) ?? new Map<string, T>();
      m.set(keyOf(o), o as T);
      byValue.set(v, m);
      valueByKey.set(keyOf(o), v);
    };
    for (const w of this.watches) {
      w.on('add', put);
      w.on('update', put);
      w.on('delete', drop);
    }
    return (value) => [...(byValue.get(value)?.values() ?? [])];
  }

  /**
   * The cache in one order, per namespace and over all, kept by the watch events (relists
   * included) with a binary search and one splice each: a sorted read costs nothing per request.
   * `compare` must order by fields an object never changes (e.g. creation time, then uid).
   */
  ordered(compare: (a: T, b: T) => number): (namespace?: string) => readonly T[] {
    const all: T[] = [];
    const byNamespace = new Map<string, T[]>();
    const held = new Map<string, T>();
    const drop = (o: KubernetesObject) => {
      const k = keyOf(o);
      const old = held.get(k);
      if (old === undefined) return;
      held.delete(k);
      const ns = o.metadata?.namespace ?? '';
      const list = byNamespace.get(ns) ?? [];
      remove(all, old, compare);
      remove(list, old, compare);
      if (list.length === 0) byNamespace.delete(ns);
    };
    const put = (o: KubernetesObject) => {
      drop(o);
      const obj = o as T;
      const ns = o.metadata?.namespace ?? '';
      const list = byNamespace.get(ns) ?? [];
      byNamespace.set(ns, list);
      insert(all, obj, compare);
      insert(list, obj, compare);
      held.set(keyOf(o), obj);
    };
    for (const w of this.watches) {
      w.on('add', put);
      w.on('update', put);
      w.on('delete', drop);
    }
    return (namespace) => (namespace === undefined ? all : (byNamespace.get(namespace) ?? []));
  }

  on(handler: Handler<T>): void {
    for (const w of this.watches) {
      w.on('add', (o) => handler('add', o as T));
      w.on('update', (o) => handler('update', o as T));
      w.on('delete', (o) => handler('delete', o as T));
    }
  }

  /** Starts a stopped watch again (a relist), after a jittered back-off that doubles per failure. */
  private restart(w: ListWatch<KubernetesObject>, err: unknown): void {
    if (this.stopped || this.pending.has(w)) return; // our own stop() aborts with an error too
    this.broken.add(w);
    const attempt = (this.attempts.get(w) ?? 0) + 1;
    this.attempts.set(w, attempt);
    const delayMs = this.delayOf(attempt);
    this.log.warn({ err, informer: this.name, delayMs }, 'watch stopped; restarting');
    this.pending.add(w);
    setTimeout(() => {
      this.pending.delete(w);
      if (this.stopped) return;
      const before = this.errors.get(w) ?? 0;
      // ListWatch.start() reports a failed list as an error event, not a rejection.
      w.start().then(
        () => {
          if ((this.errors.get(w) ?? 0) !== before) return; // failed: the error restarts it again
          this.broken.delete(w);
          this.attempts.delete(w);
          this.log.info({ informer: this.name }, 'watch running again');
        },
        (e: unknown) => this.restart(w, e),
      );
    }, delayMs).unref();
  }

  /** Synced, and every watch running: the cache is being kept current. */
  get isCurrent(): boolean {
    return this.synced && this.broken.size === 0;
  }

  async start(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.start()));
    this.synced = true;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    for (const w of this.watches) {
      const o = w.get(name, namespace);
      if (o) return o as T;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.watches.flatMap((w) => w.list(namespace)) as T[];
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.all(this.watches.map((w) => w.stop())).then(() => undefined);
  }
}

/** An object's cache key: namespace/name. */
function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The first index in sorted `list` whose element is not before `o`. */
export function lowerBound<T>(list: readonly T[], o: T, compare: (a: T, b: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid] as T, o) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insert<T>(list: T[], o: T, compare: (a: T, b: T) => number): void {
  list.splice(lowerBound(list, o, compare), 0, o);
}

function remove<T>(list: T[], o: T, compare: (a: T, b: T) => number): void {
  const at = lowerBound(list, o, compare);
  if (list[at] === o) list.splice(at, 1);
}

/** 1 s, 2 s, 4 s, … up to 30 s, each with up to 20% jitter so many watches do not retry in step. */
export function restartDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** (attempt - 1), 30_000);
  return Math.round(base * (0.8 + random() * 0.4));
}
