// The objects a job owns, as the planner builds them: the function input is stored once, in the
// job's ConfigMap, and the CronJob and its runs carry only a reference to it and its hash.
import { expect } from 'chai';
import type { V1CronJob, V1EnvVar, V1Job } from '@kubernetes/client-node';
import { defaultPlannerConfig as cfg } from './config.js';
import { desiredCronJob, desiredInputConfigMap, escapeEnv, inputConfigMapName, runJob } from './children.js';
import type { QinlingJob, QinlingJobSpec } from './types.js';

const UID = '5b2a7c1e-1111-4222-8333-944455556666';

function job(spec: QinlingJobSpec, name = 'nightly'): QinlingJob {
  return {
    apiVersion: 'qinling.io/v1',
    kind: 'QinlingJob',
    metadata: { name, namespace: 'p1', uid: UID, generation: 1 },
    spec: { functionId: 'f-1', pattern: '* * * * *', ...spec },
  };
}

const cronJobOf = (j: QinlingJob): V1CronJob =>
  desiredCronJob(j, cfg, { suspend: false, timeZone: 'Etc/UTC' });
const runOf = (j: QinlingJob): V1Job =>
  runJob(j, { ...cronJobOf(j), metadata: { name: 'nightly', uid: 'cj-uid' } }, cfg, new Date(0));
const podAnnotations = (o: V1CronJob | V1Job) =>
  ('jobTemplate' in (o.spec ?? {}) ? (o as V1CronJob).spec?.jobTemplate.spec : (o as V1Job).spec)?.template
    .metadata?.annotations ?? {};
const inputEnv = (o: V1CronJob): V1EnvVar | undefined =>
  o.spec?.jobTemplate.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'QJ_FUNCTION_INPUT');

const inputs: [string, string][] = [
  ['JSON with quotes', '{"q": "it\'s \\"quoted\\"", "n": 1}'],
  ['$(VAR) references and $$ pairs', '$(QJ_RUNTIME_TOKEN) $(HOME) $$(x) $$$ `id` ; rm -rf /'],
  ['multi-byte UTF-8 and control characters', 'ünïcødé ✓ 漢字 🦄\n\ttab\r\nend\\'],
  ['64 KiB', 'x'.repeat(65_535) + '✓'],
];

describe('children: the function input is stored once, in a ConfigMap', () => {
  for (const [name, input] of inputs) {
    it(`${name}: the ConfigMap holds it byte for byte`, () => {
      const cm = desiredInputConfigMap(job({ functionInput: input }));
      // As sent to the apiserver: JSON.
      const sent = JSON.parse(JSON.stringify(cm)) as typeof cm;
      expect(Buffer.from(sent.data?.input ?? '', 'utf8').equals(Buffer.from(input, 'utf8'))).to.equal(true);
      expect(Object.keys(sent.data ?? {})).to.deep.equal(['input']);
    });
    it(`${name}: neither the CronJob nor an operator run contains it`, () => {
      const j = job({ functionInput: input });
      for (const o of [cronJobOf(j), runOf(j)]) {
        const text = JSON.stringify(o);
        expect(text).to.not.contain(JSON.stringify(input).slice(1, -1));
        expect(text).to.not.contain(JSON.stringify(escapeEnv(input)).slice(1, -1));
      }
    });
  }

  it('a job without input still has a ConfigMap, with an empty input', () => {
    expect(desiredInputConfigMap(job({})).data).to.deep.equal({ input: '' });
  });

  it('is named for the job, labelled, and owned by it (so garbage collection removes it)', () => {
    const cm = desiredInputConfigMap(job({ functionInput: 'x' }));
    expect(cm.metadata).to.deep.include({ name: 'nightly-input', namespace: 'p1' });
    expect(cm.metadata?.labels).to.include({
      'app.kubernetes.io/managed-by': 'qinling-jobs',
      'qinling.io/job-uid': UID,
    });
    expect(cm.metadata?.ownerReferences).to.deep.equal([
      { apiVersion: 'qinling.io/v1', kind: 'QinlingJob', name: 'nightly', uid: UID, controller: true },
    ]);
  });

  it('a 253-character job name gives a short, stable ConfigMap name', () => {
    const long = 'a'.repeat(253);
    const name = inputConfigMapName(long);
    expect(name).to.match(/^a+-[0-9a-f]{8}-input$/);
    expect(name.length).to.be.at.most(58);
    expect(inputConfigMapName(long)).to.equal(name);
    expect(inputConfigMapName(`${'a'.repeat(252)}b`)).to.not.equal(name);
  });

  it('the pods read it from the ConfigMap, and not optionally (a missing one must not run empty)', () => {
    const env = inputEnv(cronJobOf(job({ functionInput: 'x' })));
    expect(env).to.deep.equal({
      name: 'QJ_FUNCTION_INPUT',
      valueFrom: { configMapKeyRef: { name: 'nightly-input', key: 'input' } },
    });
  });
});

