// The Koa application (no listen): Qinling's /v1/jobs routes over JobService. Handlers parse
// and shape; the service decides; errors become Qinling's JSON body in one middleware.
import { randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { Logger } from 'pino';
import type { Authenticator, Caller } from './auth.js';
import { errorMiddleware, HttpError } from './errors.js';
import type { InFlight, RecentTokens, TokenBuckets } from './limits.js';
import type { ApiMetrics } from './metrics.js';
import type { JobService } from './service.js';
import { jsonList } from './stream.js';

/** Lists longer than this are streamed (chunked) rather than sent as one body. */
const STREAM_FROM = 1000;

export interface AppDeps {
  service: JobService;
  auth: Authenticator;
  /** Per token, once authenticated. */
  limits: TokenBuckets;
  authLimits: AuthLimits;
  metrics: ApiMetrics;
  ready: () => boolean;
  log: Logger;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Base of the version documents' links (see publicBase); '' for relative links. */
  publicBase: string;
}

interface State {
  caller: Caller;
}

function requestId() {
  return async (ctx: Context, next: Next) => {
    const id = `req-${randomUUID()}`;
    ctx.set('x-openstack-request-id', id);
    ctx.state.requestId = id;
    await next();
  };
}

/**
 * Jobs carry `function_input`, often credentials in all but name: no cache (a shared proxy, a
 * browser) keeps a response, and no browser guesses a type other than the one sent. Set on every
 * response, faults included, since they come before anything can fail.
 */
async function noStore(ctx: Context, next: Next) {
  ctx.set('cache-control', 'no-store');
  ctx.set('x-content-type-options', 'nosniff');
  await next();
}

/** One JSON line per request; never the token or the body. */
function accessLog(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const caller = (ctx.state as Partial<State>).caller;
      log.info(
        {
          requestId: ctx.state.requestId as string,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - start),
          ...(caller ? { user: caller.userId, project: caller.projectId } : {}),
        },
        'request',
      );
    }
  };
}

/** Bounds on the work of authenticating, per client address (the socket's: no proxy is trusted). */
export interface AuthLimits {
  /** Failed authentications; an address out of them has new tokens refused before validation. */
  failures: TokenBuckets;
  /** Validations under way (a Keystone call, a TokenReview) at once. */
  inFlight: InFlight;
  /** Tokens that passed lately: validated even from an address out of failures. */
  recent: RecentTokens;
}

const tooMany = (wait: number) =>
  new HttpError(429, 'Too many requests; slow down.', { 'retry-after': String(wait) });

function authenticate(d: AppDeps) {
  const unauthenticated = () =>
    new HttpError(401, 'The request you have made requires authentication.', {
      'www-authenticate': d.auth.challenge ?? 'Keystone uri="/"',
    });
  return async (ctx: Context, next: Next) => {
    const token = ctx.get('x-auth-token');
    const from = ctx.ip;
    const refused = (wait: number) => {
      d.metrics.rateLimited.inc();
      return tooMany(wait);
    };
    const failWait = token !== '' && d.authLimits.recent.has(token) ? 0 : d.authLimits.failures.wait(from);
    if (failWait > 0) throw refused(failWait);
    if (!d.authLimits.inFlight.enter(from)) throw refused(1);
    let caller: Caller | undefined;
    try {
      caller = token ? await d.auth.authenticate(token) : undefined;
    } finally {
      d.authLimits.inFlight.leave(from);
    }
    if (!caller) {
      d.authLimits.failures.take(from);
      throw unauthenticated();
    }
    d.authLimits.recent.add(token);
    const wait = d.limits.take(token);
    if (wait > 0) throw refused(wait);
    (ctx.state as State).caller = caller;
    await next();
  };
}

/** POST and PUT bodies are JSON; anything else is refused before it is read. */
async function jsonOnly(ctx: Context, next: Next) {
  if (
    (ctx.method === 'POST' || ctx.method === 'PUT') &&
    ctx.request.length !== 0 &&
    !ctx.is('application/json')
  ) {
    throw new HttpError(415, 'Unsupported media type: send application/json.');
  }
  await next();
}

/**
 * The public base URL (`--public-url`, no trailing slash) or, without one, '' so links are
 * relative ('/v1'): never built from the Host header, which any client (or a cache's other
 * client) chooses.
 */
