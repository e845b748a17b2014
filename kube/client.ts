// The one place a KubeConfig is made, and the API clients built from it (operator and facade).
import type { RequestOptions } from 'node:https';
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  type Configuration,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { Agent } from 'undici';

export interface Kube {
  kc: KubeConfig;
  /** A raw JSON request: for what the generated clients cannot send (repeated headers). */
  request: (r: KubeRequest) => Promise<KubeResponse>;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

/** Connections to the apiserver at most: the informers' watches plus the writes in flight. */
const MAX_CONNECTIONS = 64;

/**
 * client-node 2.0.1's own authentication still builds a new dispatcher (an undici Agent, its own
 * connection pool) for every request, so every call would pay a fresh TCP and TLS handshake;
 * under load that was most of the operator's CPU (with 1.x's per-request https.Agent). This one
 * applies the same credentials (re-read per request, so rotated tokens work) through one
 * keep-alive pool, which the raw requests share.
 */
class PooledAuth implements SecurityAuthentication {
  private pool?: Agent;

  constructor(private readonly kc: KubeConfig) {}

  getName(): string {
    return 'kubeconfig over one keep-alive pool';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const { headers, pool } = await this.credentials();
    for (const [k, v] of Object.entries(headers)) context.setHeaderParam(k, v);
    context.setDispatcher(pool);
  }

  /** The headers (a fresh token) and the shared pool for one request. */
  async credentials(): Promise<{ headers: Record<string, string>; pool: Agent }> {
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = String(v);
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    this.pool ??= new Agent({
      connections: MAX_CONNECTIONS,
      // HTTP/1.1 keep-alive connections, as client-node 1.x used (undici 8 would negotiate HTTP/2
      // and put every request and watch on one TCP connection; measured no faster here, and a
      // request outliving the apiserver's timeout ended in an HTTP/2 stream error: figures.md).
      allowH2: false,
      // The apiserver keeps an idle connection 90 s and says nothing of it; undici's default
      // would close it after 4 s, so each burst after a pause (a minute's tick, a client's
      // POSTs) paid a TLS handshake per connection on both sides. Closed by us before it does.
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 60_000,
      connect: {
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        ...(this.kc.getCurrentCluster()?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
        ...(opts.servername ? { servername: opts.servername } : {}),
        // As client-go: a dead peer is noticed on an idle connection within a minute.
        keepAlive: true,
        keepAliveInitialDelay: 30_000,
      },
    });
    return { headers, pool: this.pool };
  }
}

function apiClient<T>(kc: KubeConfig, auth: SecurityAuthentication, Api: new (c: Configuration) => T): T {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no cluster');
  return new Api(
    createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: auth } }),
  );
}

/** From a kubeconfig file when given (or $KUBECONFIG), else the pod's in-cluster identity. */
export function loadKube(kubeconfig: string): Kube {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  const auth = new PooledAuth(kc);
  return {
    kc,
    request: (r) => rawRequest(kc, auth, r),
    core: apiClient(kc, auth, CoreV1Api),
    batch: apiClient(kc, auth, BatchV1Api),
    custom: apiClient(kc, auth, CustomObjectsApi),
    coordination: apiClient(kc, auth, CoordinationV1Api),
  };
}

export const statusCode = (err: unknown): number | undefined => (err as { code?: number }).code;
export const isConflict = (err: unknown) => statusCode(err) === 409;
export const isNotFound = (err: unknown) => statusCode(err) === 404;

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
  /** Extra headers; an array value is sent as repeated header lines (Impersonate-Group). */
  headers?: Record<string, string | string[]>;
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

async function rawRequest(kc: KubeConfig, auth: PooledAuth, r: KubeRequest): Promise<KubeResponse> {
  const { headers, pool } = await auth.credentials();
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  const res = await pool.request({
    origin: new URL(kc.getCurrentCluster()?.server ?? '').origin,
    path: r.path,
    method: r.method,
    // undici sends an array value as repeated header lines.
    headers: {
      ...headers,
      accept: 'application/json',
      ...r.headers,
      ...(payload !== undefined ? { 'content-type': r.contentType ?? 'application/json' } : {}),
    },
    body: payload,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.statusCode, body };
}

/** A raw request's answer (headers, then each body chunk) may take this long. */
const REQUEST_TIMEOUT_MS = 30_000;
