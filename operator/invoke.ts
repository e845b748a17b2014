// `qinling-jobs invoke`: what every run's pod executes. It calls the function runtime (again
// after a backoff, when the job allows more than one attempt and the failure was transient) and
// says how that went through its exit code: 0 done, 10 refused by the runtime (a 4xx: a retry
// would be refused too), 11 transient (5xx, 429, timeout, no connection), 2 misconfigured (a
// permanent failure, a target URL that would leave the http-mode template included). Each
// attempt is reported in the termination message (retry.ts). The input travels as data (env to
// HTTP body), never through a shell; credentials come from env filled from a Secret and are
// never printed.

import { writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { attemptReport, backoffSeconds, type Retry } from '../domain/retry.js';
import type { RunAttempt } from '../domain/types.js';

export const EXIT = { ok: 0, misconfigured: 2, refused: 10, transient: 11 } as const;

export interface Invocation {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  retry: Pick<Retry, 'maxAttempts' | 'minBackoffSeconds' | 'maxBackoffSeconds'>;
}

export class ConfigError extends Error {}

/** Longest an early run's pod waits for its time (the operator's lead is at most 300 s). */
export const MAX_WAIT_MS = 600_000;

/** How long to wait before calling: a run made early (the operator's lead) calls at its time, not before. */
export function waitMs(scheduled: string, now: number): number {
  const ms = Date.parse(scheduled) - now;
  if (ms > MAX_WAIT_MS)
    throw new ConfigError(`the scheduled time ${scheduled} is more than ${MAX_WAIT_MS / 1000} s away`);
  return Math.max(ms, 0);
}

/** The scheduled time: the operator's annotation, else the CronJob's Job name (Unix minutes). */
export function scheduledTime(env: Record<string, string | undefined>): string {
  const stamp = env.QJ_SCHEDULED_TIME;
  if (stamp) {
    const d = new Date(stamp);
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  }
  const m = /-(\d{1,9})$/.exec(env.QJ_KUBE_JOB_NAME ?? '');
  if (m) return new Date(Number(m[1]) * 60_000).toISOString();
  throw new ConfigError('cannot tell the scheduled time (no QJ_SCHEDULED_TIME, no CronJob Job name)');
}

const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (all, k: string) => {
    if (!(k in values)) return all;
    const v = values[k] ?? '';
    // encodeURIComponent keeps dots, and URL parsing removes dot segments: `..` would move the
    // call up the runtime's path (the REST API and the CRD refuse such aliases; this is the last line).
    if (v === '.' || v === '..') throw new ConfigError(`{${k}} may not be "${v}" in the runtime URL`);
    return encodeURIComponent(v);
  });

/** The scheme and authority, with the start of the path: the part of a template nothing may change. */
const FIXED_ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#{]*[/?#]/i;

/**
 * The http-mode URL for a template: the filled URL, once parsed, must still start with what
 * comes before the template's first placeholder, and keep its origin when that comes before it.
 */
export function runtimeUrl(template: string, values: Record<string, string>): string {
  const filled = fill(template, values);
  const cut = template.indexOf('{');
  const prefix = cut < 0 ? template : template.slice(0, cut);
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw new ConfigError('the filled runtime URL is not a URL');
  }
  const leaves = () =>
    new ConfigError(`the filled runtime URL leaves the template's fixed part ${JSON.stringify(prefix)}`);
  if (FIXED_ORIGIN.test(prefix)) {
    const fixed = new URL(prefix);
    if (url.origin !== fixed.origin || !url.href.startsWith(fixed.href)) throw leaves();
  } else if (!url.href.toLowerCase().startsWith(prefix.toLowerCase())) throw leaves();
  return filled;
}

