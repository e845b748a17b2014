import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { mapPath } from './images.js';
import { materializeVolumes, mountMappings, type VolumeSources } from './volumes.js';

const sources: VolumeSources = {
  podIP: '10.244.0.7',
  token: () => Promise.resolve('the-pod-token'),
  secret: (_ns, name) =>
    Promise.resolve(name === 'tokens' ? { 'tokens.csv': 'a,b,c,d\n', x: 'y' } : undefined),
  configMap: (_ns, name) => Promise.resolve(name === 'cfg' ? { 'app.json': '{}' } : undefined),
};

const pod = (volumes: NonNullable<V1Pod['spec']>['volumes']): V1Pod => ({
  metadata: { namespace: 'ns' },
  spec: { containers: [], volumes },
});

describe('volumes: secret, configMap, emptyDir and projected volumes as directories', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'qj-vol-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every key of a secret and a configMap, and makes emptyDirs', async () => {
    const v = await materializeVolumes(
      pod([
        { name: 'tok', secret: { secretName: 'tokens', defaultMode: 0o400 } },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'tmp', emptyDir: {} },
      ]),
      sources,
      dir,
    );
    const tok = v.get('tok') ?? '';
    expect(readFileSync(join(tok, 'tokens.csv'), 'utf8')).to.equal('a,b,c,d\n');
    expect(statSync(join(tok, 'tokens.csv')).mode & 0o777).to.equal(0o400);
    expect(readFileSync(join(v.get('cfg') ?? '', 'app.json'), 'utf8')).to.equal('{}');
    expect(statSync(v.get('tmp') ?? '').isDirectory()).to.equal(true);
  });

  it('writes only the listed items, under their paths', async () => {
    const v = await materializeVolumes(
      pod([{ name: 'tok', secret: { secretName: 'tokens', items: [{ key: 'x', path: 'sub/renamed' }] } }]),
      sources,
      dir,
    );
    expect(readFileSync(join(v.get('tok') ?? '', 'sub/renamed'), 'utf8')).to.equal('y');
    expect(() => statSync(join(v.get('tok') ?? '', 'tokens.csv'))).to.throw();
  });

  it('waits for a missing secret unless it is optional', async () => {
    const missing = pod([{ name: 'tok', secret: { secretName: 'nope' } }]);
    await materializeVolumes(missing, sources, dir).then(
      () => expect.fail('a missing secret must stop the pod'),
      (err: Error) => expect(err.message).to.equal('secret "nope" not found'),
    );
    const optional = pod([{ name: 'tok', secret: { secretName: 'nope', optional: true } }]);
    expect((await materializeVolumes(optional, sources, dir)).has('tok')).to.equal(true);
  });

  it('refuses item paths that leave the volume and volume kinds it cannot provide', async () => {
    const escape = pod([
      { name: 't', secret: { secretName: 'tokens', items: [{ key: 'x', path: '../../x' }] } },
    ]);
    await materializeVolumes(escape, sources, dir).then(
      () => expect.fail('must refuse'),
      (err: Error) => expect(err.message).to.match(/escapes/),
    );
    const hostPath = pod([{ name: 'h', hostPath: { path: '/etc' } }]);
    await materializeVolumes(hostPath, sources, dir).then(
      () => expect.fail('must refuse'),
      (err: Error) => expect(err.message).to.match(/only secret, configMap, emptyDir and projected/),
    );
  });

  it('projects a ServiceAccount token, a CA bundle and the namespace, as the admission adds them', async () => {
    const v = await materializeVolumes(
      pod([
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 0o420,
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'cfg', items: [{ key: 'app.json', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
                },
              },
            ],
          },
        },
      ]),
      sources,
      dir,
    );
    const root = v.get('kube-api-access') ?? '';
    expect(readFileSync(join(root, 'token'), 'utf8')).to.equal('the-pod-token');
    expect(readFileSync(join(root, 'ca.crt'), 'utf8')).to.equal('{}');
    expect(readFileSync(join(root, 'namespace'), 'utf8')).to.equal('ns');
    expect(statSync(join(root, 'token')).mode & 0o777).to.equal(0o420);
  });

  it('rewrites mounted paths in values, after --flag= too, longest mount first', () => {
    const m = mountMappings(
      {
        name: 'c',
        volumeMounts: [
          { name: 'a', mountPath: '/etc/qj' },
          { name: 'b', mountPath: '/etc/qj/tokens/' },
        ],
      },
      new Map([
        ['a', '/host/a'],
        ['b', '/host/b'],
      ]),
    );
    expect(mapPath('/etc/qj/tokens/tokens.csv', m)).to.equal('/host/b/tokens.csv');
    expect(mapPath('/etc/qj/x', m)).to.equal('/host/a/x');
    expect(mapPath('--token-file=/etc/qj/tokens/t', m)).to.equal('--token-file=/host/b/t');
    expect(mapPath('/etc/qjx', m)).to.equal('/etc/qjx');
    expect(mapPath('plain', m)).to.equal('plain');
    expect(() =>
      mountMappings({ name: 'c', volumeMounts: [{ name: 'z', mountPath: '/z' }] }, new Map()),
    ).to.throw(/no such volume/);
  });
});
