// A watch cut silently (issue 11): the facade reaches the apiserver through a TCP proxy that is
// paused, so its connections stay open and carry nothing, as with a peer gone without a FIN.
// The facade notices within its watch timeout (/readyz turns false), and once the path is back
// it catches up (a job made meanwhile is served) and is ready again, in the same process.
import { expect } from 'chai';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { clusterDir, eventually, testNamespace } from './support.js';
import { labelProject, startFacade, type Facade } from './facade.js';
import { createJob } from './operator.js';

/** A TCP proxy to `port` whose traffic can be held (both ways) without closing anything. */
async function pausableProxy(port: number) {
  const sockets: Socket[] = [];
  let held = false;
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.push(s);
      s.on('error', () => undefined);
      if (held) s.pause();
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    hold: () => {
      held = true;
      for (const s of sockets) s.pause();
    },
    release: () => {
      held = false;
      for (const s of sockets) s.resume();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('journey: a watch cut silently', function () {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let proxy: Awaited<ReturnType<typeof pausableProxy>>;
  let facade: Facade | undefined;
  const project = `proj-cut-${Math.random().toString(36).slice(2, 8)}`;
  before(async function () {
    this.timeout(120_000);
    ns = await testNamespace('api-cut');
    await labelProject(ns.name, project);
    const kubeconfig = readFileSync(`${clusterDir}/kubeconfig`, 'utf8');
    const apiPort = Number(/"?server"?: *"?https:\/\/127\.0\.0\.1:(\d+)/.exec(kubeconfig)?.[1]);
    if (!apiPort) throw new Error('no apiserver port in the kubeconfig');
    proxy = await pausableProxy(apiPort);
    const viaProxy = `${clusterDir}/kubeconfig-cut-${ns.name}`;
    writeFileSync(viaProxy, kubeconfig.replace(`127.0.0.1:${apiPort}`, `127.0.0.1:${proxy.port}`), {
      mode: 0o600,
    });
    facade = await startFacade(ns.name, `tok,alice,${project},member\n`, [
      '--create-namespaces=false',
      '--watch-timeout-seconds=10',
      `--kubeconfig=${viaProxy}`,
    ]);
  });
  after(async () => {
    facade?.stop();
    proxy?.close();
    rmSync(`${clusterDir}/kubeconfig-cut-${ns?.name ?? ''}`, { force: true });
    await ns?.remove();
  });

  it('is noticed within the watch timeout, and caught up once the path is back', async function () {
    this.timeout(180_000);
    const url = facade?.url ?? '';
    const ready = async () => (await fetch(`${url}/readyz`)).status === 200;
    const list = async () =>
      (
        (await (await fetch(`${url}/v1/jobs`, { headers: { 'x-auth-token': 'tok' } })).json()) as {
          jobs: { name: string }[];
        }
      ).jobs;
    expect(await ready()).to.equal(true);
    const heldAt = Date.now();
    proxy.hold();
    await createJob(ns.name, 'made-meanwhile', { pattern: '0 0 1 1 *', name: 'meanwhile' }); // straight to the apiserver
    await eventually('/readyz false', 40_000, async () => !(await ready()), 250);
    const noticedMs = Date.now() - heldAt;
    expect(noticedMs).to.be.below(10_000 + 10_000 + 5_000); // timeout + grace + a poll
    proxy.release();
    await eventually('/readyz true again', 60_000, ready, 250);
    await eventually('the job made meanwhile', 30_000, async () =>
      (await list()).some((j) => j.name === 'meanwhile'),
    );
    expect(facade?.process.exitCode).to.equal(null);
    console.log(`      (stall noticed after ${(noticedMs / 1000).toFixed(1)} s with a 10 s watch timeout)`);
  });
});
