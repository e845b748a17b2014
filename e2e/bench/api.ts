// `make bench-api`: the REST facade against the apiserver it fronts. With N jobs stored, the
// same operations through the facade and straight to the apiserver (same admin rights, both
// over keep-alive connections) at concurrency 10 and 50: GET by id, LIST all, a LIST page, and
// create. Prints p50/p99 per operation and the facade/direct ratios; asserts nothing.
import { parseArgs } from 'node:util';
import { loadKube } from '../../kube/client.js';
import { FUNCTION_ID } from '../journeys/operator.js';
import { labelProject, startFacade } from '../journeys/facade.js';
import { testNamespace } from '../journeys/support.js';
import { facadeRequest, pct, releaseAll, timed } from './measure.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    // Only these operations (e.g. --ops POST), to profile one of them alone.
    ops: { type: 'string', default: 'GET by id,LIST all,LIST page of 100,POST' },
    concurrency: { type: 'string', default: '10,50' },
  },
});
const sizes = (values.sizes ?? '').split(',').map(Number);
const only = new Set((values.ops ?? '').split(','));
const concurrencies = (values.concurrency ?? '').split(',').map(Number);
const kube = loadKube(process.env.KUBECONFIG ?? '');
const NEVER = '0 0 1 1 *';
const TOKEN = 'bench-token';
const facadeCall = async (url: string, method: 'GET' | 'POST', path: string, body?: unknown) =>
  (await facadeRequest(url, TOKEN, method, path, body)).status;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const ROUNDS = 5;

async function populate(ns: string, n: number): Promise<{ uid: string; name: string }[]> {
  const made: { uid: string; name: string }[] = [];
  await timed(n, 32, async (i) => {
    const r = await kube.request({
      method: 'POST',
      path: `/apis/qinling.io/v1/namespaces/${ns}/qinlingjobs`,
      body: {
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: `seed-${i}` },
        spec: { functionId: FUNCTION_ID, pattern: NEVER },
      },
    });
    const m = (r.body as { metadata: { uid: string; name: string } }).metadata;
    made.push({ uid: m.uid, name: m.name });
    return r.status;
  });
  return made;
}

const rows: string[] = [];
for (const n of sizes) {
  const ns = await testNamespace(`bench-api-${n}`);
  const project = `bench-${ns.name}`;
  await labelProject(ns.name, project);
  const facade = await startFacade(ns.name, `${TOKEN},bench,${project},member\n`, [
    '--rate-limit=0',
    '--max-jobs-per-project=0', // the benchmark stores more than a project's default quota
    '--max-input-bytes-per-project=0',
  ]);
  const jobs = await populate(ns.name, n);
  const headers = { 'x-auth-token': TOKEN, 'content-type': 'application/json' };
  // The facade serves from its cache: wait until it holds every job (pages of at most 1,000).
  const cached = async () => {
    let count = 0;
    let marker = '';
    for (;;) {
      const page = (await (await fetch(`${facade.url}/v1/jobs?limit=1000${marker}`, { headers })).json()) as {
        jobs: { id: string }[];
      };
      count += page.jobs.length;
      if (page.jobs.length < 1000) return count;
      marker = `&marker=${page.jobs.at(-1)?.id ?? ''}`;
    }
  };
  while ((await cached()) < n) await new Promise((res) => setTimeout(res, 500));
  const pick = (i: number) => jobs[(i * 7919) % jobs.length] ?? { uid: '', name: '' };
  const direct = (path: string) => kube.request({ method: 'GET', path }).then((r) => r.status);
  const viaFacade = (path: string) => facadeCall(facade.url, 'GET', path);
  const listCount = n >= 10_000 ? 20 : 100;
  for (const c of concurrencies) {
    const ops: [string, number, (i: number) => Promise<number>, (i: number) => Promise<number>][] = [
      [
        'GET by id',
        2000,
        (i) => viaFacade(`/v1/jobs/${pick(i).uid}`),
        (i) => direct(`/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs/${pick(i).name}`),
      ],
      [
        'LIST all',
        listCount,
        () => viaFacade('/v1/jobs'),
        () => direct(`/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs`),
      ],
      [
        'LIST page of 100',
        1000,
        () => viaFacade('/v1/jobs?limit=100'),
        () => direct(`/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs?limit=100`),
      ],
      [
        'POST',
        500,
        (i) =>
          facadeCall(facade.url, 'POST', '/v1/jobs', {
            function_id: FUNCTION_ID,
            pattern: NEVER,
            name: `f-${c}-${i}`,
          }),
        (i) =>
          kube
            .request({
              method: 'POST',
              path: `/apis/qinling.io/v1/namespaces/${ns.name}/qinlingjobs`,
              body: {
                apiVersion: 'qinling.io/v1',
                kind: 'QinlingJob',
                metadata: { name: `d-${c}-${i}` },
                spec: { functionId: FUNCTION_ID, pattern: NEVER },
              },
            })
            .then((r) => r.status),
      ],
    ];
    for (const [name, total, f, d] of ops.filter(([name]) => only.has(name))) {
      // Side by side: five rounds, the facade then the apiserver in each, so neither side alone
      // meets a slow moment of the machine (a compaction, a collection).
      const lf: number[] = [];
      const ld: number[] = [];
      const per = Math.max(1, Math.round(total / ROUNDS));
      for (let r = 0; r < ROUNDS; r++) {
        lf.push(...(await timed(per, c, (i) => f(r * per + i))));
        ld.push(...(await timed(per, c, (i) => d(r * per + i))));
      }
      lf.sort((a, b) => a - b);
      ld.sort((a, b) => a - b);
      const row = `| ${n} | ${c} | ${name} | ${ms(pct(lf, 50))} / ${ms(pct(lf, 99))} | ${ms(pct(ld, 50))} / ${ms(pct(ld, 99))} | ${(pct(lf, 99) / pct(ld, 99)).toFixed(2)}x |`;
      rows.push(row);
      console.log(row);
    }
  }
  facade.stop();
  await releaseAll(kube.custom, ns.name); // the facade made them with the operator's finalizer
  await ns.remove();
}
console.log('\n| jobs | concurrency | operation | facade p50 / p99 | direct p50 / p99 | p99 ratio |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
process.exit(0);
