// `qinling-jobs api`: the REST facade over QinlingJobs.
import { pino } from 'pino';
import { bool, int, oneOf, OptionError, readOptions, str, usage } from '../domain/options.js';
import { loadKube } from '../kube/client.js';
import { makeApp } from './app.js';
import { StaticTokens } from './auth.js';
import { KubernetesTokens } from './kube-auth.js';
import { TokenBuckets } from './limits.js';
import { makeApiMetrics } from './metrics.js';
import { JobService } from './service.js';
import { KubeJobStore } from './store.js';

export const apiOptions = {
  port: int('port to listen on (Qinling used 7070)', 'QJ_API_PORT', 7070, 0, 65535),
  bind: str('address to listen on', 'QJ_API_BIND', '0.0.0.0'),
  auth: oneOf(
    'how tokens are checked: static (a token file) or kubernetes (TokenReview, then impersonation)',
    'QJ_API_AUTH',
    'static',
    ['static', 'kubernetes'] as const,
  ),
  'token-file': str(
    'static auth: CSV lines token,user_id,project_id,roles (roles ;-separated)',
    'QJ_API_TOKEN_FILE',
    '',
  ),
  kubeconfig: str('kubeconfig file; in-cluster config when empty', 'KUBECONFIG', ''),
  'create-namespaces': bool("make a project's namespace on its first job", 'QJ_API_CREATE_NAMESPACES', true),
  'body-limit': int('largest request body in bytes', 'QJ_API_BODY_LIMIT', 256 * 1024, 1024, 16 * 1024 * 1024),
  'rate-limit': int('requests per second per token (0: no limit)', 'QJ_API_RATE_LIMIT', 50, 0, 100_000),
  'rate-burst': int('requests a token may make at once', 'QJ_API_RATE_BURST', 100, 1, 100_000),
  'log-level': oneOf('log level', 'QJ_LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
};

export async function runApi(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help')) {
    console.log(usage('api', apiOptions));
    return 0;
  }
  let o;
  try {
    o = readOptions(apiOptions, argv, env);
    if (o.auth === 'static' && !o['token-file'])
      throw new OptionError('--token-file is required with --auth static');
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    console.error(`qinling-jobs api: ${err.message}`);
    return 2;
  }
  const log = pino({ level: o['log-level'], base: { component: 'api' } });
  const kube = loadKube(o.kubeconfig);
  const store = new KubeJobStore(kube, log);
  const auth =
    o.auth === 'kubernetes'
      ? new KubernetesTokens(kube, (ns) => store.projectOf(ns))
      : new StaticTokens(o['token-file'], (n) => log.info({ tokens: n }, 'token file loaded'));
  const service = new JobService(store, { createNamespaces: o['create-namespaces'] });
  const app = makeApp({
    service,
    auth,
    limits: new TokenBuckets(o['rate-limit'], o['rate-burst']),
    metrics: makeApiMetrics(),
    ready: () => store.ready(),
    log,
    bodyLimit: o['body-limit'],
  });
  const server = app.listen(o.port, o.bind);
  // Longer than the idle timeouts of common clients and load balancers (60 s), so the server is
  // never the side that closes a keep-alive connection a client is about to reuse.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address();
  log.info({ bind: o.bind, port: typeof addr === 'object' && addr ? addr.port : o.port }, 'listening');
  await store.start();
  log.info('job cache synced');
  return new Promise<number>((resolve) => {
    const stop = () => {
      log.info('shutting down');
      server.close(() => void store.stop().then(() => resolve(0)));
      server.closeIdleConnections();
      setTimeout(() => {
        server.closeAllConnections();
      }, 5000).unref();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
