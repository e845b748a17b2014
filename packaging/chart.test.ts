// The chart's own rules, checked without a cluster: one source for the CRD, every value
// documented, and a schema that knows every value and nothing else. (The chart installed for
// real is the helm-chart journey.)
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { makeApiMetrics } from '../api/metrics.js';
import { makeMetrics } from '../operator/metrics.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const chart = join(root, 'charts/qinling-jobs');
const read = (f: string) => readFileSync(f, 'utf8');

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  description?: string;
}

/** Dotted paths of the values file's keys down to leaves; maps with properties go deeper. */
function valuePaths(map: YAMLMap, prefix = ''): { path: string; comment: string | undefined; node: Node }[] {
  const out: { path: string; comment: string | undefined; node: Node }[] = [];
  map.items.forEach((pair, i) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const path = prefix + key;
    // The yaml parser hangs a comment before a nested map's first key on the map itself.
    const comment =
      (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (i === 0 ? map.commentBefore : undefined);
    out.push({ path, comment: comment ?? undefined, node: pair.value as Node });
    if (isMap(pair.value) && !comment?.includes('-- ')) out.push(...valuePaths(pair.value, `${path}.`));
  });
  return out;
}

function schemaAt(schema: SchemaNode, path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const part of path.split('.')) node = node?.properties?.[part];
  return node;
}

describe('chart: charts/qinling-jobs', () => {
  const values = parseDocument(read(join(chart, 'values.yaml')));
  const schema = JSON.parse(read(join(chart, 'values.schema.json'))) as SchemaNode;
  const paths = valuePaths(values.contents as YAMLMap);

  it("ships the repository's CRD byte for byte", () => {
    expect(read(join(chart, 'files/crds/qinlingjob.yaml'))).to.equal(
      read(join(root, 'crds/qinlingjob.yaml')),
    );
  });

  it('documents every value with a `# --` comment', () => {
    const leaves = paths.filter((p) => !isMap(p.node) || p.comment?.includes('-- '));
    expect(leaves.length).to.be.greaterThan(40);
    for (const p of leaves) expect(p.comment ?? '', `${p.path} has no "# --" comment`).to.match(/^ ?-- \S/m);
  });

  it('has a schema entry with a type for every value, and refuses unknown keys at every level', () => {
    for (const p of paths) {
      const s = schemaAt(schema, p.path);
      expect(s, `values.schema.json lacks ${p.path}`).to.not.equal(undefined);
      expect(s?.type, `${p.path} has no type`).to.not.equal(undefined);
      const nested = isMap(p.node) && !p.comment?.includes('-- ');
      if (nested) expect(s?.additionalProperties, `${p.path} accepts unknown keys`).to.equal(false);
      if (isSeq(p.node)) expect(s?.type).to.equal('array');
    }
    expect(schema.additionalProperties).to.equal(false);
  });

  it('has no schema entry for a value the values file lacks', () => {
    const known = new Set(paths.map((p) => p.path));
    const nested = new Set(
      paths.filter((p) => isMap(p.node) && !p.comment?.includes('-- ')).map((p) => p.path),
    );
    const walk = (s: SchemaNode, prefix: string) => {
      for (const [k, v] of Object.entries(s.properties ?? {})) {
        expect(known, `schema has ${prefix}${k}, values.yaml does not`).to.include(prefix + k);
        if (nested.has(prefix + k)) walk(v, `${prefix}${k}.`);
      }
    };
    walk(schema, '');
  });
});

describe('chart: the PrometheusRule and the dashboard use series the components export', () => {
  for (const file of ['templates/prometheusrule.yaml', 'dashboards/qinling-jobs.json'])
    it(`every qinling_jobs_ series ${file} names is registered by the operator or the API`, async () => {
      const text = read(join(chart, file));
      const named = new Set(
        (text.match(/\bqinling_jobs_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')),
      );
      expect(named.size).to.be.greaterThan(3);
      const registries = [
        makeMetrics(
          () => [],
          () => 0,
        ).registry,
        makeApiMetrics().registry,
      ];
      const exported = new Set<string>();
      for (const r of registries) for (const m of await r.getMetricsAsJSON()) exported.add(m.name);
      for (const n of named) expect(exported, n).to.include(n);
    });
});
