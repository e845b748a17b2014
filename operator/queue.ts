// A keyed work queue in the manner of client-go's: a key is queued at most once, a key being
// processed is not handed to a second worker (an add meanwhile makes it run again afterwards),
// failures back off per key exponentially, and delayed adds wake the key up later.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { unref?: () => void };
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

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
  /** Earliest pending delayed add per key, so a flood of addAfter makes one timer per due time. */
  private readonly delayed = new Map<string, number>();
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

  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const due = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined && pending <= due) return;
    this.delayed.set(key, due);
    this.clock
      .setTimeout(() => {
        if (this.delayed.get(key) !== due) return;
        this.delayed.delete(key);
        this.add(key);
      }, ms)
      .unref?.();
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

  shutdown(): void {
    this.shuttingDown = true;
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }
}
