import { expect } from 'chai';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ConfigError, containerEnv, fieldValue, type EnvSources } from './env.js';

const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'a' }, annotations: { note: 'n' } },
  spec: { nodeName: 'node', serviceAccountName: 'sa', containers: [] },
};
const sources: EnvSources = {
  secret: (_ns, name) => Promise.resolve(name === 's' ? { k: 'secret-value', dollar: '$(A)' } : undefined),
  configMap: (_ns, name) => Promise.resolve(name === 'c' ? { k: 'cm-value', other: 'o' } : undefined),
};
const envOf = (c: Partial<V1Container>) =>
  containerEnv(pod, { name: 'x', ...c }, '127.42.0.9', sources, { BASE: 'b' });

describe('env: container environment', () => {
  it('expands literals against earlier entries and keeps base entries', async () => {
    const env = await envOf({
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-$(BASE)-$(LATER)' },
        { name: 'LATER', value: 'l' },
      ],
    });
    expect(env).to.include({ BASE: 'b', A: 'a', B: 'a-b-$(LATER)', LATER: 'l' });
  });

  it('reads Secret and ConfigMap keys without expanding them', async () => {
    const env = await envOf({
      env: [
        { name: 'A', value: 'x' },
        { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'dollar' } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } },
      ],
    });
    expect(env).to.include({ S: '$(A)', C: 'cm-value' });
  });

  it('applies envFrom with a prefix before env', async () => {
    const env = await envOf({
      envFrom: [{ configMapRef: { name: 'c' }, prefix: 'CM_' }],
      env: [{ name: 'CM_k', value: 'override' }],
    });
    expect(env).to.include({ CM_k: 'override', CM_other: 'o' });
  });

  it('fails with a config error for a missing Secret, and skips an optional one', async () => {
    let err: unknown;
    try {
      await envOf({ env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 'missing', key: 'k' } } }] });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect(String(err)).to.contain('secret "missing" not found');
    const env = await envOf({
      env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } }],
    });
    expect(env).to.not.have.property('S');
  });

  it('a non-optional ConfigMap key (the function input): a missing ConfigMap or key fails the container', async () => {
    const input = '$(A) ünï\n';
    const withInput: EnvSources = {
      ...sources,
      configMap: (_ns, name) => Promise.resolve(name === 'job-input' ? { input } : undefined),
    };
    const ref = (name: string, key: string) => [
      { name: 'QJ_FUNCTION_INPUT', valueFrom: { configMapKeyRef: { name, key } } },
    ];
    const env = await containerEnv(
      pod,
      { name: 'x', env: [{ name: 'A', value: 'a' }, ...ref('job-input', 'input')] },
      '',
      withInput,
      {},
    );
    expect(env.QJ_FUNCTION_INPUT).to.equal(input);
    for (const [name, key, message] of [
      ['gone-input', 'input', 'configmap "gone-input" not found'],
      ['job-input', 'other', "couldn't find key other in ConfigMap ns/job-input"],
    ] as const) {
      const err = await containerEnv(pod, { name: 'x', env: ref(name, key) }, '', withInput, {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).reason).to.equal('CreateContainerConfigError');
      expect(String(err)).to.contain(message);
    }
  });

  it('fails for a missing key', async () => {
    let err: unknown;
    try {
      await envOf({ env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'nope' } } }] });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain("couldn't find key nope");
  });

  const fields: [string, string][] = [
    ['metadata.name', 'p'],
    ['metadata.namespace', 'ns'],
    ['metadata.uid', 'u-1'],
    ["metadata.labels['app']", 'a'],
    ["metadata.annotations['note']", 'n'],
    ['metadata.labels', 'app="a"'],
    ['spec.nodeName', 'node'],
    ['spec.serviceAccountName', 'sa'],
    ['status.podIP', '127.42.0.9'],
  ];
  for (const [path, want] of fields)
    it(`fieldRef ${path}`, () => expect(fieldValue(pod, '127.42.0.9', path)).to.equal(want));
  it('refuses an unknown fieldRef', () =>
    expect(() => fieldValue(pod, '', 'spec.bogus')).to.throw(ConfigError));
});
