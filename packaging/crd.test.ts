// The CRD states the same rules as domain/rules.ts, which the REST facade compiles with Ajv:
// every spec field with exactly its constraint keywords, and every CEL rule with a message of
// MESSAGES. So kubectl users and REST clients are refused the same values, with the same words.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { FIELDS, MESSAGES } from '../domain/rules.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Property extends Record<string, unknown> {
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}
interface SpecSchema {
  properties: Record<string, Property>;
  'x-kubernetes-validations': { rule: string; message: string }[];
}

const crd = parse(readFileSync(join(root, 'crds/qinlingjob.yaml'), 'utf8')) as {
  spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: SpecSchema } } } }[] };
};
const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec;
const CONSTRAINTS = ['type', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'maxItems'];

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
});
