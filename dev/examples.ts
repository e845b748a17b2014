// What `make run` prints once everything is up: commands that work as printed (copy-paste), each
// on one line so a journey can run exactly what a newcomer reads.

export const DEMO_FUNCTION_ID = '0d3f7a52-6c1e-4b8a-9e21-5a7c3d9b1e04';
export const EXAMPLES_BEGIN = '---------------------------------- try it ----------------------------------';
export const EXAMPLES_END = '----------------------------------------------------------------------------';

export interface ExampleParams {
  apiUrl: string;
  /** Static tokens from the development token file; none in keystone mode. */
  tokens?: { member: string; admin: string };
  project: string;
  namespace: string;
  /** kubectl as this machine runs it (the local cluster's own binary when there is one). */
  kubectl: string;
  kubeconfig: string;
}

/** A word for a POSIX shell: single-quoted unless it is plainly safe. */
export function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function examples(p: ExampleParams): string[] {
  const body = JSON.stringify({
    name: 'every-minute',
    function_id: DEMO_FUNCTION_ID,
    pattern: '* * * * *',
    function_input: 'hello from make run',
  });
  // Static mode: the token itself. Keystone mode: a token the user's own OS_* credentials get.
  const token = p.tokens ? p.tokens.member : '$TOKEN';
  const auth = p.tokens ? `-H ${sh(`X-Auth-Token: ${token}`)}` : '-H "X-Auth-Token: $TOKEN"';
  const openstackAuth = p.tokens
    ? `--os-auth-type admin_token --os-token ${sh(token)} --os-endpoint ${sh(p.apiUrl)} `
    : '';
  const openstack = [
    `openstack ${openstackAuth}--qinling-url ${sh(p.apiUrl)}`,
    `job create --function ${DEMO_FUNCTION_ID} --pattern ${sh('*/2 * * * *')} --name from-openstack`,
    `--function-input ${sh('hello from the openstack client')}`,
  ].join(' ');
  const tokenLines = p.tokens
    ? [`# Tokens: member of "${p.project}" ${p.tokens.member}; admin (sees every project) ${p.tokens.admin}`]
    : [
        `# Keystone tokens: with your OS_* variables set for a user with a role on project ${p.project}:`,
        'TOKEN=$(openstack token issue -f value -c id)',
      ];
  return [
    EXAMPLES_BEGIN,
    ...(p.tokens ? [] : tokenLines),
    `# Create a job that runs every minute (project "${p.project}"):`,
    `curl -sS ${auth} -H 'Content-Type: application/json' ${sh(`${p.apiUrl}/v1/jobs`)} -d ${sh(body)}`,
    '# List the project’s jobs:',
    `curl -sS ${auth} ${sh(`${p.apiUrl}/v1/jobs`)}`,
    '# The same API through the OpenStack client (python3-qinlingclient):',
    openstack,
    '# The QinlingJobs, CronJobs and Jobs behind them:',
    `${sh(p.kubectl)} --kubeconfig ${sh(p.kubeconfig)} get qjob,cronjob,jobs -n ${sh(p.namespace)}`,
    ...(p.tokens ? tokenLines : []),
    '# Each run of a job shows up below as a [runtime] line, at the minute it is scheduled for.',
    EXAMPLES_END,
  ];
}
