// An in-memory JobStore for the facade's component tests: namespaces are a project map, jobs a
// uid map; a 409 on a taken name, scripted conflicts on update.
import type { QinlingJob, QinlingJobSpec } from '../domain/types.js';
import { byCreation, type JobStore } from '../api/store.js';

export const NOW = new Date('2026-11-27T12:00:30Z');

export class FakeStore implements JobStore {
  jobs = new Map<string, QinlingJob>();
  namespaces = new Map<string, string>([
    ['ns-a', 'proj-a'],
    ['ns-b', 'proj-b'],
  ]);
  isReady = true;
  private n = 0;
  conflictsToThrow = 0;
  ready = () => this.isReady;
  list = (ns?: string) =>
    [...this.jobs.values()].filter((j) => !ns || j.metadata.namespace === ns).sort(byCreation);
  /** Jobs the apiserver has and this replica's cache not yet (made through another replica). */
  elsewhere = new Map<string, QinlingJob>();
  readThroughs: string[][] = [];
  byId = (id: string) => this.jobs.get(id);
  readThrough(id: string, namespaces: string[]): Promise<QinlingJob | undefined> {
    this.readThroughs.push(namespaces);
    const j = this.elsewhere.get(id);
    return Promise.resolve(j && namespaces.includes(j.metadata.namespace) ? j : undefined);
  }
  /** A create's round trip: the job exists only once it has passed (0: at once). */
  createDelayMs = 0;
  async create(namespace: string, spec: QinlingJobSpec, name?: string): Promise<QinlingJob> {
    if (this.createDelayMs > 0) await new Promise((r) => setTimeout(r, this.createDelayMs));
    return this.createNow(namespace, spec, name);
  }
  private createNow(namespace: string, spec: QinlingJobSpec, name?: string): Promise<QinlingJob> {
    if (name && [...this.jobs.values()].some((j) => j.metadata.name === name)) {
      return Promise.reject(Object.assign(new Error('exists'), { code: 409 }));
    }
    const uid = `00000000-0000-4000-8000-${String(++this.n).padStart(12, '0')}`;
    const j: QinlingJob = {
      apiVersion: 'qinling.io/v1',
      kind: 'QinlingJob',
      metadata: {
        name: name ?? `job-${this.n}`,
        namespace,
        uid,
        resourceVersion: '1',
        creationTimestamp: NOW.toISOString(),
      },
      spec,
    };
    this.jobs.set(uid, j);
    return Promise.resolve(j);
  }
  update(job: QinlingJob, patch: Partial<QinlingJobSpec>, at?: Date): Promise<QinlingJob> {
    if (this.conflictsToThrow-- > 0)
      return Promise.reject(Object.assign(new Error('conflict'), { code: 409 }));
    const annotations = at ? { 'qinling.io/updated-at': at.toISOString() } : job.metadata.annotations;
    const j = {
      ...job,
      metadata: { ...job.metadata, ...(annotations ? { annotations } : {}) },
      spec: { ...job.spec, ...patch },
    };
    this.jobs.set(j.metadata.uid, j);
    return Promise.resolve(j);
  }
  get = (namespace: string, name: string) =>
    Promise.resolve(
      [...this.jobs.values()].find((j) => j.metadata.namespace === namespace && j.metadata.name === name),
    );
  latest = (job: QinlingJob) => Promise.resolve(this.jobs.get(job.metadata.uid));
  remove(job: QinlingJob): Promise<void> {
    this.jobs.delete(job.metadata.uid);
    return Promise.resolve();
  }
  namespaceOf(projectId: string, create: boolean): Promise<string | undefined> {
    for (const [ns, p] of this.namespaces) if (p === projectId) return Promise.resolve(ns);
    if (!create) return Promise.resolve(undefined);
    this.namespaces.set(projectId, projectId);
    return Promise.resolve(projectId);
  }
  projectOf = (ns: string) => this.namespaces.get(ns);
}
