// Issue 14: `helm install` with no values at all gives a working product, as cert-manager's or
// Argo CD's does. The install is exactly the README's; a user then follows the printed notes: the
// token command they print (run as printed), the curl commands they print (run as printed, with
// one change: the stand-in kubelet serves no port-forward, so 127.0.0.1:7070 becomes the API
// Service's published endpoint), and `kubectl get qjob`. Serial: with no values the operator
// watches every namespace, which would take other journeys' jobs.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readyEndpoints } from '../facade.js';
import { clients, clusterDir, eventually, helm, kubectl, repoRoot } from '../support.js';

const sh = promisify(execFile);
const NS = 'qinling-system';
const RELEASE = 'qinling-jobs';
const CRD = 'qinlingjobs.qinling.io';
const FORWARDED = 'http://127.0.0.1:7070';

/** Runs a command from the notes in bash, with the cluster's kubectl first on PATH. */
async function asPrinted(command: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await sh('bash', ['-c', command], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env,
      PATH: `${clusterDir}/bin:${process.env.PATH ?? ''}`,
      KUBECONFIG: process.env.KUBECONFIG ?? `${clusterDir}/kubeconfig`,
    },
  });
  return stdout;
}

/** The notes' commands that start with `start`, continuation lines joined. */
function printed(notes: string, start: RegExp): string[] {
  const lines = notes.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!start.test(lines[i]?.trim() ?? '')) continue;
    let cmd = lines[i]?.trim() ?? '';
    while (cmd.endsWith('\\') && i + 1 < lines.length)
      cmd = `${cmd.slice(0, -1)} ${lines[++i]?.trim() ?? ''}`;
    out.push(cmd);
  }
  return out;
}

describe('journey: serial — helm install with no values', function () {
  this.bail(true);
  const { core } = clients();
  let notes = '';
  let token = '';
  let api = '';
  let jobNs = '';

  const endpoint = async () => {
    const ready = await readyEndpoints(NS, `${RELEASE}-api`);
    return ready.length === 2 ? ready[0] : undefined;
  };

  before(async function () {
    this.timeout(60_000);
    // The suite installed the CRD with kubectl before any release; a fresh cluster has none and
    // needs no such step. Hand it to this release as Helm adopts objects.
    await kubectl('annotate', '--overwrite', 'crd', CRD, `meta.helm.sh/release-name=${RELEASE}`);
    await kubectl('annotate', '--overwrite', 'crd', CRD, `meta.helm.sh/release-namespace=${NS}`);
    await kubectl('label', '--overwrite', 'crd', CRD, 'app.kubernetes.io/managed-by=Helm');
  });

  after(async function () {
    this.timeout(180_000);
    // The job first, while its operator still runs to take its finalizer off.
    if (jobNs) await kubectl('delete', 'qjob', '--all', '-n', jobNs, '--timeout=60s').catch(() => undefined);
    await helm('uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '120s').catch(() => undefined);
    await core.deleteNamespace({ name: NS }).catch(() => undefined);
    if (jobNs) await core.deleteNamespace({ name: jobNs }).catch(() => undefined);
  });

  it('installs as the README says, and its pods serve', async function () {
    this.timeout(240_000);
    notes = await helm('install', RELEASE, 'charts/qinling-jobs', '-n', NS, '--create-namespace');
    api = await eventually('two ready API endpoints', 180_000, endpoint);
    const pods = await core.listNamespacedPod({ namespace: NS });
    expect(pods.items.filter((p) => p.status?.phase === 'Running')).to.have.length(4);
  });

  it('says at install that the default runtime URL names a Service that is not there', () => {
    expect(notes).to.match(
      /WARNING: runtime.url points at Service qinling-system\/qinling-runtime, which does not exist/,
    );
  });

  it('the printed token command reads a generated admin token, and the printed curl makes a job', async function () {
    this.timeout(120_000);
    const [tokenCmd] = printed(notes, /^export TOKEN=/);
    expect(tokenCmd, 'a token command in the notes').to.be.a('string');
    token = (await asPrinted(`${tokenCmd}; printf %s "$TOKEN"`)).trim();
    expect(token).to.match(/^[A-Za-z0-9]{43}$/);
    const curls = printed(notes, /^curl /).map((c) => c.replaceAll(FORWARDED, api));
    expect(curls).to.have.length(2);
    const made = JSON.parse(await asPrinted(curls[0] ?? '', { TOKEN: token })) as {
      id: string;
      name: string;
    };
    expect(made).to.include({ name: 'first', pattern: '*/5 * * * *' });
    const listed = JSON.parse(await asPrinted(curls[1] ?? '', { TOKEN: token })) as {
      jobs: { id: string }[];
    };
    expect(listed.jobs.map((j) => j.id)).to.include(made.id);
    // The operator writes the status a moment after the create.
    const row = /\sfirst\s+Running\s+\*\/5 \* \* \* \*\s+\d{4}-/;
    const table = await eventually('the job Running in kubectl get qjob -A', 60_000, async () => {
      const t = await asPrinted('kubectl get qjob -A');
      return row.test(t) ? t : undefined;
    });
    jobNs =
      table
        .split('\n')
        .find((l) => /\sfirst\s/.test(l))
        ?.split(/\s+/)[0] ?? '';
    // A wrong token is refused with Qinling's body: the generated one is the only one.
    const refused = await fetch(`${api}/v1/jobs`, { headers: { 'X-Auth-Token': 'wrong' } });
    expect(refused.status).to.equal(401);
  });

  it('helm upgrade keeps the generated token, and the rolled pods accept it', async function () {
    this.timeout(300_000);
    const secret = async () =>
      (await core.readNamespacedSecret({ name: `${RELEASE}-api-tokens`, namespace: NS })).data?.[
        'tokens.csv'
      ];
    const before = await secret();
    const old = new Set((await core.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata?.name));
    // A new pod template (an annotation) rolls every pod, as an upgrade to a new version would.
    await helm(
      'upgrade',
      RELEASE,
      'charts/qinling-jobs',
      '-n',
      NS,
      '--set-string=api.podAnnotations.rolled=yes',
    );
    expect(await secret()).to.equal(before);
    api = await eventually('two new ready API endpoints', 180_000, async () => {
      const pods = (
        await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/component=api' })
      ).items;
      const fresh = pods.filter((p) => !old.has(p.metadata?.name) && p.status?.phase === 'Running');
      return fresh.length === 2 && pods.length === 2 ? endpoint() : undefined;
    });
    const res = await fetch(`${api}/v1/jobs`, { headers: { 'X-Auth-Token': token } });
    expect(res.status).to.equal(200);
  });
});
