// An informer over one resource in some namespaces (or all), read as one cache. client-node's
// ListWatch stops on most errors and does not restart itself; this one does, with a back-off.
import { ListWatch, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type Handler<T> = (verb: 'add' | 'update' | 'delete', obj: T) => void;

/** One ListWatch per watched namespace (or one for all), read as a single cache. */
export class Informer<T> {
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private synced = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly log: Logger,
    make: (namespace: string | undefined) => ListWatch<KubernetesObject>,
    namespaces: string[],
  ) {
    for (const ns of namespaces.length > 0 ? namespaces : [undefined]) {
      const w = make(ns);
      // managedFields are a large share of every object and never read here: drop them from the
      // cached copy (the same object the cache holds), so 10,000 jobs fit in a small heap.
      const slim = (o: KubernetesObject) => delete o.metadata?.managedFields;
      w.on('add', slim);
      w.on('update', slim);
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
    const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
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

  on(handler: Handler<T>): void {
    for (const w of this.watches) {
      w.on('add', (o) => handler('add', o as T));
      w.on('update', (o) => handler('update', o as T));
      w.on('delete', (o) => handler('delete', o as T));
      w.on('error', (err) => this.restart(w, err, 1000));
    }
  }

  private restart(w: ListWatch<KubernetesObject>, err: unknown, delayMs: number): void {
    if (this.stopped) return; // the abort of our own stop() arrives as an error too
    this.log.warn({ err, informer: this.name, delayMs }, 'watch stopped; restarting');
    setTimeout(() => {
      if (this.stopped) return;
      w.start().catch((e: unknown) => this.restart(w, e, Math.min(delayMs * 2, 30_000)));
    }, delayMs).unref();
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
