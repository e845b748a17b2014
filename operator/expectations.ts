// The operator's own writes that its caches have not shown yet (client-go's ControllerExpectations,
// by resourceVersion). A write's echo comes back through the watch a moment after the write; a
// pass in between plans from a past it has already changed: its status write is refused (409,
// a requeue with back-off), its CronJob create finds the name taken (409, then a GET), and each
// costs the apiserver a request while it is busiest. So a pass that finds its cache behind its
// own last write does nothing: the echo queues the key again. A write whose echo never comes (a
// lost event) costs a delay, never the pass: the wait ends after `ttlMs` and the key is queued.
//
// resourceVersions compare as numbers since Kubernetes 1.35 (KEP-5504: comparable resource
// versions, GA): positive decimal integers, ordered by length, then digits. One that is not
// such an integer is never waited for.
import { realClock, type Clock, type Timer } from './queue.js';

/** How long a pass waits for the echo of its own write before it acts on the cache as it is. */
export const ECHO_WAIT_MS = 10_000;

export function compareResourceVersions(a: string, b: string): number | undefined {
  const valid = /^[1-9][0-9]*$/;
  if (!valid.test(a) || !valid.test(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Expectations {
  /** Per key, per object kind ('job', 'cronJob'): the version our last write made. */
  private readonly written = new Map<string, Map<string, string>>();
  /** Keys a pass left waiting, and the timer that queues each one if no echo comes. */
  private readonly waiting = new Map<string, Timer>();

  constructor(
    private readonly onExpired: (key: string) => void,
    private readonly ttlMs = ECHO_WAIT_MS,
    private readonly clock: Clock = realClock,
  ) {}

  /** A write of ours made `resourceVersion` of the key's object of this kind. */
  wrote(key: string, kind: string, resourceVersion: string | undefined): void {
    if (!resourceVersion || compareResourceVersions(resourceVersion, resourceVersion) === undefined) return;
    const byKind = this.written.get(key) ?? new Map<string, string>();
    const before = byKind.get(kind);
    if (before === undefined || (compareResourceVersions(before, resourceVersion) ?? 0) < 0)
      byKind.set(kind, resourceVersion);
    this.written.set(key, byKind);
  }

  /**
   * Whether the cache (the version it holds of each kind, undefined when it holds none) is behind
   * a write of ours. Behind: the key is left waiting (queued after the wait at the latest);
   * caught up: what it has shown is forgotten.
   */
  behind(key: string, seen: Record<string, string | undefined>): boolean {
    const byKind = this.written.get(key);
    if (!byKind) return this.settle(key);
    for (const [kind, rv] of byKind) {
      const have = seen[kind];
      const cmp = have === undefined ? -1 : compareResourceVersions(have, rv);
      if (cmp === undefined || cmp >= 0) byKind.delete(kind);
    }
    if (byKind.size === 0) {
      this.written.delete(key);
      return this.settle(key);
    }
    if (!this.waiting.has(key)) {
      const timer = this.clock.setTimeout(() => {
        // Waited long enough: act on the cache as it is (the write's echo may never come).
        this.waiting.delete(key);
        this.written.delete(key);
        this.onExpired(key);
      }, this.ttlMs);
      timer.unref?.();
      this.waiting.set(key, timer);
    }
    return true;
  }

  /** The key's object is gone: nothing to wait for. */
  forget(key: string): void {
    this.written.delete(key);
    this.settle(key);
  }

  /** Keys whose passes wait for an echo now. */
  get pending(): number {
    return this.waiting.size;
  }

  private settle(key: string): false {
    const timer = this.waiting.get(key);
    if (timer) this.clock.clearTimeout(timer);
    this.waiting.delete(key);
    return false;
  }
}
