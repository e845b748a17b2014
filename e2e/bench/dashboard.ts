// `make dashboard-pngs`: the chart's Grafana dashboard (charts/qinling-jobs/dashboards), its
// panels drawn from a real scrape of the local cluster. One operator runs 50 jobs (5 of them
// against a function the test runtime refuses with 503) for --minutes; its /metrics is scraped
// every 10 s, each panel's PromQL is evaluated over those samples as Prometheus would (rate over
// its window, histogram_quantile by linear interpolation, instant tables), drawn as SVG and
// turned into PNG by rsvg-convert (Debian's librsvg2-bin). Writes docs/dashboard/*.png and the
// samples they were drawn from (docs/dashboard/scrapes.json). No Prometheus or Grafana runs here.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createJob, startOperator } from '../journeys/operator.js';
import { repoRoot, testNamespace } from '../journeys/support.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '6' } } });
const MINUTES = Number(values.minutes);
const OUT = `${repoRoot}/docs/dashboard`;
const FAILING = '0badf00d-1111-4222-8333-944455556666';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One scrape: series `name{labels}` -> value, at `t` (Unix seconds). */
interface Scrape {
  t: number;
  series: Record<string, number>;
}

function parseExposition(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('qinling_jobs_')) continue;
    const m = /^(\S+?(?:\{[^}]*\})?)\s+(\S+)$/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

