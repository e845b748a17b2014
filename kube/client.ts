// The one place a KubeConfig is made, and the API clients built from it (operator and facade).
import { Agent, type RequestOptions } from 'node:https';
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
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    for (const [k, v] of Object.entries(opts.headers ?? {})) context.setHeaderParam(k, String(v));
    if (opts.auth)
      context.setHeaderParam('Authorization', `Basic ${Buffer.from(opts.auth).toString('base64')}`);
    this.agent ??= new Agent({
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      ...(this.kc.getCurrentCluster()?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      keepAlive: true,
      maxSockets: 64,
    });
    context.setAgent(this.agent);
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
    core: apiClient(kc, auth, CoreV1Api),
    batch: apiClient(kc, auth, BatchV1Api),
    custom: apiClient(kc, auth, CustomObjectsApi),
    coordination: apiClient(kc, auth, CoordinationV1Api),
  };
}

export const statusCode = (err: unknown): number | undefined => (err as { code?: number }).code;
export const isConflict = (err: unknown) => statusCode(err) === 409;
export const isNotFound = (err: unknown) => statusCode(err) === 404;