export function publicBase(url: string): string {
  if (url === '') return '';
  const u = URL.canParse(url) ? new URL(url) : undefined;
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username)
    throw new Error('must be an http(s) URL without query, fragment or credentials');
  return u.href.replace(/\/+$/, '');
}

export function makeApp(d: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router();
  const caller = (ctx: Context) => (ctx.state as State).caller;

  router.get('/', (ctx) => {
    ctx.body = {
      versions: [
        { id: 'v1.0', status: 'CURRENT', links: [{ href: `${d.publicBase}/v1`, target: 'v1', rel: 'self' }] },
      ],
    };
  });
  router.get('/v1', (ctx) => {
    ctx.body = { uri: `${d.publicBase}/v1` };
  });
  router.get('/v1/', (ctx) => {
    ctx.body = { uri: `${d.publicBase}/v1` };
  });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', (ctx) => {
    if (!d.ready()) throw new HttpError(503, 'The job cache has not synced yet.');
    ctx.body = { status: 'ok' };
  });

  const jobs = new Router({ prefix: '/v1/jobs' });
  // Who is asking comes first: no body is read, let alone parsed, for a caller not known.
  jobs.use(authenticate(d));
  jobs.use(jsonOnly);
  jobs.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: d.bodyLimit,
      encoding: 'utf-8',
      onError: (err) => {
        if ((err as { status?: number }).status === 413) throw new HttpError(413, 'Request body too large.');
        throw new HttpError(400, 'Malformed JSON in request body.');
      },
    }),
  );
  jobs.post('/', async (ctx) => {
    if (/^(true|1|yes)$/i.test(String(ctx.query.dry_run ?? ''))) {
      ctx.body = await d.service.dryRun(caller(ctx), ctx.request.body);
      return;
    }
    ctx.status = 201;
    const key = ctx.get('idempotency-key');
    ctx.body = await d.service.create(caller(ctx), ctx.request.body, key === '' ? undefined : key);
  });
  jobs.get('/', async (ctx) => {
    const { size, jobs: found } = await d.service.list(caller(ctx), ctx.query);
    // A page is one body with its length; a long list is written out as it is made.
    if (size <= STREAM_FROM) ctx.body = { jobs: [...found] };
    else {
      ctx.type = 'application/json';
      ctx.body = jsonList('jobs', found);
    }
  });
  jobs.get('/:id', async (ctx) => {
    ctx.body = await d.service.get(caller(ctx), ctx.params.id ?? '');
  });
  jobs.post('/:id/run', async (ctx) => {
    const key = ctx.get('idempotency-key');
    ctx.body = await d.service.runNow(
      caller(ctx),
      ctx.params.id ?? '',
      ctx.request.body,
      key === '' ? undefined : key,
    );
    ctx.status = 202;
  });
  jobs.get('/:id/runs', async (ctx) => {
    ctx.body = await d.service.runs(caller(ctx), ctx.params.id ?? '', ctx.query);
  });
  jobs.get('/:id/schedule', async (ctx) => {
    ctx.body = await d.service.schedule(caller(ctx), ctx.params.id ?? '', ctx.query.count);
  });
  jobs.put('/:id', async (ctx) => {
    ctx.body = await d.service.update(caller(ctx), ctx.params.id ?? '', ctx.request.body);
  });
  jobs.delete('/:id', async (ctx) => {
    await d.service.remove(caller(ctx), ctx.params.id ?? '');
    ctx.status = 204;
  });

  app.use(d.metrics.middleware);
  app.use(requestId());
  app.use(noStore);
  app.use(accessLog(d.log));
  app.use(
    errorMiddleware((err, internal) => {
      // An outage is a warning with its reason; only the unexpected earns a stack at error level.
      if (internal) d.log.error({ err }, 'internal error');
      else d.log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'service unavailable');
    }),
  );
  app.use(router.routes());
  app.use(jobs.routes());
  // A method no route knows (PROPFIND, TRACE, ...) is the client's mistake: a fault, not a 500.
  const methodNotAllowed = () => new HttpError(405, 'Method not allowed.');
  const notImplemented = () => new HttpError(501, 'Method not implemented.');
  app.use(router.allowedMethods({ throw: true, methodNotAllowed, notImplemented }));
  app.use(jobs.allowedMethods({ throw: true, methodNotAllowed, notImplemented }));
  return app;
}
