// A fake clock for the work queue: timers fire when a test advances time, and, as Node's do, a
// delay above 2^31-1 ms fires after 1 ms (so a test sees what a too-long wait would really do).
import type { Clock, Timer } from '../operator/queue.js';

const NODE_MAX_TIMER = 2 ** 31 - 1;

export class FakeClock implements Clock {
  t = 0;
  timers: { at: number; ms: number; fn: () => void; unref: () => void }[] = [];
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number): Timer => {
    const timer = { at: this.t + (ms > NODE_MAX_TIMER ? 1 : ms), ms, fn, unref: () => undefined };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (t: Timer) => {
    this.timers = this.timers.filter((x) => x !== t);
  };
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }
}
