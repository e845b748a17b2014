import { expect } from 'chai';
import { apiOptions, runApi } from './main.js';
import { readOptions, usage } from '../lib/options.js';

/** runApi up to its option checks (which come before any I/O), with what it printed. */
async function api(args: string[], env: Record<string, string> = {}) {
  const printed: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => printed.push(a.join(' '));
  try {
    return { status: await runApi(args, env), stderr: printed.join('\n') };
  } finally {
    console.error = orig;
  }
}

describe('qinling-jobs api options (keystone)', () => {
  const cases: { name: string; args: string[]; message: string }[] = [
    { name: 'no Keystone URL', args: ['--auth=keystone'], message: '--keystone-url is required' },
    {
      name: 'no password file nor password env',
      args: ['--auth=keystone', '--keystone-url=http://127.0.0.1:1/v3'],
      message: '--keystone-password-file or QJ_KEYSTONE_PASSWORD is required',
    },
    {
      name: 'a password given as a flag (there is none: ps would show it)',
      args: ['--auth=keystone', '--keystone-url=http://127.0.0.1:1/v3', '--keystone-password=x'],
      message: 'unknown option --keystone-password',
    },
    {
      name: 'a TLS certificate without its key',
      args: ['--tls-cert-file=/tmp/tls.crt'],
      message: '--tls-cert-file and --tls-key-file go together',
    },
    {
      name: 'a public URL that is not one',
      args: ['--public-url=evil.example'],
      message: '--public-url: must be an http(s) URL',
    },
    {
      name: 'a negative cache bound',
      args: ['--auth=keystone', '--keystone-cache-seconds=-1'],
      message: '--keystone-cache-seconds: must be an integer from 0 to 86400',
    },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name} with exit code 2`, async () => {
      const r = await api(tc.args);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.contain(tc.message);
    });
  }

  it('lists the keystone options in the usage, with their environment variables', () => {
    const out = usage('api', apiOptions);
    for (const env of ['QJ_KEYSTONE_URL', 'QJ_KEYSTONE_PASSWORD_FILE', 'QJ_KEYSTONE_CACHE_SECONDS'])
      expect(out).to.contain(env);
    expect(out).to.contain('keystone (Keystone v3)');
  });
});

describe('qinling-jobs api options (limits on unauthenticated work)', () => {
  const cases: {
    name: string;
    args: string[];
    env?: Record<string, string>;
    want: Record<string, number>;
  }[] = [
    {
      name: 'the defaults',
      args: [],
      want: {
        'auth-failure-rate': 10,
        'auth-failure-burst': 20,
        'auth-in-flight': 16,
        'request-timeout-seconds': 30,
      },
    },
    {
      name: 'flags',
      args: ['--auth-failure-rate=0', '--auth-in-flight=4', '--request-timeout-seconds=5'],
      want: { 'auth-failure-rate': 0, 'auth-in-flight': 4, 'request-timeout-seconds': 5 },
    },
    {
      name: 'the environment',
      args: [],
      env: { QJ_API_AUTH_FAILURE_BURST: '5', QJ_API_REQUEST_TIMEOUT_SECONDS: '60' },
      want: { 'auth-failure-burst': 5, 'request-timeout-seconds': 60 },
    },
  ];
  for (const tc of cases) {
    it(`reads ${tc.name}`, () => {
      expect(readOptions(apiOptions, tc.args, tc.env ?? {})).to.include(tc.want);
    });
  }
});
