// The CRD states the same rules as domain/rules.ts, which the REST facade compiles with Ajv:
// every spec field with exactly its constraint keywords, and every CEL rule with a message of
// MESSAGES. So kubectl users and REST clients are refused the same values, with the same words.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { validate } from '../domain/planner.js';
import { FIELDS, MESSAGES } from '../domain/rules.js';
import type {
  Condition,
  HandledRunRequest,
  LastExecution,
  QinlingJob,
  QinlingJobStatus,
  RunRecord,
} from '../domain/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Property extends Record<string, unknown> {
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}
interface StatusSchema {
  properties: Record<
    string,
    { properties?: Record<string, unknown>; items?: { properties?: Record<string, unknown> } }
  >;
}
interface SpecSchema {
  properties: Record<string, Property>;
  'x-kubernetes-validations': { rule: string; message: string }[];
}

const crd = parse(readFileSync(join(root, 'crds/qinlingjob.yaml'), 'utf8')) as {
  spec: {
    versions: { schema: { openAPIV3Schema: { properties: { spec: SpecSchema; status: StatusSchema } } } }[];
  };
};
const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec;
const status = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.status;

// Every field the operator can write, by the types themselves (Required: a new field must be
// named here, or this does not compile). A field the schema lacks is pruned by the apiserver.
const t = '2026-11-27T12:00:00Z';
const lastExecution: Required<LastExecution> = {
  scheduledTime: t,
  jobName: 'j',
  result: 'Succeeded',
  startTime: t,
  completionTime: t,
  message: 'm',
};
const condition: Required<Condition> = {
  type: 'Valid',
  status: 'True',
  reason: 'r',
  message: 'm',
  lastTransitionTime: t,
  observedGeneration: 1,
};
const handled: Required<HandledRunRequest> = {
  id: 'r',
  acceptedAt: t,
  requestedBy: 'u',
  jobName: 'j',
  started: true,
  refused: 'x',
};
const record: Required<RunRecord> = {
  scheduledTime: t,
  trigger: 'manual',
  attempt: 1,
  result: 'Failed',
  jobName: 'j',
  runRequest: 'r',
  requestedBy: 'u',
  startTime: t,
  completionTime: t,
  httpStatus: 503,
  message: 'm',
  attempts: [{ attempt: 1, startTime: t, httpStatus: 503, message: 'm' }],
};
const fullStatus: Required<QinlingJobStatus> = {
  phase: 'Running',
  firstExecutionTime: t,
  nextExecutionTime: t,
  nextRunByOperator: true,
  upcoming: [t],
  runRequests: [handled],
  recentRuns: [record],
  succeeded: 1,
  failed: 1,
  consecutiveFailures: 1,
  lastSuccessTime: t,
  lastFailureTime: t,
  appliedNextExecutionTime: t,
  executions: 1,
  remaining: 1,
  lastScheduledTime: t,
  countedTimes: [t],
  claimedTimes: [t],
  catchupTimes: [t],
  autoPaused: { at: t, failures: 3, applied: true },
  failureStreakBase: 1,
  deadLetters: [{ run: t, jobName: 'j-d1', started: true }],
  scheduledWith: {
    pattern: '* * * * *',
    timeZone: 'Etc/UTC',
    jitterSeconds: 5,
    startTime: t,
    endTime: t,
  },
  missedRuns: 1,
  recentMisses: [t],
  lastExecution,
  conditions: [condition],
  observedGeneration: 1,
  cronJobName: 'c',
};
const CONSTRAINTS = ['type', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'maxItems', 'enum'];

describe('crd: the schema says what domain/rules.ts says', () => {
  it('has exactly the spec fields rules.ts knows', () => {
    expect(Object.keys(spec?.properties ?? {}).sort()).to.deep.equal(FIELDS.map((f) => f.crd).sort());
  });

  for (const f of FIELDS) {
    it(`${f.crd}: the same constraint keywords and values`, () => {
      const p = spec?.properties[f.crd] ?? {};
      const stated = Object.fromEntries(CONSTRAINTS.filter((k) => k in p).map((k) => [k, p[k]]));
      expect(stated).to.deep.equal(f.schema);
    });
  }

  it('every CEL rule says one of the messages rules.ts gives', () => {
    const cel = [
      ...(spec?.['x-kubernetes-validations'] ?? []),
      ...Object.values(spec?.properties ?? {}).flatMap((p) => p['x-kubernetes-validations'] ?? []),
    ];
    expect(cel).to.have.length.greaterThan(0);
    const messages: string[] = Object.values(MESSAGES);
    for (const r of cel) expect(messages, r.rule).to.include(r.message);
  });

  it('the rules across fields carry the REST API messages (Qinling texts)', () => {
    const byRule = Object.fromEntries(
      (spec?.['x-kubernetes-validations'] ?? []).map((r) => [r.rule, r.message]),
    );
    expect(byRule).to.include({
      'has(self.functionId) || has(self.functionAlias)': MESSAGES.functionRequired,
      'has(self.pattern) || has(self.firstExecutionTime)': MESSAGES.whenRequired,
      '!has(self.count) || self.count <= 1 || has(self.pattern)': MESSAGES.countNeedsPattern,
      'has(self.pattern) == has(oldSelf.pattern)': MESSAGES.jobType,
    });
  });

  it('the status schema holds every field the operator writes, nested ones too (none is pruned)', () => {
    const props = status?.properties ?? {};
    expect(Object.keys(props).sort()).to.deep.equal(Object.keys(fullStatus).sort());
    for (const [key, value] of Object.entries(fullStatus)) {
      const item: unknown = Array.isArray(value) ? value[0] : value;
      if (typeof item !== 'object' || item === null) continue;
      const schema = props[key];
      const inner = Array.isArray(value) ? schema?.items?.properties : schema?.properties;
      expect(Object.keys(inner ?? {}).sort(), key).to.deep.equal(Object.keys(item).sort());
    }
  });
});

describe('crd: the samples', () => {
  const dir = join(root, 'crds/samples');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    it(`${file}: only fields the schema has, and a spec the operator takes as valid`, () => {
      const sample = parse(readFileSync(join(dir, file), 'utf8')) as QinlingJob;
      const known = Object.keys(spec?.properties ?? {});
      expect(known).to.include.members(Object.keys(sample.spec));
      const withMeta = { ...sample, metadata: { ...sample.metadata, namespace: 'n', uid: 'u' } };
      expect(validate(withMeta)).to.equal(undefined);
    });
  }
});
