// The product as an admin installs it: the real helm installs charts/qinling-jobs, the process
// kubelet runs the chart's pods from the image table with their own ServiceAccount tokens (so the
// chart's RBAC meets the real authorizer, under the restricted Pod Security profile), a job made
// over REST through the Service's published endpoints reaches a runtime, upgrades roll the pods
// into kubernetes auth and then Keystone auth (a real Keystone), and uninstall leaves only the CRD
// and the jobs.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { CoordinationV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { clients, eventually, helm, kubectl, recorder, repoRoot, testNamespace } from './support.js';
import { Keystone } from '../keystone/keystone.js';
import { labelProject, readyEndpoints, serviceAccountToken } from './facade.js';
import { callsAtLeast, FUNCTION_ID, OPERATOR_IMAGE } from './operator.js';

const CHART = `${repoRoot}/charts/qinling-jobs`;
const CRD = 'qinlingjobs.qinling.io';

/** `kubectl apply --dry-run=server` of a manifest stream. */
function applyDryRun(manifests: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(`${repoRoot}/.cluster/bin/kubectl`, [
      '--kubeconfig',
      process.env.KUBECONFIG ?? `${repoRoot}/.cluster/kubeconfig`,
      'apply',
      '--dry-run=server',
      '-f',
      '-',
    ]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`dry-run failed:\n${out}`))));
    p.stdin.end(manifests);
  });
}

