// A watch that ends: client-node's Watch keeps one request open for as long as the connection
// lives, so a half-open connection (a peer gone without a FIN) is noticed only by TCP keepalive,
// after minutes. As client-go's reflector does, each watch asks the apiserver to end it after a
// jittered 5-10 minutes (ListWatch then watches again from its resourceVersion, no relist), and
// a watch still open well past that is aborted here, which ListWatch reports as an error (and the
// Informer restarts it).
import { Watch } from '@kubernetes/client-node';

/** The apiserver ends each watch after this many seconds, jittered as client-go's reflector. */
export function watchTimeoutSeconds(random: () => number = Math.random): number {
  return Math.floor(300 + random() * 300);
}

/** How long past its timeout a watch may stay open before it counts as stalled (at most the timeout). */
export const STALL_GRACE_MS = 30_000;

export class BoundedWatch extends Watch {
  /** `fixedTimeoutSeconds` > 0 replaces the jittered 5-10 min (journeys that cut a watch use a short one). */
  constructor(
    config: ConstructorParameters<typeof Watch>[0],
    private readonly fixedTimeoutSeconds = 0,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, unknown>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const timeoutSeconds = this.fixedTimeoutSeconds > 0 ? this.fixedTimeoutSeconds : watchTimeoutSeconds();
    const graceMs = Math.min(STALL_GRACE_MS, timeoutSeconds * 1000);
    let ended = false;
    let stall: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      if (ended) return;
      ended = true;
      clearTimeout(stall);
      done(err);
    };
    const controller = await super.watch(path, { ...queryParams, timeoutSeconds }, callback, finish);
    if (!ended) {
      stall = setTimeout(
        () => {
          if (ended) return;
          controller.abort();
          finish(
            new Error(
              `watch ${path} stalled: still open ${timeoutSeconds} s + grace after it should have ended`,
            ),
          );
        },
        timeoutSeconds * 1000 + graceMs,
      );
      stall.unref();
    }
    return controller;
  }
}
