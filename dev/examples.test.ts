import { expect } from 'chai';
import { DEMO_FUNCTION_ID, EXAMPLES_BEGIN, EXAMPLES_END, examples, sh } from './examples.js';

const base = {
  apiUrl: 'http://127.0.0.1:7070',
  project: 'demo',
  namespace: 'qinling-demo',
  kubectl: '/repo/.cluster/bin/kubectl',
  kubeconfig: '/repo/.cluster/kubeconfig',
};

describe('examples: what make run prints', () => {
  it('quotes words for a POSIX shell only when needed', () => {
    expect(sh('http://127.0.0.1:7070/v1/jobs')).to.equal('http://127.0.0.1:7070/v1/jobs');
    expect(sh('*/2 * * * *')).to.equal("'*/2 * * * *'");
    expect(sh("it's")).to.equal("'it'\\''s'");
  });

  it('static tokens: the member token in curl and in the openstack admin_token flags', () => {
    const lines = examples({ ...base, tokens: { member: 'tok-m', admin: 'tok-a' } });
    expect(lines[0]).to.equal(EXAMPLES_BEGIN);
    expect(lines.at(-1)).to.equal(EXAMPLES_END);
    const text = lines.join('\n');
    expect(text).to.contain("curl -sS -H 'X-Auth-Token: tok-m' -H 'Content-Type: application/json'");
    expect(text).to.contain(
      `openstack --os-auth-type admin_token --os-token tok-m --os-endpoint http://127.0.0.1:7070 --qinling-url http://127.0.0.1:7070 job create --function ${DEMO_FUNCTION_ID}`,
    );
    expect(text).to.contain('admin (sees every project) tok-a');
    expect(text).to.not.contain('$TOKEN');
  });

  it('keystone: a token from the user’s own credentials, used by curl and the openstack client', () => {
    const text = examples(base).join('\n');
    expect(text).to.contain('TOKEN=$(openstack token issue -f value -c id)');
    expect(text).to.contain('curl -sS -H "X-Auth-Token: $TOKEN"');
    expect(text).to.contain(
      `openstack --qinling-url http://127.0.0.1:7070 job create --function ${DEMO_FUNCTION_ID}`,
    );
    expect(text).to.not.contain('admin_token');
    expect(text.indexOf('openstack token issue')).to.be.lessThan(text.indexOf('curl'));
  });
});
