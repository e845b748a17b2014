// A real OpenStack Keystone for the journeys and the benchmark: Debian's python3-keystone on
// uWSGI, on loopback, with SQLite and fernet tokens, all its state in one temporary directory.
// Recipe and pitfalls: /work/shared/docs/keystone.md. Passwords are made per run and written
// only to files of mode 600; the openstack CLI runs with an empty HOME (no clouds.yaml).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '../cluster/process.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';

export interface KeystoneUser {
  name: string;
  project: string;
  password: string;
  /** The password alone, mode 600, for the facade's --keystone-password-file. */
  passwordFile: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function conf(dir: string): string {
  return `[DEFAULT]
log_dir = ${dir}/log
log_file = keystone.log
use_stderr = false

[database]
connection = sqlite:///${dir}/keystone.db

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = ${dir}/fernet-keys
max_active_keys = 3

[fernet_receipts]
key_repository = ${dir}/fernet-keys

[credential]
key_repository = ${dir}/credential-keys

[identity]
# bcrypt cost 4: about 1 ms per password check instead of 200 ms; these are throwaway users
password_hash_rounds = 4

[cache]
# one uWSGI process, so one memory cache: a revocation is seen at once
enabled = true
backend = dogpile.cache.memory
`;
}

function uwsgiIni(dir: string, port: number): string {
  // threads/processes 1: SQLite and the per-process cache (see the recipe's pitfalls);
  // Connection: close because http-socket never keeps a connection alive but does not say so.
  return `[uwsgi]
plugins = python3
http-socket = 127.0.0.1:${port}
wsgi-file = /usr/bin/keystone-wsgi-public
env = OS_KEYSTONE_CONFIG_FILES=${dir}/keystone.conf
chdir = ${dir}
master = true
processes = 1
threads = 1
lazy-apps = true
need-app = true
die-on-term = true
skip-atexit-teardown = true
buffer-size = 65535
add-header = Connection: close
logto = ${dir}/log/uwsgi.log
`;
}

export class Keystone {
  readonly url: string;
  readonly admin: KeystoneUser;
  readonly userA: KeystoneUser;
  readonly userB: KeystoneUser;
  /** The facade's service user (role `service` on project `service`). */
  readonly service: KeystoneUser;
  /** Project ids by name, known after `populate`. */
  readonly projectIds: Record<string, string> = {};
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}/v3`;
    const user = (name: string, project: string): KeystoneUser => {
      const password = randomBytes(16).toString('hex');
      const passwordFile = join(dir, 'secrets', name);
      writeFileSync(passwordFile, password, { mode: 0o600 });
      return { name, project, password, passwordFile };
    };
    this.admin = user('admin', 'admin');
    this.userA = user('user-a', 'proj-a');
    this.userB = user('user-b', 'proj-b');
    this.service = user('qinling', 'service');
  }

  /** Configures, initialises and starts a new Keystone (about 10 s); `populate` adds the rest. */
  static async create(): Promise<Keystone> {
    const dir = mkdtempSync(join(tmpdir(), 'qj-keystone-'));
    for (const d of ['log', 'secrets', 'fernet-keys', 'credential-keys', 'home'])
      mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
    const ks = new Keystone(dir, await freePort());
    writeFileSync(join(dir, 'keystone.conf'), conf(dir), { mode: 0o600 });
    writeFileSync(join(dir, 'uwsgi.ini'), uwsgiIni(dir, ks.port), { mode: 0o600 });
    try {
      await ks.initialise();
      await ks.start();
    } catch (err) {
      await ks.destroy();
      throw err;
    }
    return ks;
  }

  private manage(...args: string[]) {
    return run('/usr/bin/keystone-manage', ['--config-file', join(this.dir, 'keystone.conf'), ...args], {
      env: { PATH: '/usr/bin:/bin', HOME: join(this.dir, 'home') },
    });
  }

  private async initialise(): Promise<void> {
    const owner = [
      '--keystone-user',
      String(process.getuid?.()),
      '--keystone-group',
      String(process.getgid?.()),
    ];
    const db = join(this.dir, 'keystone.db');
    // The key setups touch no database, so they run beside db_sync.
    await Promise.all([
      this.manage('db_sync').then(() =>
        // WAL: with the default journal, reads Keystone leaves open block writes ("database is locked").
        run(PY, [
          '-c',
          'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")',
          db,
        ]),
      ),
      this.manage('fernet_setup', ...owner),
      this.manage('credential_setup', ...owner),
    ]);
    // The password goes through the environment, not argv (keystone-manage reads OS_BOOTSTRAP_PASSWORD).
    await run(
      '/usr/bin/keystone-manage',
      [
        '--config-file',
        join(this.dir, 'keystone.conf'),
        'bootstrap',
        '--bootstrap-username',
        'admin',
        '--bootstrap-project-name',
        'admin',
        '--bootstrap-role-name',
        'admin',
        '--bootstrap-service-name',
        'keystone',
        '--bootstrap-region-id',
        'RegionOne',
        '--bootstrap-public-url',
        this.url,
        '--bootstrap-internal-url',
        this.url,
        '--bootstrap-admin-url',
        this.url,
      ],
      {
        env: {
          PATH: '/usr/bin:/bin',
          HOME: join(this.dir, 'home'),
          OS_BOOTSTRAP_PASSWORD: this.admin.password,
        },
      },
    );
  }

  /** Starts uWSGI on the same directory and port (same data) and waits for GET /v3. */
  async start(): Promise<void> {
    if (this.child) return;
    await this.portFree();
    const child = spawn('/usr/bin/uwsgi-core', ['--ini', join(this.dir, 'uwsgi.ini')], {
      stdio: ['ignore', 'ignore', openSync(join(this.dir, 'log', 'uwsgi-start.log'), 'a')],
      env: { PATH: '/usr/bin:/bin', HOME: join(this.dir, 'home') },
    });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    process.once('exit', this.killOnExit);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`uWSGI exited at start; see ${this.dir}/log/uwsgi.log`);
      const ok = await fetch(this.url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`Keystone did not answer on ${this.url} within 30 s`);
      await sleep(200);
    }
  }

  /** Stops uWSGI (master and worker) and waits until the port is free. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.exited;
    this.child = undefined;
    process.removeListener('exit', this.killOnExit);
    await this.portFree();
  }

  private async portFree(): Promise<void> {
    await waitFor(`Keystone to let go of ${this.url}`, 15_000, async () => {
      const answers = await fetch(this.url, { signal: AbortSignal.timeout(1000) }).then(
        () => true,
        () => false,
      );
      return !answers;
    });
  }

  /** Stops Keystone and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Projects proj-a, proj-b and service, one user each (member; the service user: role
   * `service`), and the facade in the catalog as `function-engine` at `facadeUrl`. One openstack
   * process reads every command from stdin (about 3 s, against 1.5 s per command otherwise).
   */
  async populate(facadeUrl: string): Promise<void> {
    const [a, b, s] = [this.userA, this.userB, this.service];
    const lines = [
      'project create --domain Default proj-a -f value -c id',
      'project create --domain Default proj-b -f value -c id',
      'project create --domain Default service -f value -c id',
      'project show admin -f value -c id',
      'role create service -f value -c id',
      `user create --domain Default --project proj-a --password ${a.password} user-a -f value -c id`,
      `user create --domain Default --project proj-b --password ${b.password} user-b -f value -c id`,
      `user create --domain Default --project service --password ${s.password} qinling -f value -c id`,
      'role add --user user-a --user-domain Default --project proj-a --project-domain Default member',
      'role add --user user-b --user-domain Default --project proj-b --project-domain Default member',
      'role add --user qinling --user-domain Default --project service --project-domain Default service',
      'service create --name qinling function-engine -f value -c id',
      `endpoint create --region RegionOne function-engine public ${facadeUrl} -f value -c id`,
    ];
    const out = await this.adminCli(lines.join('\n') + '\n');
    const ids = out.split('\n').filter((l) => /^[0-9a-f]{32}$/.test(l.trim()));
    const want = lines.filter((l) => l.includes('-c id')).length;
    if (ids.length !== want) throw new Error(`Keystone setup printed ${ids.length} of ${want} ids`);
    ['proj-a', 'proj-b', 'service', 'admin'].forEach((name, i) => (this.projectIds[name] = ids[i] ?? ''));
  }

  /** Runs commands in one `openstack` process as Keystone's admin; fails on any error output. */
  private adminCli(stdin: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/openstack', [], {
        env: {
          PATH: '/usr/bin:/bin',
          HOME: join(this.dir, 'home'),
          OS_AUTH_URL: this.url,
          OS_IDENTITY_API_VERSION: '3',
          OS_USERNAME: 'admin',
          OS_PASSWORD: this.admin.password,
          OS_PROJECT_NAME: 'admin',
          OS_USER_DOMAIN_NAME: 'Default',
          OS_PROJECT_DOMAIN_NAME: 'Default',
          OS_REGION_NAME: 'RegionOne',
          OS_INTERFACE: 'public',
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        // Interactive mode exits 0 even when a command failed; its complaints go to stderr.
        if (code !== 0 || err.trim() !== '') reject(new Error(`openstack (exit ${code}): ${err.trim()}`));
        else resolve(out);
      });
      child.stdin.end(stdin);
    });
  }

  /** A project-scoped token for `user` (POST /v3/auth/tokens with its password). */
  async issue(user: KeystoneUser): Promise<string> {
    const res = await fetch(`${this.url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: user.name, domain: { name: 'Default' }, password: user.password } },
          },
          scope: { project: { name: user.project, domain: { name: 'Default' } } },
        },
      }),
    });
    await res.text();
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token)
      throw new Error(`token for ${user.name}: Keystone answered ${res.status}`);
    return token;
  }

  /** Revokes `token` in Keystone, as its own user does (DELETE /v3/auth/tokens). */
  async revoke(token: string): Promise<void> {
    const res = await fetch(`${this.url}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    });
    await res.text();
    if (res.status !== 204) throw new Error(`revoke: Keystone answered ${res.status}`);
  }
}
