import { expect } from 'chai';
import * as c from './components.js';

describe('cluster components', () => {
  const l = c.layout('/x/.cluster');
  const ports = { etcdClient: 2001, etcdPeer: 2002, apiserver: 6443 };

  it('binds every listener to loopback', () => {
    const args = [...c.etcd(l, ports).args, ...c.apiserver(l, ports).args];
    const urls = args.filter((a) => /(listen|advertise)-.*urls=|bind-address|advertise-address/.test(a));
    expect(urls).to.not.be.empty;
    for (const a of urls) if (!a.endsWith('=')) expect(a).to.match(/127\.0\.0\.1/);
  });

  it('runs the apiserver with RBAC, token auth and ServiceAccount token signing', () => {
    const args = c.apiserver(l, ports).args;
    expect(args).to.include('--authorization-mode=RBAC');
    expect(args).to.include('--token-auth-file=/x/.cluster/pki/tokens.csv');
    expect(args).to.include('--service-account-signing-key-file=/x/.cluster/pki/sa.key');
    expect(args).to.include('--secure-port=6443');
  });

  it('runs every controller the product and its tests rely on', () => {
    const flag = c.controllerManager(l).args.find((a) => a.startsWith('--controllers='));
    const names = flag?.split('=')[1]?.split(',') ?? [];
    for (const n of [
      'cronjob',
      'job',
      'garbage-collector',
      'namespace',
      'serviceaccount',
      'serviceaccount-token',
      'deployment',
      'replicaset',
      'endpointslice',
    ]) {
      expect(names).to.include(`${n}-controller`);
    }
  });

  it('runs the real kube-scheduler as the one instance, serving nothing', () => {
    const spec = c.scheduler(l);
    expect(spec.command).to.equal('/x/.cluster/bin/kube-scheduler');
    expect(spec.args).to.include.members([
      '--kubeconfig=/x/.cluster/kubeconfig',
      '--leader-elect=false',
      '--secure-port=0',
    ]);
  });

  it('writes a kubeconfig that kubectl, helm and client-node read', () => {
    const cfg = JSON.parse(c.adminKubeconfig('https://127.0.0.1:6443', '/ca.crt', 'tok')) as Record<
      string,
      unknown
    >;
    expect(cfg).to.deep.include({ apiVersion: 'v1', kind: 'Config', 'current-context': 'local' });
    expect(cfg.users).to.deep.equal([{ name: 'local-admin', user: { token: 'tok' } }]);
    expect(cfg.clusters).to.deep.equal([
      { name: 'local', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': '/ca.crt' } },
    ]);
  });
});
