// Keystone authentication, end to end with real parts only: a real Keystone (Debian's
// python3-keystone), the facade in `--auth keystone` mode, the operator, and the real openstack
// CLI finding the facade through Keystone's service catalog (type function-engine), with no
// endpoint override.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Keystone, type KeystoneUser } from '../keystone/keystone.js';
import { labelProject, startFacade, type Facade } from './facade.js';
import { callsAtLeast, clearOfTick, FUNCTION_ID, withOperator } from './operator.js';
import { eventually, testNamespace } from './support.js';

const run = promisify(execFile);
/** The facade's cache bound here: short, so revocation and outages show quickly. */
const CACHE_SECONDS = 2;

describe('journey: Keystone authentication through the service catalog', function () {
  // proj-a's jobs live in the operator's namespace, so its jobs really run.
  const scene = withOperator('api-ks');
  let nsB: Awaited<ReturnType<typeof testNamespace>> | undefined;
  let ks: Keystone | undefined;
  let facade: Facade | undefined;

  before(async function () {
    // A real Keystone's db_sync and bootstrap take over a minute on 2 cores shared with 15 other
    // journeys (CI on 2026-12-02 timed out here at 120 s, with the facade ready).
    this.timeout(300_000);
    ks = await Keystone.create();
    const k = ks;
    facade = await startFacade(`keystone-${scene.ns}`, '', [
      '--auth=keystone',
      `--keystone-url=${k.url}`,
      `--keystone-password-file=${k.service.passwordFile}`,
      `--keystone-cache-seconds=${CACHE_SECONDS}`,
      // Keystone's bootstrap admin holds the admin role on the project named admin.
      '--keystone-admin-project=admin',
      '--create-namespaces=false',
    ]);
    await k.populate(facade.url);
    nsB = await testNamespace('api-ks-b');
    await labelProject(scene.ns, k.projectIds['proj-a'] ?? '');
    await labelProject(nsB.name, k.projectIds['proj-b'] ?? '');
    // The facade sees the namespaces' project labels through its cache.
    for (const user of [k.userA, k.userB]) {
      const token = await k.issue(user);
      await eventually(`${user.project}'s namespace in the facade`, 30_000, async () => {
        return (await get(token, '/v1/jobs')).status === 200;
      });
    }
  });
  after(async function () {
    this.timeout(120_000);
    facade?.stop();
    await ks?.destroy();
    await nsB?.remove();
  });

  const url = () => facade?.url ?? '';
  const get = (token: string, path: string) =>
    fetch(`${url()}${path}`, { headers: { 'x-auth-token': token } });

  /** `openstack …` as a Keystone user runs it; resolves to [exit code, stdout, stderr]. */
  async function openstack(user: KeystoneUser, ...args: string[]): Promise<[number, string, string]> {
    const auth = [
      '--os-auth-url',
      ks?.url ?? '',
      '--os-username',
      user.name,
      '--os-password',
      user.password,
      '--os-project-name',
      user.project,
      '--os-user-domain-name',
      'Default',
      '--os-project-domain-name',
      'Default',
    ];
    try {
      const { stdout, stderr } = await run('/usr/bin/openstack', [...auth, ...args], {
        // No clouds.yaml, no OS_* or QINLING_URL from the caller: the catalog is the only way.
        env: { PATH: '/usr/bin:/bin', HOME: `${ks?.dir}/home` },
      });
      return [0, stdout, stderr];
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return [e.code, e.stdout, e.stderr];
    }
  }

  const json = <T>(s: string) => JSON.parse(s) as T;

  it('user-a creates, lists, shows, updates and deletes a job with the openstack CLI; the operator runs it', async function () {
    this.timeout(180_000);
    const k = ks as Keystone;
    // Made clear of a minute tick: a run in between would move next_execution_time, and the
    // show below compares the whole job with the create's answer.
    await clearOfTick();
    const [code, out, err] = await openstack(
      k.userA,
      'job',
      'create',
      '--function',
      FUNCTION_ID,
      '--pattern',
      '* * * * *',
      '--name',
      'through the catalog',
      '--function-input',
      '{"via": "keystone"}',
      '-f',
      'json',
    );
    expect(code, err).to.equal(0);
    const job = json<Record<string, unknown>>(out);
    expect(job).to.include({
      name: 'through the catalog',
      status: 'running',
      pattern: '* * * * *',
      project_id: k.projectIds['proj-a'],
    });
    const id = String(job.id);

    const [, listed] = await openstack(k.userA, 'job', 'list', '-f', 'json');
    expect(json<{ Id: string }[]>(listed).map((j) => j.Id)).to.deep.equal([id]);
    const [, shown] = await openstack(k.userA, 'job', 'show', id, '-f', 'json');
    expect(json(shown)).to.deep.equal(job);
    const [upCode, updated] = await openstack(
      k.userA,
      'job',
      'update',
      id,
      '--name',
      'renamed',
      '-f',
      'json',
    );
    expect(upCode).to.equal(0);
    expect(json(updated)).to.include({ name: 'renamed', project_id: k.projectIds['proj-a'] });

    // The job is real: the operator's CronJob calls the function runtime on the next minute.
    const [call] = await callsAtLeast(scene.runtime.calls, 1, 90_000);
    expect(call?.jobId).to.equal(id);
    expect(call?.body).to.include({ function_id: FUNCTION_ID, input: '{"via": "keystone"}' });

    const [delCode, deleted] = await openstack(k.userA, 'job', 'delete', id);
    expect(delCode).to.equal(0);
    expect(deleted).to.contain(`Request to delete job ${id} has been accepted.`);
    const [goneCode, , goneErr] = await openstack(k.userA, 'job', 'show', id);
    expect(goneCode).to.not.equal(0);
    expect(goneErr).to.contain(`Job not found [id=${id}] (HTTP 404)`);
  });

  it('two projects cannot see each other’s jobs; the admin lists all projects', async function () {
    this.timeout(120_000);
    const k = ks as Keystone;
    const create = async (user: KeystoneUser, name: string) => {
      const [code, out, err] = await openstack(
        user,
        'job',
        'create',
        '--function',
        FUNCTION_ID,
        '--pattern',
        '0 0 1 1 *',
        '--name',
        name,
        '-f',
        'json',
      );
      expect(code, err).to.equal(0);
      return String(json<{ id: string }>(out).id);
    };
    const idA = await create(k.userA, 'of a');
    const idB = await create(k.userB, 'of b');

    const [, listedB] = await openstack(k.userB, 'job', 'list', '-f', 'json');
    expect(json<{ Id: string }[]>(listedB).map((j) => j.Id)).to.deep.equal([idB]);
    const [, listedA] = await openstack(k.userA, 'job', 'list', '-f', 'json');
    expect(json<{ Id: string }[]>(listedA).map((j) => j.Id)).to.deep.equal([idA]);
    const [code, , err] = await openstack(k.userB, 'job', 'show', idA);
    expect(code).to.not.equal(0);
    expect(err).to.contain(`Job not found [id=${idA}] (HTTP 404)`);
    const [delCode] = await openstack(k.userB, 'job', 'delete', idA);
    expect(delCode).to.not.equal(0);

    // The qinling client does not pass all_projects on, so the admin asks over REST.
    const admin = await k.issue(k.admin);
    const all = await get(admin, '/v1/jobs?all_projects=true');
    expect(all.status).to.equal(200);
    const jobs = (await all.json()) as { jobs: { id: string; project_id: string }[] };
    const projectOf = new Map(jobs.jobs.map((j) => [j.id, j.project_id]));
    expect(projectOf.get(idA)).to.equal(k.projectIds['proj-a']);
    expect(projectOf.get(idB)).to.equal(k.projectIds['proj-b']);
    const denied = await get(await k.issue(k.userA), '/v1/jobs?all_projects=true');
    expect(denied.status).to.equal(403);
  });

  it('a token revoked in Keystone stops working within the cache bound', async function () {
    this.timeout(120_000);
    const k = ks as Keystone;
    const token = await k.issue(k.userA);
    expect((await get(token, '/v1/jobs')).status).to.equal(200);
    await k.revoke(token);
    const refused = await eventually('the revoked token to be refused', 30_000, async () => {
      const r = await get(token, '/v1/jobs');
      return r.status === 401 ? r : undefined;
    });
    expect(refused.headers.get('www-authenticate')).to.equal(`Keystone uri="${k.url.replace(/\/v3$/, '')}"`);
    expect(await refused.json()).to.deep.equal({
      faultcode: 'Client',
      faultstring: 'The request you have made requires authentication.',
      debuginfo: null,
    });
    expect((await get('not-a-keystone-token', '/v1/jobs')).status).to.equal(401);
  });

  it('Keystone stopped: 503 with Retry-After; Keystone back: the same facade serves again', async function () {
    this.timeout(120_000);
    const k = ks as Keystone;
    const fresh = await k.issue(k.userA);
    const cached = await k.issue(k.userB);
    expect((await get(cached, '/v1/jobs')).status).to.equal(200);
    const pid = facade?.process.pid;

    await k.stop();
    const r = await get(fresh, '/v1/jobs');
    expect(r.status).to.equal(503);
    expect(r.headers.get('retry-after')).to.equal('5');
    expect(await r.json()).to.deep.equal({
      faultcode: 'Server',
      faultstring: 'The identity service is unavailable; try again shortly.',
      debuginfo: null,
    });
    // A token checked before the outage is trusted no longer than the cache bound.
    await eventually('the cached token to need Keystone again', 30_000, async () => {
      return (await get(cached, '/v1/jobs')).status === 503;
    });

    await k.start();
    await eventually('the facade to validate tokens again', 30_000, async () => {
      return (await get(fresh, '/v1/jobs')).status === 200;
    });
    expect((await get(cached, '/v1/jobs')).status).to.equal(200);
    const [code, out, err] = await openstack(k.userB, 'job', 'list', '-f', 'json');
    expect(code, err).to.equal(0);
    // user-b's one job, made in the journey before.
    expect(json<{ Name: string }[]>(out).map((j) => j.Name)).to.deep.equal(['of b']);
    expect(facade?.process.pid).to.equal(pid);
    expect(facade?.process.exitCode).to.equal(null);
  });
});
