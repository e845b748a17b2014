// Which namespace holds which project's jobs: the one rule every read and write of the facade
// goes through. A namespace claims a project by the label `qinling.io/project-id` (which the
// chart's ValidatingAdmissionPolicy lets only the facade and cluster admins set), or, only where
// an admin enabled it, by its name. A project maps to exactly one namespace: two claiming one
// project is an error that refuses the project until an admin resolves it; a claim by a
// `kube-*`, `default` or the release's own namespace is never honoured.
import { createHash } from 'node:crypto';
import type { V1Namespace } from '@kubernetes/client-node';

export const LABEL_PROJECT = 'qinling.io/project-id';
/** The full project id, where it is no valid label value (the label then holds its hash). */
export const ANNOTATION_PROJECT = 'qinling.io/project-id';

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface TenancyOptions {
  /**
   * An unlabelled namespace named like a project holds that project's jobs. Off unless an admin
   * turns it on: anyone able to create a namespace could otherwise claim a project.
   */
  byName: boolean;
  /** Namespaces that are never a project's, beside `kube-*` and `default` (the release's own). */
  reserved: ReadonlySet<string>;
}

export function isReserved(namespace: string, opts: TenancyOptions): boolean {
  return namespace.startsWith('kube-') || namespace === 'default' || opts.reserved.has(namespace);
}

function hashed(projectId: string, n: number): string {
  return createHash('sha256').update(projectId).digest('hex').slice(0, n);
}

/** The label value naming a project: the id itself, or `sha256.<hash>` when the id is no label value. */
export function labelValue(projectId: string): string {
  return LABEL_VALUE.test(projectId) ? projectId : `sha256.${hashed(projectId, 48)}`;
}

/**
 * The namespace for a project id that is no DNS label, or is reserved, or is taken by a
 * namespace that is not the project's: derived from the id, so concurrent first creates (or a
 * second before the watch shows the first) on any replica choose the same one.
 */
export function derivedNamespace(projectId: string): string {
  return `qinling-${hashed(projectId, 16)}`;
}

/** The name the facade gives a project's namespace when it makes one. */
export function namespaceName(projectId: string, opts: TenancyOptions): string {
  return DNS_LABEL.test(projectId) && !isReserved(projectId, opts) ? projectId : derivedNamespace(projectId);
}

/** The labels and annotations a namespace made for a project carries. */
export function projectMetadata(projectId: string): {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
} {
  const value = labelValue(projectId);
  return value === projectId
    ? { labels: { [LABEL_PROJECT]: value } }
    : { labels: { [LABEL_PROJECT]: value }, annotations: { [ANNOTATION_PROJECT]: projectId } };
}

/** The project a namespace's label claims, or undefined (no label; a hash label without its id). */
function labelledProject(ns: V1Namespace): string | undefined {
  const value = ns.metadata?.labels?.[LABEL_PROJECT];
  if (value === undefined) return undefined;
  const full = ns.metadata?.annotations?.[ANNOTATION_PROJECT];
  if (full !== undefined && labelValue(full) === value) return full;
  return value.startsWith('sha256.') ? undefined : value;
}

/** What the namespaces say, computed once per change of the namespace cache. */
export interface ProjectMap {
  /** project -> its one namespace */
  namespaceOf: Map<string, string>;
  /** namespace -> its project */
  projectOf: Map<string, string>;
  /** projects claimed by more than one namespace: refused until an admin resolves it */
  conflicts: Map<string, string[]>;
  /** namespaces whose claim is ignored: reserved ones carrying the label */
  ignored: string[];
}

export function mapProjects(namespaces: Iterable<V1Namespace>, opts: TenancyOptions): ProjectMap {
  const labelled = new Map<string, string[]>();
  const named: string[] = [];
  const ignored: string[] = [];
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    if (!name) continue;
    const project = labelledProject(ns);
    const hasLabel = ns.metadata?.labels?.[LABEL_PROJECT] !== undefined;
    if (isReserved(name, opts)) {
      if (hasLabel) ignored.push(name);
      continue;
    }
    if (project !== undefined) labelled.set(project, [...(labelled.get(project) ?? []), name]);
    else if (!hasLabel && opts.byName) named.push(name);
  }
  const out: ProjectMap = { namespaceOf: new Map(), projectOf: new Map(), conflicts: new Map(), ignored };
  for (const [project, names] of labelled) {
    if (names.length > 1) out.conflicts.set(project, names.sort());
    else if (names[0] !== undefined) out.namespaceOf.set(project, names[0]);
  }
  // A label outranks a name: a namespace named like a project someone labelled elsewhere is not it.
  for (const name of named) {
    if (!labelled.has(name)) out.namespaceOf.set(name, name);
  }
  for (const [project, name] of out.namespaceOf) out.projectOf.set(name, project);
  return out;
}
