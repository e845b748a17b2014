// A watch that ends: client-node's Watch keeps one request open for as long as the connection
// lives, so a half-open connection (a peer gone without a FIN) is noticed only by TCP keepalive,
// after minutes. As client-go's reflector does, each watch asks the apiserver to end it after a
// jittered 5-10 minutes (ListWatch then watches again from its resourceVersion, no relist), and
// a watch still open well past that (or never answered) is aborted here, which ListWatch reports
// as an error (and the Informer restarts it).
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ListWatchOptions,
} from '@kubernetes/client-node';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';

/**
 * When the apiserver ends a watch (its timeoutSeconds), watch again at once from the
 * resourceVersion, as client-go's reflector does. client-node 2.x's ListWatch would wait first,
 * 1 s and doubling up to 30 s while no event comes between two ends, so every change to a quiet
 * resource would be seen up to 30 s late. Errors do not come here: Informer backs those off.
 */
export const WATCH_AGAIN_AT_ONCE: ListWatchOptions = { delayFn: () => Promise.resolve() };

/** The one way our caches list and watch: ours starts them (autoStart off), see WATCH_AGAIN_AT_ONCE. */
export function listWatch(
  path: string,
  watch: Watch,
  list: ListPromise<KubernetesObject>,
  labelSelector?: string,
): ListWatch<KubernetesObject> {
  return new ListWatch<KubernetesObject>(
    path,
    watch,
    list,
    false,
    labelSelector,
    undefined,
    WATCH_AGAIN_AT_ONCE,
  );
}

/** The apiserver ends each watch after this many seconds, jittered as client-go's reflector. */
export function watchTimeoutSeconds(random: () => number = Math.random): number {
  return Math.floor(300 + random() * 300);
}

/** How long past its timeout a watch may stay open before it counts as stalled (at most the timeout). */
export const STALL_GRACE_MS = 30_000;

export class BoundedWatch extends Watch {
  /** `fixedTimeoutSeconds` > 0 replaces the jittered 5-10 min (journeys that cut a watch use a short one). */
  constructor(
    private readonly kc: KubeConfig,
    private readonly fixedTimeoutSeconds = 0,
  ) {
    super(kc);
  }

  /**
   * One watch request, its own (client-node's cannot be aborted before its response headers
   * come): the stall timer runs from the request, so a watch that never gets an answer, or one
   * that stops carrying events, ends in an error by timeout + grace.
   */
  override async watch(
    path: string,
    queryParams: Record<string, unknown>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const timeoutSeconds = this.fixedTimeoutSeconds > 0 ? this.fixedTimeoutSeconds : watchTimeoutSeconds();
    const graceMs = Math.min(STALL_GRACE_MS, timeoutSeconds * 1000);
    const url = new URL(`${this.kc.getCurrentCluster()?.server ?? ''}${path}`);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('timeoutSeconds', String(timeoutSeconds));
    for (const [k, v] of Object.entries(queryParams)) {
      // resourceVersion and selectors: strings (numbers at most), as ListWatch passes them
      if (typeof v === 'string' || typeof v === 'number') url.searchParams.set(k, String(v));
    }
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const controller = new AbortController();
    let ended = false;
    const finish = (err: unknown) => {
      if (ended) return;
      ended = true;
      clearTimeout(stall);
      controller.abort();
      done(err);
    };
    const stall = setTimeout(
      () =>
        finish(
          new Error(`watch ${path} stalled: no end ${timeoutSeconds} s + ${graceMs / 1000} s after it began`),
        ),
      timeoutSeconds * 1000 + graceMs,
    );
    stall.unref();
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, { ...opts, method: 'GET', signal: controller.signal }, (res) => {
      if (res.statusCode !== 200) {
        const code = res.statusCode ?? 0;
        res.resume();
        finish(Object.assign(new Error(`watch ${path}: HTTP ${code}`), { code, statusCode: code }));
        return;
      }
      const lines = createInterface({ input: res });
      lines.on('line', (line) => {
        if (ended || line === '') return;
        try {
          const event = JSON.parse(line) as { type: string; object: unknown };
          callback(event.type, event.object, event);
        } catch (err) {
          finish(err);
        }
      });
      lines.on('error', finish); // the interface re-emits its input's errors: unhandled, they end the process
      res.on('error', finish);
      res.on('close', () => finish(null)); // the apiserver ended it (timeoutSeconds): watch again
    });
    req.on('error', finish);
    req.end();
    return controller;
  }
}
