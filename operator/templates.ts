// A cached CronJob is two thirds pod template (the invoker's container, env, security context),
// which the operator reads only to compare with the template it wants. Once a pass has found
// them the same, the cache keeps a digest of the wanted template instead (issue 13: memory per
// job). Any change on the server (a hand edit, a status write, a relist) is a new object from the
// watch, full again, and the next pass compares it in full; a change of the wanted template
// differs from the digest. So what is compared is never less than before, only what is kept.
import { createHash } from 'node:crypto';
import type { V1CronJob } from '@kubernetes/client-node';
import { isSubset } from './subset.js';

const kept = new WeakMap<V1CronJob, string>();

function digestOf(template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('base64');
}

/**
 * Whether `have` (the server's CronJob, or its trimmed cached copy) runs the pod template `want`
 * asks for. A `want` without a template (a hold: the CronJob as it is, suspended) matches any.
 */
export function templateMatches(want: V1CronJob, have: V1CronJob): boolean {
  const template = want.spec?.jobTemplate;
  if (template === undefined) return true;
  const digest = kept.get(have);
  return digest !== undefined ? digest === digestOf(template) : isSubset(template, have.spec?.jobTemplate);
}

/** Whether the cached `have` keeps only a digest of its template (none to write back). */
export function isTrimmed(have: V1CronJob): boolean {
  return kept.has(have);
}

/** After a pass found `have` running `want`'s template: keep its digest, drop the template. */
export function trimTemplate(have: V1CronJob, want: V1CronJob): void {
  const template = want.spec?.jobTemplate;
  if (template === undefined || !have.spec || kept.has(have)) return;
  kept.set(have, digestOf(template));
  delete (have.spec as { jobTemplate?: unknown }).jobTemplate;
}