export function buildInvocation(env: Record<string, string | undefined>): Invocation {
  const mode = env.QJ_RUNTIME_MODE ?? 'qinling';
  const base = env.QJ_RUNTIME_URL;
  const jobId = env.QJ_JOB_ID;
  if (!base) throw new ConfigError('QJ_RUNTIME_URL is not set');
  if (!jobId) throw new ConfigError('QJ_JOB_ID is not set');
  const functionId = env.QJ_FUNCTION_ID ?? '';
  const alias = env.QJ_FUNCTION_ALIAS ?? '';
  const version = Number(env.QJ_FUNCTION_VERSION ?? '0');
  const input = env.QJ_FUNCTION_INPUT ?? '';
  const timeoutS = Number(env.QJ_TIMEOUT_SECONDS ?? '30');
  if (!Number.isInteger(timeoutS) || timeoutS < 1)
    throw new ConfigError('QJ_TIMEOUT_SECONDS must be a positive integer');
  const retry = retryFromEnv(env);
  const at = scheduledTime(env);
  // A run by hand has a key of its own, never a scheduled slot's, and says who asked.
  const request = env.QJ_RUN_REQUEST;
  const headers: Record<string, string> = {
    'x-qinling-job-id': jobId,
    'x-qinling-scheduled-time': at,
    'idempotency-key': request ? `${jobId}/manual/${request}` : `${jobId}/${at}`,
    'user-agent': 'qinling-jobs-invoker',
  };
  if (request) {
    headers['x-qinling-trigger'] = 'manual';
    headers['x-qinling-run-request'] = request;
    if (env.QJ_REQUESTED_BY) headers['x-qinling-requested-by'] = env.QJ_REQUESTED_BY;
  }
  const token = env.QJ_RUNTIME_TOKEN;
  if (mode === 'qinling') {
    if (token) headers['x-auth-token'] = token;
    headers['content-type'] = 'application/json';
    const target = alias ? { function_alias: alias } : { function_id: functionId, function_version: version };
    const body = JSON.stringify({ ...target, input, sync: false, description: `Created by Job ${jobId}` });
    const url = `${base.replace(/\/+$/, '')}/v1/executions`;
    return { url, headers, body, timeoutMs: timeoutS * 1000, retry };
  }
  if (mode === 'http') {
    if (token) headers.authorization = `Bearer ${token}`;
    headers['content-type'] = isJson(input) ? 'application/json' : 'text/plain; charset=utf-8';
    const url = runtimeUrl(base, {
      function_id: functionId,
      function_alias: alias,
      function_version: String(version),
      job_id: jobId,
    });
    return { url, headers, body: input, timeoutMs: timeoutS * 1000, retry };
  }
  throw new ConfigError(`QJ_RUNTIME_MODE must be qinling or http, not "${mode}"`);
}

/** The job's retry policy, as the operator put it in the pod's env (one attempt when absent). */
export function retryFromEnv(env: Record<string, string | undefined>): Invocation['retry'] {
  const int = (name: string, dflt: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new ConfigError(`${name} must be an integer from 1 to ${max}`);
    return n;
  };
  const minBackoffSeconds = int('QJ_MIN_BACKOFF_SECONDS', 1, 3600);
  return {
    maxAttempts: int('QJ_MAX_ATTEMPTS', 1, 10),
    minBackoffSeconds,
    maxBackoffSeconds: Math.max(int('QJ_MAX_BACKOFF_SECONDS', 60, 3600), minBackoffSeconds),
  };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return s.trim() !== '';
  } catch {
    return false;
  }
}

export interface Outcome {
  code: number;
  message: string;
}

