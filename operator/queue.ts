// A keyed work queue in the manner of client-go's: a key is queued at most once, a key being
// processed is not handed to a second worker (an add meanwhile makes it run again afterwards),
// failures back off per key exponentially, and delayed adds wake the key up later.

export interface Timer {
  unref?: () => void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(t: Timer): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/**
 * The longest single wait. Node fires any timer above 2^31-1 ms (24.8 days) after 1 ms, so a long
 * wait is cut into waits of at most this; the key is simply planned again when one ends.
 */
export const MAX_DELAY_MS = 3_600_000;

export interface QueueOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** The one pending delayed add per key (the earliest asked for) and its timer. */
  private readonly delayed = new Map<string, { due: number; timer: Timer }>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(
    private readonly opts: QueueOptions = { baseDelayMs: 5, maxDelayMs: 300_000 },
    private readonly clock: Clock = realClock,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
  }

  /** Adds the key after `ms` (at most MAX_DELAY_MS); an earlier pending add wins, a later one replaces none. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const wait = Math.min(ms, MAX_DELAY_MS);
    const due = this.clock.now() + wait;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, wait);
    timer.unref?.();
    this.delayed.set(key, { due, timer });
  }

  /** Delayed adds pending (one per key at most). */
  get pendingDelayed(): number {
    return this.delayed.size;
  }

  /** Re-adds after the key's next back-off delay: base * 2^failures, capped. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.opts.baseDelayMs * 2 ** n, this.opts.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its back-off starts over. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to work on; undefined once shut down (what is left is dropped: level-based). */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** After shutdown: an empty queue that takes keys again (a new term as leader). */
  reset(): void {
    this.queue.length = 0;
    this.queued.clear();
    this.processing.clear();
    this.dirty.clear();
    this.failures.clear();
    this.shuttingDown = false;
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }
}