describe('children: the pod template carries the input hash, which changes iff the input does', () => {
  const hash = (spec: QinlingJobSpec) => podAnnotations(cronJobOf(job(spec)))['qinling.io/input-sha256'];
  const cases: [string, QinlingJobSpec, QinlingJobSpec, boolean][] = [
    ['the same input', { functionInput: 'a' }, { functionInput: 'a' }, false],
    [
      'the same input, another pattern and function',
      { functionInput: 'a' },
      { functionInput: 'a', pattern: '0 * * * *', functionId: 'f-2' },
      false,
    ],
    ['no input and an empty one', {}, { functionInput: '' }, false],
    ['one more space', { functionInput: 'a' }, { functionInput: 'a ' }, true],
    ['$ escaped or not', { functionInput: '$(A)' }, { functionInput: '$$(A)' }, true],
    ['a composed and a decomposed ü', { functionInput: '\u00fc' }, { functionInput: 'u\u0308' }, true],
    ['empty and some', {}, { functionInput: 'x' }, true],
  ];
  for (const [name, a, b, changes] of cases) {
    it(`${name}: ${changes ? 'changes' : 'stays'}`, () => {
      expect(hash(a)).to.match(/^[0-9a-f]{16}$/);
      expect(hash(a) !== hash(b)).to.equal(changes);
      const same =
        JSON.stringify(cronJobOf(job(a)).spec?.jobTemplate) ===
        JSON.stringify(cronJobOf(job(b)).spec?.jobTemplate);
      if (changes) expect(same).to.equal(false);
    });
  }

  it('an operator run records the hash beside its scheduled time', () => {
    const j = job({ functionInput: 'a' });
    expect(podAnnotations(runOf(j))).to.deep.equal({
      'qinling.io/input-sha256': podAnnotations(cronJobOf(j))['qinling.io/input-sha256'],
      'qinling.io/scheduled-time': '1970-01-01T00:00:00.000Z',
    });
  });
});

describe('children: other env values are still literal, with $ escaped', () => {
  it('escapes $ so the kubelet expansion gives the value back byte for byte', () => {
    expect(escapeEnv('a$(b)$$c')).to.equal('a$$(b)$$$$c');
  });
});

describe('children: a job that may retry (maxAttempts)', () => {
  const env = (o: V1CronJob) =>
    Object.fromEntries(
      (o.spec?.jobTemplate.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]),
    );
  it('its pods get the policy, and its Jobs the time every attempt and backoff can take', () => {
    const cj = cronJobOf(
      job({ maxAttempts: 3, minBackoffSeconds: 5, maxBackoffSeconds: 8, attemptDeadlineSeconds: 10 }),
    );
    expect(env(cj)).to.include({
      QJ_MAX_ATTEMPTS: '3',
      QJ_MIN_BACKOFF_SECONDS: '5',
      QJ_MAX_BACKOFF_SECONDS: '8',
      QJ_TIMEOUT_SECONDS: '10',
      QJ_TERMINATION_LOG: '/dev/termination-log',
    });
    expect(cj.spec?.jobTemplate.spec?.activeDeadlineSeconds).to.equal(3 * 10 + 5 + 8 + 60);
    expect(cj.spec?.jobTemplate.spec?.backoffLimit).to.equal(0); // the pod retries, not the Job
  });
  it('a job without one: a single attempt of the operator’s timeout, as before', () => {
    const cj = cronJobOf(job({}));
    expect(env(cj)).to.not.have.any.keys('QJ_MAX_ATTEMPTS', 'QJ_MIN_BACKOFF_SECONDS');
    expect(env(cj).QJ_TIMEOUT_SECONDS).to.equal(String(cfg.invokeTimeoutSeconds));
    expect(cj.spec?.jobTemplate.spec?.activeDeadlineSeconds).to.equal(cfg.invokeTimeoutSeconds + 60);
  });
});

describe('children: what the apiserver stores is what was written', () => {
  it('no env var has an empty value (stored as none, it would make every pass rewrite the CronJob)', () => {
    for (const spec of [{}, { functionAlias: 'prod', functionId: undefined }, { functionInput: '' }]) {
      const env = cronJobOf(job(spec)).spec?.jobTemplate.spec?.template.spec?.containers[0]?.env ?? [];
      for (const e of env) expect(e.value, e.name).to.not.equal('');
      expect(env.map((e) => e.name)).to.include('QJ_FUNCTION_ALIAS');
    }
  });
});
