// `qinling-jobs api`: the REST facade over QinlingJobs.
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { bool, int, list, oneOf, OptionError, readOptions, str, usage } from '../lib/options.js';
import { loadKube } from '../kube/client.js';
import { makeApp, publicBase } from './app.js';
import { StaticTokens } from './auth.js';
import type { Authenticator } from './auth.js';
import { KeystoneTokens } from './keystone-auth.js';
import { KubernetesTokens } from './kube-auth.js';
import { InFlight, RecentTokens, TokenBuckets } from './limits.js';
import { listen, makeServer } from './listen.js';
import { makeApiMetrics, metricsHandler } from './metrics.js';
import { JobService } from './service.js';
import { KubeJobStore } from './store.js';

/** The service user's password may come from the environment, never from a flag (ps shows those). */
const PASSWORD_ENV = 'QJ_KEYSTONE_PASSWORD';

export const apiOptions = {
  port: int('port to listen on (Qinling used 7070)', 'QJ_API_PORT', 7070, 0, 65535),
  'tls-cert-file': str(
    'serve HTTPS with this PEM certificate chain (with --tls-key-file; read at start-up)',
    'QJ_API_TLS_CERT_FILE',
    '',
  ),
  'tls-key-file': str('the PEM private key of --tls-cert-file', 'QJ_API_TLS_KEY_FILE', ''),
  'public-url': str(
    "this API's URL as clients reach it, for the version documents' links (relative links when empty)",
    'QJ_API_PUBLIC_URL',
    '',
  ),
  bind: str('address to listen on', 'QJ_API_BIND', '0.0.0.0'),
  'metrics-address': str(
    'address of the /metrics listener (never the API port)',
    'QJ_API_METRICS_ADDRESS',
    '127.0.0.1',
  ),
  'metrics-port': int(
    'port of the /metrics listener (0: any free port)',
    'QJ_API_METRICS_PORT',
    7071,
    0,
    65535,
  ),
  auth: oneOf(
    'how tokens are checked: static (a token file), kubernetes (TokenReview, then SubjectAccessReviews) or keystone (Keystone v3)',
    'QJ_API_AUTH',
    'static',
    ['static', 'kubernetes', 'keystone'] as const,
  ),
  'token-file': str(
    'static auth: CSV lines token,user_id,project_id,roles (roles ;-separated)',
    'QJ_API_TOKEN_FILE',
    '',
  ),
  'keystone-url': str('keystone auth: Keystone v3 URL, e.g. http://keystone:5000/v3', 'QJ_KEYSTONE_URL', ''),
  'keystone-user': str(
    'keystone auth: the service user that validates tokens',
    'QJ_KEYSTONE_USER',
    'qinling',
  ),
  'keystone-user-domain': str(
    "keystone auth: the service user's domain",
    'QJ_KEYSTONE_USER_DOMAIN',
    'Default',
  ),
  'keystone-project': str("keystone auth: the service user's project", 'QJ_KEYSTONE_PROJECT', 'service'),
  'keystone-project-domain': str(
    "keystone auth: the service user's project's domain",
    'QJ_KEYSTONE_PROJECT_DOMAIN',
    'Default',
  ),
  'keystone-password-file': str(
    `keystone auth: file holding the service user's password (else env ${PASSWORD_ENV})`,
    'QJ_KEYSTONE_PASSWORD_FILE',
    '',
  ),
  'keystone-cache-seconds': int(
    'keystone auth: longest a validated token is trusted before Keystone is asked again',
    'QJ_KEYSTONE_CACHE_SECONDS',
    300,
    0,
    86_400,
  ),
  'keystone-timeout-seconds': int(
    'keystone auth: bound on each request to Keystone',
    'QJ_KEYSTONE_TIMEOUT_SECONDS',
    5,
    1,
    300,
  ),
  'keystone-public-url': str(
    "keystone auth: Keystone's address for clients in WWW-Authenticate (www_authenticate_uri); --keystone-url without /v3 when empty",
    'QJ_KEYSTONE_PUBLIC_URL',
    '',
  ),
  'keystone-admin-project': str(
    "keystone auth: the admin project (id, or name in --keystone-admin-project-domain); --admin-role there makes an admin, as does a token's is_admin_project: true",
    'QJ_KEYSTONE_ADMIN_PROJECT',
    '',
  ),
  'keystone-admin-project-domain': str(
    "keystone auth: the admin project's domain (name or id), when it is given by name",
    'QJ_KEYSTONE_ADMIN_PROJECT_DOMAIN',
    'Default',
  ),
  'admin-role': str(
    'static and keystone auth: the role that makes an admin (in keystone mode, on the admin project)',
    'QJ_API_ADMIN_ROLE',
    'admin',
  ),
  'admin-cross-project-writes': bool(
    "let admins change and delete other projects' jobs (they always may list and read them)",
    'QJ_API_ADMIN_CROSS_PROJECT_WRITES',
    false,
  ),
  'token-audience': str(
    'kubernetes auth: the audience tokens must be issued for (kubectl create token <sa> --audience <this>)',
    'QJ_API_TOKEN_AUDIENCE',
    'qinling-jobs',
  ),
  kubeconfig: str('kubeconfig file; in-cluster config when empty', 'KUBECONFIG', ''),
  'create-namespaces': bool("make a project's namespace on its first job", 'QJ_API_CREATE_NAMESPACES', true),
  namespaces: list(
    "namespaces whose jobs are served (the operator's); all when empty. When set, no namespace is made",
    'QJ_API_NAMESPACES',
  ),
  'project-namespace-by-name': bool(
    'an unlabelled namespace named like a project holds its jobs (anyone able to make a namespace could claim a project: only where RBAC decides, as with kubernetes auth)',
    'QJ_API_PROJECT_NAMESPACE_BY_NAME',
    false,
  ),
  'reserved-namespaces': list(
    "namespaces that are never a project's, beside kube-* and default (the release namespace)",
    'QJ_API_RESERVED_NAMESPACES',
  ),
  'max-jobs-per-project': int(
    'most jobs one project may hold (0: no limit); also the quota of the namespaces made for projects',
    'QJ_API_MAX_JOBS_PER_PROJECT',
    500,
    0,
    1_000_000,
  ),
  'max-input-bytes-per-project': int(
    "most bytes of function input one project's jobs may hold together (0: no limit)",
    'QJ_API_MAX_INPUT_BYTES_PER_PROJECT',
    8 * 1024 * 1024,
    0,
    1024 * 1024 * 1024,
  ),
  'max-runs-per-project': int(
    'quota of the namespaces made for projects: Jobs and running pods (0: none)',
    'QJ_API_MAX_RUNS_PER_PROJECT',
    4000,
    0,
    10_000_000,
  ),
  'body-limit': int('largest request body in bytes', 'QJ_API_BODY_LIMIT', 256 * 1024, 1024, 16 * 1024 * 1024),
  'rate-limit': int('requests per second per token (0: no limit)', 'QJ_API_RATE_LIMIT', 50, 0, 100_000),
  'watch-timeout-seconds': int(
    'end each watch after this long (0: 300-600 s, jittered); a stalled watch is noticed by then',
    'QJ_WATCH_TIMEOUT_SECONDS',
    0,
    0,
    3600,
  ),
  'rate-burst': int('requests a token may make at once', 'QJ_API_RATE_BURST', 100, 1, 100_000),
  'auth-failure-rate': int(
    'failed authentications per second per client address; beyond the burst, new tokens get 429 before any validation (0: no limit)',
    'QJ_API_AUTH_FAILURE_RATE',
    10,
    0,
    100_000,
  ),
  'auth-failure-burst': int(
    'failed authentications a client address may make at once',
    'QJ_API_AUTH_FAILURE_BURST',
    20,
    1,
    100_000,
  ),
  'auth-in-flight': int(
    'token validations (Keystone, TokenReview) under way at once per client address; 429 beyond (0: no bound)',
    'QJ_API_AUTH_IN_FLIGHT',
    16,
    0,
    100_000,
  ),
  'request-timeout-seconds': int(
    'longest a request may take to arrive (headers: at most 20 s of it); 408 beyond',
    'QJ_API_REQUEST_TIMEOUT_SECONDS',
    30,
    1,
    3600,
  ),
  'log-level': oneOf('log level', 'QJ_LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
};

export async function runApi(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help')) {
    console.log(usage('api', apiOptions));
    return 0;
  }
  let o;
  let base: string;
  try {
    o = readOptions(apiOptions, argv, env);
    try {
      base = publicBase(o['public-url']);
    } catch (err) {
      throw new OptionError(`--public-url: ${(err as Error).message} (got "${o['public-url']}")`);
    }
    if (!o['tls-cert-file'] !== !o['tls-key-file'])
      throw new OptionError('--tls-cert-file and --tls-key-file go together');
    if (o.auth === 'static' && !o['token-file'])
      throw new OptionError('--token-file is required with --auth static');
    if (o.auth === 'keystone' && !o['keystone-url'])
      throw new OptionError('--keystone-url is required with --auth keystone');
    if (o.auth === 'keystone' && !o['keystone-password-file'] && !env[PASSWORD_ENV])
      throw new OptionError(`--keystone-password-file or ${PASSWORD_ENV} is required with --auth keystone`);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    console.error(`qinling-jobs api: ${err.message}`);
    return 2;
  }
  const log = pino({ level: o['log-level'], base: { component: 'api' } });
  const kube = loadKube(o.kubeconfig);
  const maxJobs = o['max-jobs-per-project'];
  const maxRuns = o['max-runs-per-project'];
  const store = new KubeJobStore(kube, log, {
    watchTimeoutSeconds: o['watch-timeout-seconds'],
    served: o.namespaces,
    tenancy: { byName: o['project-namespace-by-name'], reserved: new Set(o['reserved-namespaces']) },
    // The count/configmaps bound leaves room for the one every namespace gets (kube-root-ca.crt).
    quota: {
      qinlingJobs: maxJobs,
      cronJobs: maxJobs,
      configMaps: maxJobs && maxJobs + 8,
      jobs: maxRuns,
      pods: maxRuns,
    },
  });
  let auth: Authenticator;
  if (o.auth === 'kubernetes')
    auth = new KubernetesTokens(kube, (ns) => store.projectOf(ns) ?? ns, { audience: o['token-audience'] });
  else if (o.auth === 'keystone') {
    const file = o['keystone-password-file'];
    const fromEnv = env[PASSWORD_ENV] ?? '';
    auth = new KeystoneTokens(
      {
        url: o['keystone-url'],
        user: o['keystone-user'],
        userDomain: o['keystone-user-domain'],
        project: o['keystone-project'],
        projectDomain: o['keystone-project-domain'],
        // A mounted Secret ends with a newline more often than not; a password never does.
        password: () => (file ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : fromEnv),
        cacheMs: o['keystone-cache-seconds'] * 1000,
        timeoutMs: o['keystone-timeout-seconds'] * 1000,
        admin: {
          role: o['admin-role'],
          project: o['keystone-admin-project'],
          projectDomain: o['keystone-admin-project-domain'],
        },
        ...(o['keystone-public-url'] ? { publicUrl: o['keystone-public-url'] } : {}),
      },
      { unavailable: (reason) => log.warn({ reason }, 'keystone unavailable') },
    );
  } else
    auth = new StaticTokens(o['token-file'], {
      adminRole: o['admin-role'],
      loaded: (tokens, skipped) => log.info({ tokens, skipped }, 'token file loaded'),
      problem: (reason) => log.warn({ reason }, 'token file'),
    });
  const service = new JobService(store, {
    createNamespaces: o['create-namespaces'],
    maxJobsPerProject: maxJobs,
    maxInputBytesPerProject: o['max-input-bytes-per-project'],
    adminCrossProjectWrites: o['admin-cross-project-writes'],
    ...(o.namespaces.length > 0 ? { namespaces: new Set(o.namespaces) } : {}),
  });
  const metrics = makeApiMetrics(() => store.conflicts);
  const app = makeApp({
    service,
    auth,
    limits: new TokenBuckets(o['rate-limit'], o['rate-burst']),
    authLimits: {
      failures: new TokenBuckets(o['auth-failure-rate'], o['auth-failure-burst']),
      inFlight: new InFlight(o['auth-in-flight']),
      // A while, not forever: long enough to outlast a flood, short enough to forget old tokens.
      recent: new RecentTokens(10 * 60_000),
    },
    metrics,
    ready: () => store.current(),
    log,
    bodyLimit: o['body-limit'],
    publicBase: base,
  });
  const handle = app.callback();
  const tls = o['tls-cert-file']
    ? { cert: readFileSync(o['tls-cert-file']), key: readFileSync(o['tls-key-file']) }
    : undefined;
  const server = makeServer((req, res) => void handle(req, res), {
    requestTimeoutMs: o['request-timeout-seconds'] * 1000,
    ...(tls ? { tls } : {}),
  });
  const port = await listen(server, o.port, o.bind);
  log.info({ bind: o.bind, tls: tls !== undefined, port }, 'listening');
  const scrape = metricsHandler(metrics.registry);
  const metricsServer = makeServer((req, res) => void scrape(req, res), { requestTimeoutMs: 10_000 });
  const mport = await listen(metricsServer, o['metrics-port'], o['metrics-address']);
  log.info({ address: o['metrics-address'], metricsPort: mport }, 'serving /metrics');
  await store.start();
  log.info('job cache synced');
  return new Promise<number>((resolve) => {
    const stop = () => {
      log.info('shutting down');
      metricsServer.close();
      metricsServer.closeAllConnections();
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
