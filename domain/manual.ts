// Runs by hand (issue 15): each new spec.runRequests entry starts exactly one run, once, even
// across restarts and leader changes. The operator takes a request by writing it in status
// (with the resourceVersion as the lock, as every claim), then makes its Job, whose name comes
// from the request id: a second Job for one request cannot exist. Once its Job has been seen the
// request is marked started and its Job is never made again, even after it is collected. Runs by
// hand consume no count and settle no tick (their Jobs are not named for a slot). Pure.
import type { V1CronJob, V1Job } from '@kubernetes/client-node';
import { cronJobName, manualRunJob, manualRunJobName } from './children.js';
import type { PlannerConfig } from './config.js';
import type { PlannedEvent } from './events.js';
import type { HandledRunRequest, OverlapPolicy, Phase, QinlingJob } from './types.js';

/** The overlap policy as a run by hand meets it: the policy, and whether a run is active or starting. */
export interface ManualOverlap {
  policy: OverlapPolicy;
  busy: boolean;
  /** A run already waits for the active one (BufferOne's one place is taken). */
  waiting?: boolean;
}

/** Taken requests kept after they left the spec (those still in it are always kept). */
export const KEEP_HANDLED = 10;

export interface ManualPlan {
  handled: HandledRunRequest[];
  startRuns: V1Job[];
  events: PlannedEvent[];
}

/**
 * `seen`: names of this job's run-by-hand Jobs that exist. `cronJob`: the job's CronJob as it
 * exists (its input ConfigMap is written before it), needed before any run is made.
 */
export function planRunRequests(
  job: QinlingJob,
  phase: Phase,
  cronJob: V1CronJob | undefined,
  seen: ReadonlySet<string>,
  now: Date,
  cfg: PlannerConfig,
  overlap: ManualOverlap = { policy: 'Allow', busy: false },
): ManualPlan {
  const requests = job.spec.runRequests ?? [];
  const inSpec = new Map(requests.map((r) => [r.id, r]));
  const handled = (job.status?.runRequests ?? []).map((h) => ({ ...h }));
  const known = new Set(handled.map((h) => h.id));
  const events: PlannedEvent[] = [];
  const cj = cronJob?.metadata?.name ?? cronJobName(job.metadata.name);
  const finished = phase === 'Done' || phase === 'Cancelled';
  for (const r of requests) {
    if (known.has(r.id)) continue;
    const who = r.requestedBy ? { requestedBy: r.requestedBy } : {};
    const by = r.requestedBy ? ` by ${r.requestedBy}` : '';
    if (finished) {
      const refused = `the job is ${phase === 'Done' ? 'done' : 'cancelled'}`;
      handled.push({ id: r.id, acceptedAt: now.toISOString(), ...who, refused });
      events.push({ type: 'Warning', reason: 'RunRefused', message: `run request ${r.id}${by}: ${refused}` });
      continue;
    }
    handled.push({ id: r.id, acceptedAt: now.toISOString(), ...who, jobName: manualRunJobName(cj, r.id) });
    events.push({ type: 'Normal', reason: 'RunRequested', message: `run request ${r.id}${by} taken` });
  }
  const startRuns: V1Job[] = [];
  const canStart = !finished && cronJob?.metadata?.uid !== undefined;
  // Forbid: none starts while a run is active; BufferOne: one waits for it, any other is refused.
  let busy = overlap.busy;
  let waiting = overlap.waiting ?? false;
  const refuse = (h: HandledRunRequest, why: string) => {
    h.refused = why;
    delete h.jobName;
    const by = h.requestedBy ? ` by ${h.requestedBy}` : '';
    events.push({ type: 'Warning', reason: 'RunRefused', message: `run request ${h.id}${by}: ${why}` });
  };
  for (const h of handled) {
    if (!h.jobName || h.started) continue;
    if (seen.has(h.jobName)) h.started = true;
    else if (finished) {
      h.refused = `the job was ${phase === 'Done' ? 'done' : 'cancelled'} before the run started`;
      delete h.jobName;
    } else if (canStart && cronJob) {
      if (busy && overlap.policy === 'Forbid') refuse(h, 'another run was active (overlapPolicy Forbid)');
      else if (busy && overlap.policy === 'BufferOne') {
        if (waiting)
          refuse(h, 'another run was active and one was already waiting (overlapPolicy BufferOne)');
        else waiting = true;
      } else {
        startRuns.push(manualRunJob(job, cronJob, cfg, h, inSpec.get(h.id)));
        busy = true;
      }
    }
  }
  // Kept: every request still in the spec, every one not yet started, and the last few others.
  const keep = (h: HandledRunRequest) => inSpec.has(h.id) || (h.jobName !== undefined && !h.started);
  const others = handled.filter((h) => !keep(h));
  const dropped = new Set(others.slice(0, Math.max(others.length - KEEP_HANDLED, 0)));
  return { handled: handled.filter((h) => !dropped.has(h)), startRuns, events };
}
