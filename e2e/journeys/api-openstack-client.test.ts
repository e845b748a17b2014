// The real OpenStack client (Debian's python3-qinlingclient with python3-openstackclient) against
// the facade: the `openstack job` CLI as users type it, and the Python API as scripts use it,
// including how errors are shown.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testNamespace } from './support.js';
import { labelProject, startFacade, type Facade } from './facade.js';
import { FUNCTION_ID } from './operator.js';

const run = promisify(execFile);

describe('journey: the real OpenStack client against the facade', function () {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let facade: Facade | undefined;
  let url = '';
  const project = `proj-${Math.random().toString(36).slice(2, 8)}`;

  before(async function () {
    this.timeout(120_000);
    ns = await testNamespace('api-client');
    await labelProject(ns.name, project);
    facade = await startFacade(ns.name, `tok-cli,carol,${project},member\n`);
    url = facade.url;
  });
  after(async () => {
    facade?.stop();
    await ns?.remove();
  });

  /** `openstack …` as a user runs it; resolves to [exit code, stdout, stderr]. */
  async function openstack(token: string, ...args: string[]): Promise<[number, string, string]> {
    const auth = [
      '--os-auth-type',
      'admin_token',
      '--os-token',
      token,
      '--os-endpoint',
      url,
      '--qinling-url',
      url,
    ];
    try {
      const { stdout, stderr } = await run('/usr/bin/openstack', [...auth, ...args], {
        env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
      });
      return [0, stdout, stderr];
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return [e.code, e.stdout, e.stderr];
    }
  }

  it('openstack job create, list, show, update and delete', async function () {
    this.timeout(120_000);
    const input = `{"msg": "it's \\"quoted\\" $(not run)"}`;
    const [code, out] = await openstack(
      'tok-cli',
      'job',
      'create',
      '--function',
      FUNCTION_ID,
      '--pattern',
      '*/5 * * * *',
      '--count',
      '3',
      '--name',
      'from the cli',
      '--function-input',
      input,
      '-f',
      'json',
    );
    expect(code).to.equal(0);
    const job = JSON.parse(out) as Record<string, unknown>;
    expect(job).to.include({
      name: 'from the cli',
      count: 3,
      status: 'running',
      pattern: '*/5 * * * *',
      function_input: input,
      project_id: project,
      updated_at: null,
    });
    expect(job.first_execution_time).to.equal(job.next_execution_time);
    const id = String(job.id);

    const [, listed] = await openstack('tok-cli', 'job', 'list', '-f', 'json');
    expect((JSON.parse(listed) as { Id: string }[]).map((j) => j.Id)).to.deep.equal([id]);
    const [, shown] = await openstack('tok-cli', 'job', 'show', id, '-f', 'json');
    expect(JSON.parse(shown)).to.deep.equal(job);

    const [upCode, updated] = await openstack(
      'tok-cli',
      'job',
      'update',
      id,
      '--status',
      'paused',
      '--name',
      'renamed',
      '-f',
      'json',
    );
    expect(upCode).to.equal(0);
    expect(JSON.parse(updated)).to.include({ status: 'paused', name: 'renamed' });
    expect((JSON.parse(updated) as { updated_at: string }).updated_at).to.match(/Z$/);

    const [delCode, deleted] = await openstack('tok-cli', 'job', 'delete', id);
    expect(delCode).to.equal(0);
    expect(deleted).to.contain(`Request to delete job ${id} has been accepted.`);
    const [goneCode, , goneErr] = await openstack('tok-cli', 'job', 'show', id);
    expect(goneCode).to.not.equal(0);
    expect(goneErr).to.contain(`Job not found [id=${id}] (HTTP 404)`);
  });

  it('shows the facade’s error messages to the user', async function () {
    this.timeout(120_000);
    const cases: [string[], string][] = [
      [
        ['job', 'create', '--function', FUNCTION_ID],
        'pattern or first_execution_time must be specified. (HTTP 400)',
      ],
      [
        ['job', 'create', '--function', FUNCTION_ID, '--pattern', '0 0 30 2 *'],
        'The specified pattern is not valid: 0 0 30 2 * (HTTP 400)',
      ],
      [
        ['job', 'create', '--function', FUNCTION_ID, '--first-execution-time', '2020-01-01 00:00:00'],
        'Execution time must be at least 1 minute in the future. (HTTP 400)',
      ],
      [
        [
          'job',
          'create',
          '--function',
          FUNCTION_ID,
          '--first-execution-time',
          '2099-01-01 00:00:00',
          '--count',
          '2',
        ],
        'pattern must be provided if count is greater than 1. (HTTP 400)',
      ],
    ];
    for (const [args, message] of cases) {
      const [code, , err] = await openstack('tok-cli', ...args);
      expect(code, args.join(' ')).to.not.equal(0);
      expect(err).to.contain(message);
    }
    const [code, , err] = await openstack('not-a-token', 'job', 'list');
    expect(code).to.not.equal(0);
    expect(err).to.contain('The request you have made requires authentication. (HTTP 401)');
  });

  it('the Python API with a keystoneauth1 token session', async function () {
    this.timeout(120_000);
    const script = `
import json, sys
from keystoneauth1 import session
from keystoneauth1.token_endpoint import Token
from qinlingclient.v1 import client
url, token, fid = sys.argv[1:4]
c = client.Client(url, session=session.Session(auth=Token(url, token)))
j = c.jobs.create(function_id=fid, first_execution_time='2099-01-01 10:00:00', function_input='py', name='from python')
got = c.jobs.get(j.id)
listed = [x.id for x in c.jobs.list()]
c.jobs.update(j.id, status='paused')
after = c.jobs.get(j.id)
c.jobs.delete(j.id)
print(json.dumps({'created': j.to_dict(), 'got': got.to_dict(), 'listed': listed, 'status': after.status}))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, url, 'tok-cli', FUNCTION_ID]);
    const r = JSON.parse(stdout) as {
      created: Record<string, unknown>;
      got: Record<string, unknown>;
      listed: string[];
      status: string;
    };
    expect(r.created).to.include({
      name: 'from python',
      count: 1,
      function_input: 'py',
      first_execution_time: '2099-01-01T10:00:00Z',
      next_execution_time: '2099-01-01T10:00:00Z',
    });
    expect(r.got).to.deep.equal(r.created);
    expect(r.listed).to.include(r.created.id);
    expect(r.status).to.equal('paused');
  });
});
