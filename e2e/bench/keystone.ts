// `make bench-keystone`: what a Keystone token costs per request against the static token mode,
// in the same run. Three facades on the same cluster serve one project's job: static auth,
// keystone auth with its cache (the steady state: Keystone validated the token once), and
// keystone auth with the cache off (every request validated by the real Keystone). The same
// GET by id through each, in interleaved rounds at concurrency 1 and 10; prints p50/p99/mean
// and the difference to static. Asserts nothing.
import { parseArgs } from 'node:util';
import { Keystone } from '../keystone/keystone.js';
import { labelProject, startFacade, type Facade } from '../journeys/facade.js';
import { FUNCTION_ID } from '../journeys/operator.js';
import { testNamespace } from '../journeys/support.js';
import { closeConnections, facadeRequest as call, pct, timed } from './measure.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    uncached: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
  },
});
const REQUESTS = Number(values.requests);
const UNCACHED = Number(values.uncached);
const ROUNDS = Number(values.rounds);

const mean = (s: number[]) => s.reduce((a, b) => a + b, 0) / s.length;
const f = (x: number) => `${x.toFixed(2)} ms`;

interface Mode {
  name: string;
  facade: Facade;
  token: string;
  requests: number;
}

async function main(): Promise<void> {
  const ns = await testNamespace('bench-keystone');
  const ks = await Keystone.create();
  const facades: Facade[] = [];
  try {
    const common = ['--rate-limit=0', '--create-namespaces=false'];
    const keystoneArgs = (cacheSeconds: number) => [
      ...common,
      '--auth=keystone',
      `--keystone-url=${ks.url}`,
      `--keystone-password-file=${ks.service.passwordFile}`,
      `--keystone-cache-seconds=${cacheSeconds}`,
    ];
    const cached = await startFacade(`${ns.name}-cached`, '', keystoneArgs(300));
    facades.push(cached);
    await ks.populate(cached.url);
    const project = ks.projectIds['proj-a'] ?? '';
    await labelProject(ns.name, project);
    const staticToken = 'bench-static-token';
    const plain = await startFacade(`${ns.name}-static`, `${staticToken},bench,${project},member\n`, common);
    facades.push(plain);
    const uncached = await startFacade(`${ns.name}-uncached`, '', keystoneArgs(0));
    facades.push(uncached);
    const token = await ks.issue(ks.userA);

    // One job to read, made once the facade's cache knows the namespace's project label.
    let id = '';
    for (let i = 0; !id; i++) {
      const r = await call(plain.url, staticToken, 'POST', '/v1/jobs', {
        function_id: FUNCTION_ID,
        pattern: '0 0 1 1 *',
      });
      if (r.status === 201) id = (JSON.parse(r.text) as { id: string }).id;
      else if (i > 50) throw new Error(`create answered ${r.status}: ${r.text}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
    const modes: Mode[] = [
      { name: 'static token file', facade: plain, token: staticToken, requests: REQUESTS },
      { name: 'keystone, cached', facade: cached, token, requests: REQUESTS },
      { name: 'keystone, cache off', facade: uncached, token, requests: UNCACHED },
    ];
    const path = `/v1/jobs/${id}`;
    const byCell = new Map<string, number[]>();
    for (const m of modes)
      await timed(100, 4, async () => (await call(m.facade.url, m.token, 'GET', path)).status);
    for (let round = 0; round < ROUNDS; round++) {
      for (const concurrency of [1, 10]) {
        for (const m of modes) {
          const lat = await timed(m.requests, concurrency, async () => {
            return (await call(m.facade.url, m.token, 'GET', path)).status;
          });
          const key = `${concurrency}\n${m.name}`;
          byCell.set(key, [...(byCell.get(key) ?? []), ...lat]);
        }
      }
    }
    console.log(
      `GET /v1/jobs/{id}; ${ROUNDS} interleaved rounds; per round ${REQUESTS} requests (${UNCACHED} with the cache off)`,
    );
    console.log('| concurrency | auth | p50 | p99 | mean | mean - static |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const concurrency of [1, 10]) {
      const base = mean(byCell.get(`${concurrency}\n${modes[0]?.name}`) ?? []);
      for (const m of modes) {
        const lat = (byCell.get(`${concurrency}\n${m.name}`) ?? []).sort((a, b) => a - b);
        const d = mean(lat) - base;
        console.log(
          `| ${concurrency} | ${m.name} | ${f(pct(lat, 50))} | ${f(pct(lat, 99))} | ${f(mean(lat))} | ${d >= 0 ? '+' : ''}${f(d)} |`,
        );
      }
    }
  } finally {
    for (const fc of facades) fc.stop();
    await ks.destroy();
    await ns.remove();
    closeConnections();
  }
}

await main();
