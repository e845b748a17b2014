// The project <-> namespace rule, as tables: labels claim, names only where enabled, a project
// claimed twice is nobody's, reserved namespaces never are, ids that are no label value hash.
import { expect } from 'chai';
import type { V1Namespace } from '@kubernetes/client-node';
import {
  ANNOTATION_PROJECT,
  derivedNamespace,
  isReserved,
  LABEL_PROJECT,
  labelValue,
  mapProjects,
  namespaceName,
  projectMetadata,
  type TenancyOptions,
} from './tenancy.js';

const ns = (
  name: string,
  labels?: Record<string, string>,
  annotations?: Record<string, string>,
): V1Namespace => ({
  metadata: { name, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
});
const labelled = (name: string, project: string) => ns(name, { [LABEL_PROJECT]: project });
const strict: TenancyOptions = { byName: false, reserved: new Set(['qinling-system']) };
const byName: TenancyOptions = { byName: true, reserved: new Set(['qinling-system']) };

describe('tenancy: which namespace is which project', () => {
  const cases: {
    name: string;
    namespaces: V1Namespace[];
    opts: TenancyOptions;
    project: string;
    want: string | undefined;
    conflict?: boolean;
  }[] = [
    {
      name: 'a labelled namespace',
      namespaces: [labelled('team-a', 'pa')],
      opts: strict,
      project: 'pa',
      want: 'team-a',
    },
    {
      name: 'a forged second label: the project is nobody’s (refused), first match no longer wins',
      namespaces: [labelled('aaa-attacker', 'pb'), labelled('team-b', 'pb')],
      opts: strict,
      project: 'pb',
      want: undefined,
      conflict: true,
    },
    {
      name: 'an unlabelled namespace of the project’s name: not without the admin’s byName',
      namespaces: [ns('kube-system'), ns('team-c')],
      opts: strict,
      project: 'team-c',
      want: undefined,
    },
    { name: 'byName enabled', namespaces: [ns('team-c')], opts: byName, project: 'team-c', want: 'team-c' },
    {
      name: 'byName never maps kube-system',
      namespaces: [ns('kube-system')],
      opts: byName,
      project: 'kube-system',
      want: undefined,
    },
    {
      name: 'byName never maps default',
      namespaces: [ns('default')],
      opts: byName,
      project: 'default',
      want: undefined,
    },
    {
      name: 'byName never maps the release namespace',
      namespaces: [ns('qinling-system')],
      opts: byName,
      project: 'qinling-system',
      want: undefined,
    },
    {
      name: 'a label on kube-public is ignored',
      namespaces: [labelled('kube-public', 'pd')],
      opts: strict,
      project: 'pd',
      want: undefined,
    },
    {
      name: 'a label outranks a name',
      namespaces: [ns('pe'), labelled('team-e', 'pe')],
      opts: byName,
      project: 'pe',
      want: 'team-e',
    },
    {
      name: 'a namespace labelled for another project is not this one’s by name',
      namespaces: [labelled('pf', 'other')],
      opts: byName,
      project: 'pf',
      want: undefined,
    },
    {
      name: 'an id that is no label value: a hash label and the id in an annotation',
      namespaces: [
        ns(
          'qinling-x',
          projectMetadata('oidc:user@example.com').labels,
          projectMetadata('oidc:user@example.com').annotations,
        ),
      ],
      opts: strict,
      project: 'oidc:user@example.com',
      want: 'qinling-x',
    },
    {
      name: 'a hash label whose annotation names another id does not claim',
      namespaces: [
        ns(
          'qinling-y',
          { [LABEL_PROJECT]: labelValue('oidc:a@example.com') },
          { [ANNOTATION_PROJECT]: 'oidc:b@example.com' },
        ),
      ],
      opts: strict,
      project: 'oidc:b@example.com',
      want: undefined,
    },
  ];
  for (const tc of cases)
    it(tc.name, () => {
      const m = mapProjects(tc.namespaces, tc.opts);
      expect(m.namespaceOf.get(tc.project)).to.equal(tc.want);
      expect(m.conflicts.has(tc.project)).to.equal(tc.conflict ?? false);
      if (tc.want) expect(m.projectOf.get(tc.want)).to.equal(tc.project);
      for (const n of tc.namespaces)
        if (n.metadata?.name !== tc.want)
          expect(m.projectOf.get(n.metadata?.name ?? '')).to.not.equal(tc.project);
    });

  it('reserves kube-*, default and the configured ones', () => {
    for (const n of [
      'kube-system',
      'kube-public',
      'kube-node-lease',
      'kube-anything',
      'default',
      'qinling-system',
    ])
      expect(isReserved(n, strict), n).to.equal(true);
    for (const n of ['kubeflow', 'team-a', 'defaults']) expect(isReserved(n, strict), n).to.equal(false);
  });

  it('names a new namespace after the project unless that name is reserved or no DNS label', () => {
    expect(namespaceName('team-a', strict)).to.equal('team-a');
    expect(namespaceName('kube-system', strict)).to.equal(derivedNamespace('kube-system'));
    expect(namespaceName('default', strict)).to.equal(derivedNamespace('default'));
    expect(namespaceName('qinling-system', strict)).to.equal(derivedNamespace('qinling-system'));
    expect(namespaceName('Project With Spaces', strict)).to.match(/^qinling-[0-9a-f]{16}$/);
  });

  it('label values are valid Kubernetes label values for any id', () => {
    const valid = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
    for (const id of ['abc', 'oidc:user@example.com', 'x'.repeat(64), 'ünïcode', '-lead', 'trail-'])
      expect(labelValue(id), id).to.match(valid);
    expect(labelValue('0123456789abcdef0123456789abcdef')).to.equal('0123456789abcdef0123456789abcdef');
  });
});
