// A fake of the part of client-node's ListWatch the Informer uses: a cache of objects by
// namespace/name and the watch events that change it, emitted when a test says so.
import type { KubernetesObject } from '@kubernetes/client-node';

type Cb = (x: unknown) => void;

export class FakeListWatch {
  handlers: Record<string, Cb[]> = {};
  objects = new Map<string, KubernetesObject>();
  starts = 0;
  /** While true, start() fails the way ListWatch does: an error event, and a resolved promise. */
  failing = false;

  on(verb: string, cb: Cb): void {
    (this.handlers[verb] ??= []).push(cb);
  }

  emit(verb: string, x: unknown): void {
    const o = x as KubernetesObject;
    const key = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    if (verb === 'add' || verb === 'update') this.objects.set(key, o);
    if (verb === 'delete') this.objects.delete(key);
    for (const cb of this.handlers[verb] ?? []) cb(x);
  }

  start(): Promise<void> {
    this.starts++;
    if (this.failing) this.emit('error', new Error('list failed'));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  get(name: string, namespace?: string): KubernetesObject | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): KubernetesObject[] {
    return [...this.objects.values()].filter((o) => !namespace || o.metadata?.namespace === namespace);
  }
}
