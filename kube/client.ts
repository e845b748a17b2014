// The one place a KubeConfig is made, and the API clients built from it (operator and facade).
import { Agent, request, type RequestOptions } from 'node:https';
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

export interface Kube {
  kc: KubeConfig;
  /** A raw JSON request: for what the generated clients cannot send (repeated headers). */
  request: (r: KubeRequest) => Promise<KubeResponse>;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

/**
 * client-node's own authentication builds a new https.Agent for every request, so every call
 * pays a fresh TCP and TLS handshake; that was most of the operator's CPU under load. This one
 * applies the same credentials (re-read per request, so rotated tokens work) through one
 * keep-alive agent.
 */
class PooledAuth implements SecurityAuthentication {
  private agent?: Agent;

  constructor(private readonly kc: KubeConfig) {}

  getName(): string {
    return 'kubeconfig over a keep-alive agent';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const { headers, agent } = await this.credentials();
    for (const [k, v] of Object.entries(headers)) context.setHeaderParam(k, v);
    context.setAgent(agent);
  }

  /** The headers (a fresh token) and the shared agent for one request. */
  async credentials(): Promise<{ headers: Record<string, string>; agent: Agent }> {
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = String(v);
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    this.agent ??= new Agent({
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      ...(this.kc.getCurrentCluster()?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      keepAlive: true,
      maxSockets: 64,
      // Nagle's algorithm is off already: Node's Agent defaults `noDelay` to true.
    });
    return { headers, agent: this.agent };
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
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const { headers, agent } = await auth.credentials();
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        path: r.path,
        method: r.method,
        agent,
        timeout: 30_000,
        headers: {
          ...headers,
          accept: 'application/json',
          ...r.headers,
          ...(payload !== undefined
            ? {
                'content-type': r.contentType ?? 'application/json',
                'content-length': Buffer.byteLength(payload),
              }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON: keep the text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request to the apiserver timed out')));
    req.on('error', reject);
    req.end(payload); // headers and body leave in one write
  });
}
