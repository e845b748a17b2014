// The facade's metrics, all registered here on a Registry made at start-up.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `projectConflicts`: how many projects more than one namespace claims (refused until resolved). */
export function makeApiMetrics(projectConflicts: () => number = () => 0) {
  const registry = new Registry();
  new Gauge({
    name: 'qinling_jobs_api_project_conflicts',
    help: 'Projects claimed by more than one namespace: refused (503) until an admin removes all labels but one.',
    registers: [registry],
    collect() {
      this.set(projectConflicts());
    },
  });
  collectDefaultMetrics({ register: registry }); // standard names, as the operator's
  const requests = new Counter({
    name: 'qinling_jobs_api_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'qinling_jobs_api_request_duration_seconds',
    help: 'HTTP request duration by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'qinling_jobs_api_rate_limited_total',
    help: 'Requests refused with 429.',
    registers: [registry],
  });
  /** Observes every request under its route pattern (never its ids), outermost in the chain. */
  const middleware = async (ctx: Context, next: Next) => {
    const end = duration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      end({ method: ctx.method, route });
      requests.inc({ method: ctx.method, route, status: String(ctx.status) });
    }
  };
  return { registry, middleware, rateLimited };
}

export type ApiMetrics = ReturnType<typeof makeApiMetrics>;

/**
 * `GET /metrics` and nothing else, for the metrics listener: a port of its own (loopback unless
 * configured), so the tenants' port never shows the facade's internals.
 */
export function metricsHandler(registry: Registry) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ faultcode: 'Client', faultstring: 'Resource not found.', debuginfo: null }));
      return;
    }
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}