describe('journey: the Helm chart installed for real', function () {
  this.bail(true); // each step stands on the one before
  const { core, apps, rbac, kc } = clients();
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const release = `qj-${randomBytes(3).toString('hex')}`;
  const project = `proj-${randomBytes(3).toString('hex')}`;
  const token = `tok-${randomBytes(12).toString('hex')}`;
  const admin = `adm-${randomBytes(12).toString('hex')}`;
  const component = (c: string) => `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${c}`;
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let jobsNs: Awaited<ReturnType<typeof testNamespace>>;
  let runtime: Awaited<ReturnType<typeof recorder>>;
  let keystone: Keystone | undefined;
  let values: string[] = [];
  let apiUrl = '';
  let jobId = '';

  const running = async (c: string) =>
    (await core.listNamespacedPod({ namespace: ns.name, labelSelector: component(c) })).items.filter(
      (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
    );

  /** The API's address as the cluster publishes it: a ready endpoint of its Service's slices. */
  async function serviceEndpoint(): Promise<string> {
    const ready = await readyEndpoints(ns.name, `${release}-qinling-jobs-api`);
    expect(ready.length, 'ready API endpoints').to.equal(2);
    return ready[0] ?? '';
  }

  async function call(method: string, path: string, body?: unknown, tok = token): Promise<Response> {
    return fetch(`${apiUrl}${path}`, {
      method,
      headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  const createAs = (tok: string) =>
    call('POST', '/v1/jobs', { function_id: FUNCTION_ID, pattern: '0 5 * * *' }, tok);

  /** helm upgrade with `extra` values; waits until every pod of `components` is a new one. */
  async function upgradeAndRoll(extra: string[], components: string[]): Promise<void> {
    const pods = async () => (await Promise.all(components.map(running))).flat();
    const before = new Set((await pods()).map(name));
    await helm(
      'upgrade',
      release,
      CHART,
      '--namespace',
      ns.name,
      ...values,
      ...extra,
      '--wait',
      '--timeout',
      '180s',
    );
    await eventually(`the ${components.join(' and ')} pods replaced and running`, 120_000, async () => {
      const now = await pods();
      return now.length === 2 * components.length && now.every((p) => !before.has(name(p)));
    });
    apiUrl = await eventually('two ready API endpoints after the roll', 60_000, serviceEndpoint);
  }

  before(async function () {
    this.timeout(60_000);
    ns = await testNamespace('chart');
    jobsNs = await testNamespace('chart-jobs');
    await labelProject(jobsNs.name, project);
    // The release namespace enforces the restricted profile: a chart pod that breaks it is refused.
    await kubectl('label', 'namespace', ns.name, 'pod-security.kubernetes.io/enforce=restricted');
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: {
        metadata: { name: 'api-tokens' },
        stringData: { 'tokens.csv': `${token},dev,${project},member\n${admin},root,admin,admin\n` },
      },
    });
    runtime = await recorder();
    // The suite installed the CRD with kubectl; hand it to this release as Helm adopts objects.
    await kubectl('annotate', '--overwrite', 'crd', CRD, `meta.helm.sh/release-name=${release}`);
    await kubectl('annotate', '--overwrite', 'crd', CRD, `meta.helm.sh/release-namespace=${ns.name}`);
    await kubectl('label', '--overwrite', 'crd', CRD, 'app.kubernetes.io/managed-by=Helm');
    const [repository, tag] = OPERATOR_IMAGE.split(':');
    values = [
      `--set=image.repository=${repository ?? ''}`,
      `--set=image.tag=${tag ?? ''}`,
      '--set=bindPodIP=true',
      `--set=runtime.url=${runtime.url}`,
      `--set=operator.watchNamespaces={${jobsNs.name}}`,
      '--set=api.auth.static.secretName=api-tokens',
    ];
  });

  after(async function () {
    this.timeout(120_000);
    await helm('uninstall', release, '--namespace', ns.name, '--wait', '--timeout', '60s').catch(
      () => undefined,
    );
    await runtime?.close();
    await keystone?.destroy();
    await ns?.remove();
    await jobsNs?.remove();
  });

  it('lints, and everything it renders passes a server-side dry run', async function () {
    this.timeout(240_000); // 5 lints, 3 templates, 3 dry runs: past 60 s under 16 parallel journeys in CI
    for (const f of readdirSync(`${CHART}/ci`))
      expect(await helm('lint', '--strict', CHART, '-f', `${CHART}/ci/${f}`)).to.match(/0 chart\(s\) failed/);
    await helm('lint', '--strict', CHART, '--set=operatr.replicas=1').then(
      () => expect.fail('a misspelt value must be refused'),
      (err: { stdout: string }) => expect(err.stdout).to.match(/additional properties 'operatr' not allowed/),
    );
    const keystone = ['--set=api.auth.mode=keystone', '--set=api.auth.keystone.url=http://127.0.0.1:5000/v3'];
    for (const extra of [
      [],
      ['--set=api.auth.mode=kubernetes', '--set=networkPolicy.enabled=true'],
      [...keystone, '--set=api.auth.keystone.passwordSecretName=ks-password'],
    ]) {
      const rendered = await helm('template', release, CHART, '--namespace', ns.name, ...values, ...extra);
      const out = await applyDryRun(rendered);
      expect(out).to.match(/deployment.apps\/\S+-api created \(server dry run\)/);
      expect(out).to.match(
        /customresourcedefinition.apiextensions.k8s.io\/qinlingjobs.qinling.io \S+ \(server dry run\)/,
      );
    }
  });

  /**
   * The API faces tenants: no right of its ServiceAccount may run code, change workloads or act
   * as anyone else, in any auth mode (the authorizer answers `no` for each).
   */
  async function expectApiMayNot(): Promise<void> {
    const as = `--as=system:serviceaccount:${ns.name}:${release}-qinling-jobs-api`;
    const canI = (...args: string[]) =>
      kubectl('auth', 'can-i', ...args, as).catch((err: { stdout?: string }) => err.stdout ?? '');
    const forbidden = [
      ['patch', 'cronjobs.batch', '-n', 'kube-system'],
      ['patch', 'cronjobs.batch', '-n', jobsNs.name],
      ['create', 'jobs.batch', '-n', jobsNs.name],
      ['create', 'pods', '-n', jobsNs.name],
      ['create', 'pods', '-n', 'kube-system'],
      ['list', 'secrets', '--all-namespaces'],
      ['create', 'secrets', '-n', jobsNs.name],
      ['impersonate', 'groups/system:masters'],
      ['impersonate', 'users/admin'],
      ['impersonate', 'serviceaccounts', '-n', 'kube-system'],
      ['create', 'clusterrolebindings'],
      ['update', 'qinlingjobs.qinling.io/status', '-n', jobsNs.name],
    ];
    for (const f of forbidden) expect((await canI(...f)).trim(), f.join(' ')).to.equal('no');
  }

  it('installs: pods run as their own ServiceAccounts, restricted, and one operator leads', async function () {
    this.timeout(180_000);
    await helm('install', release, CHART, '--namespace', ns.name, ...values, '--wait', '--timeout', '150s');
    const pods = [...(await running('operator')), ...(await running('api'))];
    expect(pods).to.have.length(4);
    for (const p of pods) {
      const c = p.metadata?.labels?.['app.kubernetes.io/component'] ?? '';
      expect(p.spec?.serviceAccountName).to.equal(`${release}-qinling-jobs-${c}`);
      expect(p.spec?.containers[0]?.securityContext).to.deep.include({ allowPrivilegeEscalation: false });
    }
    const lease = await eventually('an operator to hold the leader Lease', 60_000, async () => {
      const l = await coordination.readNamespacedLease({
        name: `${release}-qinling-jobs-operator`,
        namespace: ns.name,
      });
      return l.spec?.holderIdentity;
    });
    expect(pods.map((p) => p.metadata?.name)).to.include(lease);
    // The chart's roles are what the components have, asked of the real authorizer.
    await expectApiMayNot();
    const roles = await rbac.listClusterRole({ labelSelector: `app.kubernetes.io/instance=${release}` });
    expect(roles.items.map((r) => r.metadata?.name)).to.deep.equal([`${release}-qinling-jobs-api`]);
  });

  it('serves /v1/jobs at the Service endpoints, and a job made there reaches the runtime', async function () {
    this.timeout(180_000);
    apiUrl = await eventually('two ready API endpoints', 60_000, serviceEndpoint);
    // A ready endpoint passed its /readyz probe: it answers at once.
    const res = await call('POST', '/v1/jobs', {
      name: 'from-rest',
      function_id: FUNCTION_ID,
      pattern: '* * * * *',
      count: 5,
    });
    expect(res.status).to.equal(201);
    const job = (await res.json()) as { id: string; status: string };
    jobId = job.id;
    expect(job.status).to.equal('running');
    const [first] = await callsAtLeast(runtime.calls, 1, 100_000);
    expect(first?.body.function_id).to.equal(FUNCTION_ID);
    expect(first?.jobId).to.equal(jobId);
    // The API serves only the watched namespace: the admin's own project has none there, and
    // none is made for it (its job would never run).
    const elsewhere = await createAs(admin);
    expect(elsewhere.status).to.equal(403);
    expect(
      await core.readNamespace({ name: 'admin' }).then(
        () => 'made',
        () => 'none',
      ),
    ).to.equal('none');
    // Status flows back through the operator's status writes and the API's cache.
    await eventually('the run to be counted', 60_000, async () => {
      const j = (await (await call('GET', `/v1/jobs/${jobId}`)).json()) as { count: number };
      return j.count === 4;
    });
  });

  it('kubectl shows the job: columns, descriptions of every field, conditions and Events', async function () {
    this.timeout(60_000);
    const table = await kubectl('get', 'qjob', '-n', jobsNs.name);
    expect(table.split('\n')[0]).to.match(
      /^NAME\s+JOB NAME\s+STATUS\s+PATTERN\s+NEXT\s+REMAINING\s+LAST\s+AGE$/,
    );
    expect(table.split('\n')[1]).to.match(
      /^\S+\s+from-rest\s+Running\s+\* \* \* \* \*\s+\d{4}-\d\d-\d\dT\S+\s+[0-4]\s+(Running|Succeeded)\s+\d+[sm]/,
    );
    const explain = await kubectl('explain', 'qinlingjob.spec');
    const crd = await kubectl('get', 'crd', CRD, '-o', 'json');
    const spec = (
      JSON.parse(crd) as {
        spec: {
          versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: object } } } } }[];
        };
      }
    ).spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties;
    const fields = Object.keys(spec ?? {});
    expect(fields.length).to.be.greaterThan(8);
    for (const f of fields)
      expect(explain, `kubectl explain lacks ${f}`).to.match(new RegExp(`^  ${f}\\s+<`, 'm'));
    const described = await kubectl('describe', 'qjob', '-n', jobsNs.name);
    const conditions = described.slice(described.indexOf('Conditions:'), described.indexOf('Events:'));
    expect(conditions).to.match(/Status:\s+True\n\s+Type:\s+Valid\n/);
    expect(conditions).to.match(/Status:\s+True\n\s+Type:\s+Ready\n/);
    expect(described).to.match(/Events:[\s\S]*RunStarted/);
  });

  it('helm upgrade to kubernetes auth rolls the pods, and RBAC then decides through the chart roles', async function () {
    this.timeout(240_000);
    await upgradeAndRoll(['--set=logLevel=debug', '--set=api.auth.mode=kubernetes'], ['operator', 'api']);
    for (const c of ['operator', 'api']) {
      const d = await apps.readNamespacedDeployment({
        name: `${release}-qinling-jobs-${c}`,
        namespace: ns.name,
      });
      const env = d.spec?.template.spec?.containers[0]?.env ?? [];
      expect(env.find((e) => e.name === 'QJ_LOG_LEVEL')?.value).to.equal('debug');
    }
    expect((await call('GET', `/v1/jobs/${jobId}`)).status, 'the static token is gone').to.equal(401);
    // A ServiceAccount allowed QinlingJobs in the project's namespace: the API (TokenReview,
    // SubjectAccessReview for every read and write, from the chart's ClusterRole) serves it.
    const writer = await serviceAccountToken(jobsNs.name, 'writer', ['get', 'list', 'watch', 'create']);
    const stranger = await serviceAccountToken(ns.name, 'stranger', []);
    expect((await call('GET', `/v1/jobs/${jobId}`, undefined, writer)).status).to.equal(200);
    const made = await createAs(writer);
    expect(made.status).to.equal(201);
    expect((await call('GET', `/v1/jobs/${jobId}`, undefined, stranger)).status).to.equal(404);
    const refused = await createAs(stranger);
    expect(refused.status).to.equal(403);
    await expectApiMayNot(); // no impersonation: RBAC is asked, the facade writes as itself
  });

  it('helm upgrade to keystone auth: the API checks tokens with Keystone, its password from a Secret', async function () {
    this.timeout(240_000);
    keystone = await Keystone.create();
    const ks = keystone;
    await ks.populate(apiUrl);
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'keystone-service' }, stringData: { password: ks.service.password } },
    });
    await labelProject(jobsNs.name, ks.projectIds['proj-a'] ?? '');
    await upgradeAndRoll(
      [
        '--set=api.auth.mode=keystone',
        `--set=api.auth.keystone.url=${ks.url}`,
        '--set=api.auth.keystone.passwordSecretName=keystone-service',
      ],
      ['api'],
    );
    const token = await ks.issue(ks.userA);
    const list = await call('GET', '/v1/jobs', undefined, token);
    expect(list.status).to.equal(200);
    const ids = ((await list.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    expect(ids).to.include(jobId).and.to.have.length(2);
    const made = await createAs(token);
    expect(made.status).to.equal(201);
    const refused = await call('GET', '/v1/jobs', undefined, 'not-a-keystone-token');
    expect(refused.status).to.equal(401);
    expect(refused.headers.get('www-authenticate')).to.equal(`Keystone uri="${ks.url.replace(/\/v3$/, '')}"`);
  });

  it('helm uninstall removes the release but keeps the CRD and the jobs', async function () {
    this.timeout(120_000);
    await helm('uninstall', release, '--namespace', ns.name, '--wait', '--timeout', '90s');
    await eventually('the release objects to be gone', 60_000, async () => {
      const sel = { labelSelector: `app.kubernetes.io/instance=${release}` };
      const [deps, svcs, sas, pods, cr, crb, roles] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: ns.name, ...sel }),
        core.listNamespacedService({ namespace: ns.name, ...sel }),
        core.listNamespacedServiceAccount({ namespace: ns.name, ...sel }),
        core.listNamespacedPod({ namespace: ns.name, ...sel }),
        rbac.listClusterRole(sel),
        rbac.listClusterRoleBinding(sel),
        rbac.listRoleBindingForAllNamespaces(sel),
      ]);
      return [deps, svcs, sas, pods, cr, crb, roles].every((l) => l.items.length === 0);
    });
    const crd = JSON.parse(await kubectl('get', 'crd', CRD, '-o', 'json')) as {
      metadata: { annotations?: Record<string, string> };
    };
    expect(crd.metadata.annotations?.['helm.sh/resource-policy']).to.equal('keep');
    const jobs = (await custom.listNamespacedCustomObject({
      group: 'qinling.io',
      version: 'v1',
      namespace: jobsNs.name,
      plural: 'qinlingjobs',
    })) as { items: unknown[] };
    expect(jobs.items).to.have.length(3);
  });
});

const name = (p: V1Pod) => p.metadata?.name ?? '';
