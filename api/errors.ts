// One table from domain errors to HTTP, and one middleware that turns every error, unknown
// routes included, into Qinling's JSON error body, which the real client needs to show it.
import type { Middleware } from 'koa';
import { DomainError, type ErrorKind } from '../domain/errors.js';

const STATUS: Record<ErrorKind, number> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  TooLarge: 413,
  Unavailable: 503,
};

/** An error the HTTP layer itself raises (authentication, limits, methods). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function faultBody(status: number, message: string) {
  return { faultcode: status >= 500 ? 'Server' : 'Client', faultstring: message, debuginfo: null };
}

/** What koa throws (ctx.throw) carries `status` and `expose`. */
interface KoaLikeError {
  status?: number;
  expose?: boolean;
  message?: string;
}

function describe(err: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof DomainError) return { status: STATUS[err.kind], message: err.message, headers: {} };
  if (err instanceof HttpError) return { status: err.status, message: err.message, headers: err.headers };
  const e = err as KoaLikeError;
  if (e.status && e.status >= 400 && e.status < 500 && e.expose) {
    return { status: e.status, message: e.message ?? 'Bad request.', headers: {} };
  }
  return { status: 500, message: 'Internal server error.', headers: {} };
}

/**
 * `onServerError` hears every 5xx: `internal` is true for the unexpected (500), false for an
 * outage the code reported on purpose (503, e.g. Keystone or the apiserver unreachable).
 */
export function errorMiddleware(onServerError: (err: unknown, internal: boolean) => void): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'Resource not found.');
    } catch (err) {
      const d = describe(err);
      // 501 is a 5xx by the letter only: an unknown method is nothing the server should hear of.
      if (d.status >= 500 && d.status !== 501) onServerError(err, d.status === 500);
      ctx.status = d.status;
      ctx.set(d.headers);
      ctx.body = faultBody(d.status, d.message);
    }
  };
}