const labelsOf = (key: string): Record<string, string> =>
  Object.fromEntries([...key.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
const nameOf = (key: string) => key.split('{')[0] ?? key;

/** Per-second increase of the series matching `pick` over `windowS` before scrape `i` (Prometheus' rate). */
function rate(scrapes: Scrape[], i: number, windowS: number, pick: (k: string) => boolean): number {
  const now = scrapes[i];
  if (!now) return 0;
  let j = i;
  while (j > 0 && now.t - (scrapes[j - 1]?.t ?? 0) <= windowS) j--;
  const then = scrapes[j];
  if (!then || then === now) return 0;
  let inc = 0;
  for (const [k, v] of Object.entries(now.series)) if (pick(k)) inc += Math.max(v - (then.series[k] ?? 0), 0);
  return inc / (now.t - then.t);
}

/** histogram_quantile over the bucket increases of the window (linear inside the bucket). */
function quantile(
  q: number,
  scrapes: Scrape[],
  i: number,
  windowS: number,
  metric: string,
): number | undefined {
  const bucket = `${metric}_bucket`;
  const les = new Set<string>();
  for (const k of Object.keys(scrapes[i]?.series ?? {}))
    if (nameOf(k) === bucket) les.add(labelsOf(k).le ?? '');
  const bounds = [...les].map((le) => (le === '+Inf' ? Infinity : Number(le))).sort((a, b) => a - b);
  const counts = bounds.map((b) =>
    rate(
      scrapes,
      i,
      windowS,
      (k) => nameOf(k) === bucket && labelsOf(k).le === (b === Infinity ? '+Inf' : String(b)),
    ),
  );
  const total = counts.at(-1) ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  for (let b = 0; b < bounds.length; b++) {
    if ((counts[b] ?? 0) >= rank) {
      const lo = b === 0 ? 0 : (bounds[b - 1] ?? 0);
      const hi = bounds[b] ?? 0;
      if (hi === Infinity) return lo;
      const below = b === 0 ? 0 : (counts[b - 1] ?? 0);
      return lo + ((hi - lo) * (rank - below)) / ((counts[b] ?? 0) - below || 1);
    }
  }
  return undefined;
}

/** What the panels read: the run and skew series of every scrape, the per-job ones of the last. */
function kept(all: Scrape[]): Scrape[] {
  const used = /^qinling_jobs_(runs_finished_total|missed_runs_total|schedule_skew_seconds_bucket)\b/;
  return all.map((s, i) => ({
    t: s.t,
    series: Object.fromEntries(
      Object.entries(s.series).filter(
        ([k]) => used.test(k) || (i === all.length - 1 && k.startsWith('qinling_jobs_job_')),
      ),
    ),
  }));
}

// ---- drawing -------------------------------------------------------------------------------

const W = 800;
const H = 360;
const COLORS = ['#3274d9', '#e02f44', '#ff9830', '#56a64b', '#8f3bb8'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function frame(title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">
<rect width="${W}" height="${H}" fill="#181b1f"/>
<text x="16" y="28" fill="#d8d9da" font-size="16">${esc(title)}</text>
${body}</svg>`;
}

function lineChart(
  title: string,
  unit: string,
  lines: { name: string; points: [number, number | undefined][] }[],
) {
  const [x0, x1, y0, y1] = [70, W - 150, H - 40, 50];
  const all = lines.flatMap((l) => l.points);
  const ts = all.map((p) => p[0]);
  const vs = all.map((p) => p[1]).filter((v): v is number => v !== undefined);
  const [tMin, tMax] = [Math.min(...ts), Math.max(...ts)];
  const vMax = Math.max(1e-9, ...vs) * 1.1;
  const X = (t: number) => x0 + ((t - tMin) / Math.max(tMax - tMin, 1)) * (x1 - x0);
  const Y = (v: number) => y0 - (v / vMax) * (y0 - y1);
  let body = `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#555"/>`;
  for (let k = 0; k <= 4; k++) {
    const v = (vMax * k) / 4;
    body += `<line x1="${x0}" y1="${Y(v)}" x2="${x1}" y2="${Y(v)}" stroke="#2c3235"/>`;
    body += `<text x="${x0 - 8}" y="${Y(v) + 4}" fill="#9fa7b3" font-size="11" text-anchor="end">${v.toFixed(vMax < 10 ? 1 : 0)} ${unit}</text>`;
  }
  for (let k = 0; k <= 4; k++) {
    const t = tMin + ((tMax - tMin) * k) / 4;
    const label = new Date(t * 1000).toISOString().slice(11, 16);
    body += `<text x="${X(t)}" y="${y0 + 18}" fill="#9fa7b3" font-size="11" text-anchor="middle">${label}</text>`;
  }
  lines.forEach((l, n) => {
    const color = COLORS[n % COLORS.length] ?? '#fff';
    const pts = l.points.filter((p): p is [number, number] => p[1] !== undefined);
    if (pts.length > 0)
      body += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([t, v]) => `${X(t).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"/>`;
    body += `<rect x="${x1 + 16}" y="${y1 + n * 20}" width="12" height="12" fill="${color}"/>`;
    body += `<text x="${x1 + 34}" y="${y1 + n * 20 + 11}" fill="#d8d9da" font-size="12">${esc(l.name)}</text>`;
  });
  return frame(title, body);
}

function table(title: string, head: string[], rows: string[][]) {
  let body = '';
  const colX = (c: number) => 16 + c * ((W - 32) / head.length);
  head.forEach(
    (h, c) => (body += `<text x="${colX(c)}" y="60" fill="#9fa7b3" font-size="12">${esc(h)}</text>`),
  );
  rows.slice(0, 13).forEach((r, i) =>
    r.forEach((cell, c) => {
      body += `<text x="${colX(c)}" y="${84 + i * 21}" fill="#d8d9da" font-size="12">${esc(cell)}</text>`;
    }),
  );
  if (rows.length === 0) body += `<text x="16" y="84" fill="#9fa7b3" font-size="12">no rows</text>`;
  return frame(title, body);
}

function png(name: string, svg: string): void {
  writeFileSync(`${OUT}/${name}.svg`, svg);
  execFileSync('rsvg-convert', ['-o', `${OUT}/${name}.png`, `${OUT}/${name}.svg`]);
  execFileSync('rm', ['-f', `${OUT}/${name}.svg`]);
}

// ---- the run ---------------------------------------------------------------------------------

const runtime = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    res.statusCode = body.includes(FAILING) ? 503 : 202;
    res.end('{}');
  });
});
await new Promise<void>((r) => runtime.listen(0, '127.0.0.1', r));
const runtimeUrl = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}`;
const ns = await testNamespace('dashboard');
const op = await startOperator(ns.name, runtimeUrl, { identity: 'dashboard' });
const port = await op.port();
for (let i = 0; i < 45; i++)
  await createJob(ns.name, `every-minute-${i}`, { pattern: i < 35 ? '* * * * *' : '*/2 * * * *' });
for (let i = 0; i < 5; i++)
  await createJob(ns.name, `failing-${i}`, { pattern: '* * * * *', functionId: FAILING });
for (let i = 0; i < 5; i++) await createJob(ns.name, `nightly-${i}`, { pattern: `${i * 7} 3 * * *` });
console.log(`dashboard: 55 jobs in ${ns.name}; scraping the operator every 10 s for ${MINUTES} min`);

const scrapes: Scrape[] = [];
const end = Date.now() + MINUTES * 60_000;
while (Date.now() < end) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  scrapes.push({ t: Date.now() / 1000, series: parseExposition(text) });
  await sleep(10_000);
}
await op.stop();
await ns.remove();
runtime.close();

mkdirSync(OUT, { recursive: true });
writeFileSync(`${OUT}/scrapes.json`, `${JSON.stringify(kept(scrapes))}\n`);
const WINDOW = 300;
const at = scrapes.map((s, i) => [s.t, i] as const);
const dashboard = JSON.parse(
  readFileSync(`${repoRoot}/charts/qinling-jobs/dashboards/qinling-jobs.json`, 'utf8'),
) as {
  panels: { title: string }[];
};
const title = (n: number) => dashboard.panels[n]?.title ?? '';
png(
  'runs-per-minute',
  lineChart(title(0), '/min', [
    ...['Succeeded', 'Failed'].map((result) => ({
      name: result,
      points: at.map(([t, i]): [number, number] => [
        t,
        rate(
          scrapes,
          i,
          WINDOW,
          (k) => nameOf(k) === 'qinling_jobs_runs_finished_total' && labelsOf(k).result === result,
        ) * 60,
      ]),
    })),
    {
      name: 'Missed',
      points: at.map(([t, i]): [number, number] => [
        t,
        rate(scrapes, i, WINDOW, (k) => nameOf(k) === 'qinling_jobs_missed_runs_total') * 60,
      ]),
    },
  ]),
);
png(
  'skew',
  lineChart(title(1), 's', [
    {
      name: 'p50',
      points: at.map(([t, i]) => [
        t,
        quantile(0.5, scrapes, i, WINDOW, 'qinling_jobs_schedule_skew_seconds'),
      ]),
    },
    {
      name: 'p99',
      points: at.map(([t, i]) => [
        t,
        quantile(0.99, scrapes, i, WINDOW, 'qinling_jobs_schedule_skew_seconds'),
      ]),
    },
  ]),
);
const last = scrapes.at(-1) ?? { t: 0, series: {} };
const perJob = (metric: string): { namespace: string; qinlingjob: string; v: number }[] =>
  Object.entries(last.series)
    .filter(([k]) => nameOf(k) === metric)
    .map(([k, v]) => {
      const l = labelsOf(k);
      return { namespace: l.namespace ?? '', qinlingjob: l.qinlingjob ?? '', v };
    });
png(
  'upcoming',
  table(
    title(2),
    ['namespace', 'qinlingjob', 'seconds from now'],
    perJob('qinling_jobs_job_next_run_timestamp_seconds')
      .map((r) => ({ ...r, v: r.v - last.t }))
      .sort((a, b) => a.v - b.v)
      .slice(0, 20)
      .map((r) => [r.namespace, r.qinlingjob, r.v.toFixed(0)]),
  ),
);
png(
  'failing',
  table(
    title(3),
    ['namespace', 'qinlingjob', 'consecutive failures'],
    perJob('qinling_jobs_job_consecutive_failures')
      .filter((r) => r.v > 0)
      .sort((a, b) => b.v - a.v)
      .map((r) => [r.namespace, r.qinlingjob, String(r.v)]),
  ),
);
console.log(`dashboard: ${scrapes.length} scrapes; wrote ${OUT}/{runs-per-minute,skew,upcoming,failing}.png`);
