// `qinling-jobs operator`: informers, the controller and its workers, leader election, and
// the health/metrics server; stops cleanly on SIGTERM.
import { pino } from 'pino';
import { OptionError, usage } from '../lib/options.js';
import { Controller } from './controller.js';
import { operatorOptions, plannerConfig, readOperatorOptions } from './config.js';
import { startHealthServer } from './health.js';
import { makeInformers } from './informers.js';
import { loadKube } from '../kube/client.js';
import { LeaderElector, leaderDefaults } from './leader.js';
import { makeMetrics } from './metrics.js';
import { Expectations } from './expectations.js';
import { WorkQueue } from './queue.js';
import { Reconciler } from './reconcile.js';

export async function runOperator(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help')) {
    console.log(usage('operator', operatorOptions));
    return 0;
  }
  let o;
  try {
    o = readOperatorOptions(argv, env);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    console.error(`qinling-jobs operator: ${err.message}`);
    return 2;
  }
  const log = pino({ level: o['log-level'], base: { component: 'operator', identity: o.identity } });
  const kube = loadKube(o.kubeconfig);
  const informers = makeInformers(kube, o.namespaces, log, o['watch-timeout-seconds']);
  const queue = new WorkQueue();
  const metrics = makeMetrics(
    () => informers.jobs.list(),
    () => queue.depth,
  );
  // A pass that finds the caches behind our own last write waits for its echo (expectations.ts).
  const expectations = new Expectations((k) => queue.add(k));
  const reconciler = new Reconciler(kube, informers, plannerConfig(o), metrics, log, undefined, expectations);
  const controller = new Controller(queue, informers, reconciler, metrics, log);
  // Ready while every cache is being kept current: synced, and no watch stopped by an error.
  const synced = () => informers.jobs.isCurrent && informers.cronJobs.isCurrent && informers.runs.isCurrent;
  const http = await startHealthServer(o['http-bind'], o['http-port'], metrics.registry, synced);
  log.info({ bind: o['http-bind'], port: http.port }, 'serving /metrics, /healthz, /readyz');

  await Promise.all([informers.jobs.start(), informers.cronJobs.start(), informers.runs.start()]);
  log.info({ namespaces: o.namespaces.length > 0 ? o.namespaces : 'all' }, 'caches synced');

  const startWorkers = () => {
    metrics.leader.set(1);
    controller.start(o.workers);
  };
  let elector: LeaderElector | undefined;
  let stopping = false;
  const stopped = new Promise<number>((resolve) => {
    const shutdown = (code: number) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down');
      void (async () => {
        await elector?.release();
        await controller.stop();
        await Promise.all([informers.jobs.stop(), informers.cronJobs.stop(), informers.runs.stop()]);
        http.server.close();
        resolve(code);
      })();
    };
    process.once('SIGTERM', () => shutdown(0));
    process.once('SIGINT', () => shutdown(0));
    // A replica that lost the lease stops its workers at once (it must not act as a second
    // leader) and stands again as a candidate: an apiserver away for a while costs a term, not
    // a restart of the process.
    const candidate = () => {
      elector = new LeaderElector(
        kube,
        {
          namespace: o['leader-election-namespace'],
          name: o['leader-election-id'],
          identity: o.identity,
          ...leaderDefaults,
        },
        log,
        startWorkers,
        () => {
          metrics.leader.set(0);
          void controller.stop().then(() => {
            if (!stopping) candidate();
          });
        },
      );
      elector.start();
    };
    if (o['leader-elect']) candidate();
    else startWorkers();
  });
  return stopped;
}