export function classifyResponse(status: number, body: string): Outcome {
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const said = `runtime answered HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  if (status >= 200 && status < 300) return { code: EXIT.ok, message: said };
  if (status === 429 || status >= 500) return { code: EXIT.transient, message: said };
  return { code: EXIT.refused, message: said };
}

export function classifyError(err: unknown, timeoutMs: number): Outcome {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return { code: EXIT.transient, message: `runtime did not answer within ${timeoutMs / 1000}s` };
  }
  const code = (err as { code?: unknown }).code;
  const why =
    e.cause?.code ??
    (typeof code === 'string' ? code : undefined) ??
    e.cause?.message ??
    e.message ??
    String(err);
  return { code: EXIT.transient, message: `runtime unreachable: ${why}` };
}

/**
 * A process's first request costs CPU that later ones do not (the HTTP client's code compiled,
 * the JIT): at a busy second, 200 pods paying it at once on two cores made the calls 10-20 s
 * late. A pod made early pays it while it waits, with one request to a loopback listener of its
 * own (never the runtime). Best effort: a failure costs only the saving.
 */
export async function warmUp(): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    res.end();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    await post(`http://127.0.0.1:${port}/`, { 'content-type': 'application/json' }, '{}', 5000);
  } catch {
    // nothing to do: the call itself still works, only slower
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

export async function runInvoke(env: Record<string, string | undefined>): Promise<number> {
  let inv: Invocation;
  let wait: number;
  try {
    inv = buildInvocation(env);
    wait = waitMs(inv.headers['x-qinling-scheduled-time'] ?? '', Date.now());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`invoke: ${err.message}`);
    return EXIT.misconfigured;
  }
  if (wait > 0) {
    // Deleted before its time (a withdrawn early run), the pod ends here: SIGTERM's default.
    console.log(
      `invoke: waiting ${(wait / 1000).toFixed(1)} s for ${inv.headers['x-qinling-scheduled-time']}`,
    );
    const start = Date.now();
    await warmUp();
    await sleep(Math.max(wait - (Date.now() - start), 0));
  }
  const target = new URL(inv.url);
  const attempts: RunAttempt[] = [];
  let out: Outcome = { code: EXIT.transient, message: 'no attempt made' };
  for (let n = 1; n <= inv.retry.maxAttempts; n++) {
    const of = inv.retry.maxAttempts > 1 ? ` (attempt ${n} of ${inv.retry.maxAttempts})` : '';
    console.log(`invoke: POST ${target.origin}${target.pathname} for ${inv.headers['idempotency-key']}${of}`);
    const startTime = new Date().toISOString();
    const call = await callOnce({ ...inv, headers: { ...inv.headers, 'x-qinling-attempt': String(n) } });
    out = call.outcome;
    attempts.push({
      attempt: n,
      startTime,
      ...(call.httpStatus !== undefined ? { httpStatus: call.httpStatus } : {}),
      message: out.message,
    });
    (out.code === EXIT.ok ? console.log : console.error)(`invoke: ${out.message}`);
    if (out.code !== EXIT.transient || n === inv.retry.maxAttempts) break;
    const wait = backoffSeconds(inv.retry, n);
    console.error(`invoke: transient failure; attempt ${n + 1} in ${wait} s`);
    await sleep(wait * 1000);
  }
  report(env.QJ_TERMINATION_LOG, attempts);
  return out.code;
}

/** One POST; its outcome and the HTTP status when the server answered. */
export async function callOnce(
  inv: Pick<Invocation, 'url' | 'headers' | 'body' | 'timeoutMs'>,
): Promise<{ outcome: Outcome; httpStatus?: number }> {
  try {
    const res = await post(inv.url, inv.headers, inv.body, inv.timeoutMs);
    return { outcome: classifyResponse(res.status, res.text), httpStatus: res.status };
  } catch (err) {
    return { outcome: classifyError(err, inv.timeoutMs) };
  }
}

/** What of an answer's body is kept: its start is all a report shows. */
const KEEP_BYTES = 64 * 1024;

/**
 * One POST through node's own HTTP client, not fetch: at a busy second, each of 200 pods woken
 * at once on two cores spends about half the CPU fetch would (docs/figures.md, "200 processes
 * woken at once"). Redirects are not followed (a 3xx is an answer, and not a success); the
 * timeout bounds the whole exchange; the connection is not kept (one call per process).
 */
export function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const send =
    target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
  if (!send) return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res: IncomingMessage) => {
        const kept: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < KEEP_BYTES) kept.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(kept).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The attempts, as the container's termination message (best effort: a run's result is its exit code). */
function report(path: string | undefined, attempts: RunAttempt[]): void {
  if (!path) return;
  try {
    writeFileSync(path, attemptReport(attempts));
  } catch (err) {
    console.error(`invoke: could not write the termination message: ${(err as Error).message}`);
  }
}
