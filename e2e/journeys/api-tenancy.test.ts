// Tenancy on the real apiserver: the chart's ValidatingAdmissionPolicy refuses a forged project
// label (a user allowed to patch namespaces still may not set it), a project two namespaces
// claim is refused rather than written into the first, a project named like a reserved namespace
// never lands there, and the quota of a namespace the facade makes is a hard bound: concurrent
// creates past it are refused, by the facade's count or by the apiserver's ResourceQuota, which
// also holds across two replicas and for a kubectl user who never goes through the facade.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { clients, clusterDir, helm, kubectl, repoRoot, testNamespace } from './support.js';
import { labelProject, startFacade, type Facade } from './facade.js';
import { FUNCTION_ID } from './operator.js';
import { derivedNamespace, labelValue } from '../../api/tenancy.js';

const run = randomBytes(3).toString('hex');
const release = `qjt-${run}`;

/** kubectl with stdin; resolves to its exit code and output. */
function kubectlIn(stdin: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(`${clusterDir}/bin/kubectl`, ['--kubeconfig', `${clusterDir}/kubeconfig`, ...args]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
    p.stdin.end(stdin);
  });
}

describe('journey: tenancy the facade can trust', function () {
  const { core, rbac, kc } = clients();
  const custom = kc.makeApiClient(CustomObjectsApi);
  let home: Awaited<ReturnType<typeof testNamespace>>;
  let attacker: Awaited<ReturnType<typeof testNamespace>>;
  let victim: Awaited<ReturnType<typeof testNamespace>>;
  let facade: Facade | undefined;
  let policy = '';
  const made: string[] = []; // namespaces the facade made
  const mallory = `mallory-${run}`;
  const PB = `proj-b-${run}`;
  const PQ = `proj-q-${run}`;
  const PR = `proj-r-${run}`;

  const tokens =
    [
      `tok-b,bob,${PB},member`,
      `tok-q,quinn,${PQ},member`,
      `tok-ks,kim,kube-system,member`,
      `tok-r,rita,${PR},member`,
    ].join('\n') + '\n';
  const facadeArgs = () => [
    '--create-namespaces=true',
    '--max-jobs-per-project=3',
    '--max-runs-per-project=10',
    `--reserved-namespaces=${home.name}`,
  ];

  before(async function () {
    this.timeout(120_000);
    home = await testNamespace('tenancy-home');
    attacker = await testNamespace('aaa-attacker');
    victim = await testNamespace('tenancy-victim');
    // The chart's objects, as an install renders them for a release in `home`.
    const render = (template: string, ...set: string[]) =>
      helm(
        'template',
        release,
        `${repoRoot}/charts/qinling-jobs`,
        '-n',
        home.name,
        '-f',
        `${repoRoot}/charts/qinling-jobs/ci/static-values.yaml`,
        '--show-only',
        template,
        ...set,
      );
    // The admission policy, only for this journey's namespaces: journeys running beside it
    // label theirs as they please.
    policy = await render(
      'templates/api/admission.yaml',
      // --set-string: a run id of digits alone would be a number, which no label value is.
      '--set-string',
      `api.tenancy.admissionNamespaceSelector.matchLabels.tenancy-journey=${run}`,
    );
    for (const n of [attacker.name, victim.name])
      await kubectl('label', 'namespace', n, `tenancy-journey=${run}`);
    // And the API's own rights, so its ServiceAccount can be impersonated against both.
    policy += `\n---\n${await render('templates/api/rbac.yaml')}`;
    const applied = await kubectlIn(policy, 'apply', '-f', '-');
    expect(applied.code, applied.out).to.equal(0);
    // mallory may create and patch namespaces (a self-service namespace tool's rights).
    await rbac.createClusterRole({
      body: {
        metadata: { name: mallory },
        rules: [
          { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'patch', 'update'] },
          // and makes QinlingJobs (the run-request policy's case)
          { apiGroups: ['qinling.io'], resources: ['qinlingjobs'], verbs: ['get', 'create'] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: mallory },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: mallory },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: mallory }],
      },
    });
    facade = await startFacade(`tenancy-${run}`, tokens, facadeArgs());
  });
  after(async function () {
    this.timeout(60_000);
    facade?.stop();
    if (policy) await kubectlIn(policy, 'delete', '--ignore-not-found', '-f', '-');
    await rbac.deleteClusterRole({ name: mallory }).catch(() => undefined);
    await rbac.deleteClusterRoleBinding({ name: mallory }).catch(() => undefined);
    for (const n of made) await core.deleteNamespace({ name: n }).catch(() => undefined);
    await Promise.all([home, attacker, victim].map((n) => n?.remove()));
  });

  async function call(method: string, path: string, token: string, body?: unknown, on = facade) {
    const res = await fetch(`${on?.url ?? ''}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  }
  const job = { function_id: FUNCTION_ID, pattern: '0 0 1 1 *', function_input: 'secret-ish' };
  /** The QinlingJobs the apiserver holds in a namespace (not the facade's view). */
  const storedIn = async (namespace: string) =>
    (
      (await custom.listNamespacedCustomObject({
        group: 'qinling.io',
        version: 'v1',
        namespace,
        plural: 'qinlingjobs',
      })) as { items: unknown[] }
    ).items;

  it('the admission policy refuses a project label from a user RBAC lets patch namespaces', async function () {
    this.timeout(60_000);
    // The policy takes a moment to reach the apiserver's admission: an admin's change goes
    // through meanwhile and after, so wait until mallory's is refused, then check the texts.
    let out = '';
    for (let i = 0; i < 40; i++) {
      const r = await kubectlIn(
        '',
        'label',
        'namespace',
        attacker.name,
        `qinling.io/project-id=${PB}`,
        `--as=${mallory}`,
      );
      out = r.out;
      if (r.code !== 0) break;
      await kubectl('label', 'namespace', attacker.name, 'qinling.io/project-id-'); // undo, as admin
      await new Promise((r2) => setTimeout(r2, 500));
    }
    expect(out).to.contain('only the qinling-jobs API and its configured admins may set');
    const made2 = await kubectlIn(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `forged-${run}`, labels: { 'qinling.io/project-id': PB, 'tenancy-journey': run } },
      }),
      'create',
      '-f',
      '-',
      `--as=${mallory}`,
    );
    expect(made2.code, made2.out).to.not.equal(0);
    expect(made2.out).to.contain('only the qinling-jobs API');
    // mallory's other namespace changes go through: the policy guards the label only.
    const other = await kubectlIn('', 'label', 'namespace', attacker.name, `team=red`, `--as=${mallory}`);
    expect(other.code, other.out).to.equal(0);
  });

  it('a run request a user adds must name that user: a forged requestedBy is refused', async function () {
    this.timeout(60_000);
    const qjob = (name: string, requestedBy: string) =>
      JSON.stringify({
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name, namespace: victim.name },
        spec: { functionId: FUNCTION_ID, pattern: '0 0 1 1 *', runRequests: [{ id: 'r1', requestedBy }] },
      });
    // As for the label policy: wait until the apiserver enforces it.
    let forged = { code: 0, out: '' };
    for (let i = 0; i < 40 && forged.code === 0; i++) {
      forged = await kubectlIn(qjob(`forged-${i}`, 'alice'), 'create', '-f', '-', `--as=${mallory}`);
      if (forged.code === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(forged.out).to.contain(`a new run request must say who asks: requestedBy: ${mallory}`);
    const own = await kubectlIn(qjob('own', mallory), 'create', '-f', '-', `--as=${mallory}`);
    expect(own.code, own.out).to.equal(0);
    // A configured admin (system:masters here) may name whom it acts for, as the API does.
    const onBehalf = await kubectlIn(qjob('on-behalf', 'alice'), 'create', '-f', '-');
    expect(onBehalf.code, onBehalf.out).to.equal(0);
    // Those made before the policy took hold, and this one: the next cases count what is stored.
    await kubectl('delete', 'qinlingjob', '--all', '-n', victim.name, '--wait=true');
  });

  it('two namespaces claiming one project: the project is refused, nothing written to either', async function () {
    this.timeout(60_000);
    // An admin may still label twice by mistake (or an old label lingers): the facade refuses.
    await labelProject(victim.name, PB);
    await labelProject(attacker.name, PB);
    const { eventually } = await import('./support.js');
    // Waited for with reads: a create tried while the facade had seen only the first label
    // would be stored (rightly, then) and spoil the count below.
    await eventually('the facade to see both labels', 20_000, async () =>
      (await call('GET', '/v1/jobs', 'tok-b')).status === 503 ? true : undefined,
    );
    const r = await call('POST', '/v1/jobs', 'tok-b', job);
    expect(r.status).to.equal(503);
    expect(r.json).to.deep.include({ faultcode: 'Server', debuginfo: null });
    for (const n of [victim.name, attacker.name]) {
      expect(await storedIn(n), n).to.have.length(0);
    }
    // Resolved by the admin: the project's jobs go to the one namespace left.
    await kubectl('label', 'namespace', attacker.name, 'qinling.io/project-id-');
    const ok = await eventually('the project to be served again', 20_000, async () => {
      const x = await call('POST', '/v1/jobs', 'tok-b', job);
      return x.status === 201 ? x : undefined;
    });
    const id = String(ok.json.id);
    const inVictim = (await storedIn(victim.name)) as { metadata: { uid: string } }[];
    expect(inVictim.map((j) => j.metadata.uid)).to.include(id);
  });

  it('a project named kube-system gets its own namespace, never kube-system', async function () {
    this.timeout(30_000);
    const r = await call('POST', '/v1/jobs', 'tok-ks', job);
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    const ns = derivedNamespace('kube-system');
    made.push(ns);
    expect(await storedIn('kube-system')).to.have.length(0);
    const theirs = await core.readNamespace({ name: ns });
    expect(theirs.metadata?.labels?.['qinling.io/project-id']).to.equal(labelValue('kube-system'));
  });

  it('a namespace the facade makes gets its ResourceQuota; concurrent creates past it are refused', async function () {
    this.timeout(60_000);
    const first = await call('POST', '/v1/jobs', 'tok-q', job);
    expect(first.status).to.equal(201);
    made.push(PQ);
    const quota = await core.readNamespacedResourceQuota({ name: 'qinling-jobs', namespace: PQ });
    expect(quota.spec?.hard).to.deep.include({
      'count/qinlingjobs.qinling.io': '3',
      'count/cronjobs.batch': '3',
      'count/jobs.batch': '10',
      pods: '10',
    });
    // Eight at once: the facade takes one project's creates one at a time, so the project ends
    // with exactly three, and the rest get Qinling's 403 quota fault.
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/v1/jobs', 'tok-q', job)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).to.have.length(2);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).to.equal(403);
      expect(r.json).to.have.keys('faultcode', 'faultstring', 'debuginfo');
      expect(String(r.json.faultstring)).to.match(/^Quota exceeded: /); // the facade's count or the apiserver's
    }
    expect(await storedIn(PQ)).to.have.length(3);
    const more = await call('POST', '/v1/jobs', 'tok-q', job);
    expect(more.status).to.equal(403);
    expect(more.json.faultstring).to.equal(
      `Quota exceeded: project ${PQ} may hold at most 3 jobs; delete some first.`,
    );
  });

  it('the ResourceQuota is the bound: across two replicas, and for a kubectl user past the facade', async function () {
    this.timeout(120_000);
    const other = await startFacade(`tenancy-${run}-b`, tokens, facadeArgs());
    try {
      const first = await call('POST', '/v1/jobs', 'tok-r', job);
      expect(first.status, JSON.stringify(first.json)).to.equal(201);
      made.push(PR);
      // Each replica counts from its own cache and takes only its own creates one at a time:
      // twelve at once across both can pass both counts; the apiserver's quota cannot be passed.
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => call('POST', '/v1/jobs', 'tok-r', job, i % 2 ? other : facade)),
      );
      for (const r of results.filter((x) => x.status !== 201)) {
        expect(r.status, JSON.stringify(r.json)).to.equal(403);
        expect(String(r.json.faultstring)).to.match(/^Quota exceeded: /);
      }
      expect(results.filter((r) => r.status === 201)).to.have.length(2);
    } finally {
      other.stop();
    }
    expect(await storedIn(PR)).to.have.length(3);
    // A cluster admin's kubectl goes past the facade's count; the namespace's quota still holds.
    const direct = await kubectlIn(
      JSON.stringify({
        apiVersion: 'qinling.io/v1',
        kind: 'QinlingJob',
        metadata: { name: 'past-the-facade', namespace: PR },
        spec: { functionId: FUNCTION_ID, pattern: '0 0 1 1 *' },
      }),
      'create',
      '-f',
      '-',
    );
    expect(direct.code, direct.out).to.not.equal(0);
    expect(direct.out).to.contain('exceeded quota: qinling-jobs');
  });

  it('the API may create only its own quota, only in a project namespace', async function () {
    this.timeout(60_000);
    const asApi = `--as=system:serviceaccount:${home.name}:${release}-qinling-jobs-api`;
    const quota = (name: string, namespace: string) =>
      kubectlIn(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name, namespace },
          spec: { hard: { pods: '0' } },
        }),
        'create',
        '-f',
        '-',
        asApi,
      );
    // Its right to create quotas anywhere is held by the policy: not in kube-system (where
    // `pods: 0` would stop the cluster's own pods), not under another name.
    let refused = await quota('qinling-jobs', 'kube-system');
    for (let i = 0; i < 20 && refused.code === 0; i++) {
      await kubectl('delete', 'resourcequota', 'qinling-jobs', '-n', 'kube-system');
      await new Promise((r) => setTimeout(r, 500));
      refused = await quota('qinling-jobs', 'kube-system');
    }
    expect(refused.code, refused.out).to.not.equal(0);
    expect(refused.out).to.contain('may create only its own ResourceQuota');
    const named = await quota('evil', victim.name);
    expect(named.code, named.out).to.not.equal(0);
    expect(named.out).to.contain('may create only its own ResourceQuota');
    const own = await quota('qinling-jobs', victim.name); // victim carries the project label
    expect(own.code, own.out).to.equal(0);
  });
});
