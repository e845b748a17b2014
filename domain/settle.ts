// Settling the schedule: from the intended next run, walk the ticks that are due and decide for
// each whether it ran, is being started, may still start, or was missed. `next` in status is
// always the first tick not yet settled, so nothing passes unseen: a tick either runs or is
// reported as missed within `grace` of its deadline, also when the CronJob controller is down or
// the operator was away across many ticks.
import type { OverlapPolicy } from './types.js';

/** How long after a tick's deadline its Job may take to reach our cache before the tick counts as missed. */
export const MISSED_GRACE_MS = 5000;
/** Longest a CronJob this pass creates may take to exist; a tick nearer than this is the operator's. */
export const CRONJOB_CREATE_MARGIN_MS = 5000;
/** Ticks settled in one pass at most; beyond, the rest are skipped in one step and reported as one. */
export const MAX_SETTLE = 1000;

export interface SettleInput {
  /** The job's runs after an instant (timing.ts); undefined for a one-shot. */
  after?: (t: Date) => Date | undefined;
  now: Date;
  deadlineMs: number;
  /** How long before its time an operator run is claimed and made (its pod waits for the time). */
  leadMs: number;
  next?: Date;
  byOperator: boolean;
  single: boolean;
  /** Every pattern tick is the operator's (counted jobs, policies a CronJob cannot keep). */
  operatorRunsAll: boolean;
  /** Scheduled times of our runs that exist and whose time has come. */
  ran: Set<number>;
  /** Operator runs claimed in status and not yet seen. */
  claimed: Set<number>;
  /** How many more runs may be claimed (a count not yet used up by runs and claims). */
  capacity: number;
  /** When the owned CronJob was created; undefined if it does not exist yet. */
  cronJobCreated?: Date;
  /** Catch-up (issue 16): missed runs at most `windowMs` old run late, the newest `max` of them. */
  catchup?: { windowMs: number; max: number };
  /** The overlap policy (issue 16), and whether a run of the job is active now. */
  overlap?: { policy: OverlapPolicy; active: boolean };
}

export interface Settled {
  next?: Date;
  byOperator: boolean;
  single: boolean;
  /** A tick this pass claims: written to status before its Job is created. */
  claim?: Date;
  /** Missed runs this pass claims to run late (catch-up), oldest first. */
  catchup: Date[];
  missed: Date[];
  /** Runs not started because another was active (overlap policy Forbid, or BufferOne's buffer full). */
  overlapped: Date[];
  /** Ticks skipped in one step after MAX_SETTLE (at least this many more were missed). */
  skipped: number;
}

/** Whether the CronJob controller can fire tick `t`: it fires only ticks after its creation second. */
export function cronJobCanFire(t: Date, x: Pick<SettleInput, 'cronJobCreated' | 'now'>): boolean {
  if (x.cronJobCreated) return Math.floor(x.cronJobCreated.getTime() / 1000) * 1000 < t.getTime();
  return x.now.getTime() + CRONJOB_CREATE_MARGIN_MS < t.getTime();
}

function advance(x: SettleInput, t: Date): Pick<Settled, 'next' | 'byOperator' | 'single'> {
  if (!x.after) return { byOperator: true, single: true };
  const next = x.after(t);
  return {
    ...(next ? { next } : {}),
    byOperator: x.operatorRunsAll || !cronJobCanFire(next ?? t, x),
    single: false,
  };
}

/**
 * What a run due now meets under the overlap policy: `run` (Allow, Replace: the planner takes
 * the active run back), `hold` (BufferOne: claimed, started once the active run ends) or `skip`.
 * A claim not yet seen is a run about to start: with one pending, a further run finds the job busy.
 */
function overlapVerdict(x: SettleInput, pending: number): 'run' | 'skip' {
  const o = x.overlap;
  if (!o || o.policy === 'Allow' || o.policy === 'Replace') return 'run';
  const busy = o.active || pending > 0;
  if (!busy) return 'run';
  if (o.policy === 'Forbid') return 'skip';
  return pending > 0 ? 'skip' : 'run'; // BufferOne: one waits, the rest are skipped
}

/** BufferOne holds a claimed run while another is active: the walk goes past it. */
const held = (x: SettleInput) => x.overlap?.policy === 'BufferOne' && x.overlap.active;

type Verdict = 'ran' | 'wait' | 'claim' | 'missed' | 'catchup' | 'overlapped' | 'held';

function verdict(x: SettleInput, s: Settled, t: number): Verdict {
  if (x.ran.has(t)) return 'ran';
  const late = x.now.getTime() - t;
  const operator = s.byOperator || !cronJobCanFire(new Date(t), x);
  if (late < (operator ? -x.leadMs : 0)) return 'wait';
  if (operator) {
    if (x.claimed.has(t)) return held(x) ? 'held' : 'wait'; // being started: made again until seen
    if (s.single || late <= x.deadlineMs) {
      if (overlapVerdict(x, x.claimed.size) === 'skip') return 'overlapped';
      return x.capacity > s.catchup.length ? 'claim' : 'wait';
    }
    if (x.catchup && late <= x.catchup.windowMs) return 'catchup';
    return 'missed';
  }
  return late <= x.deadlineMs + MISSED_GRACE_MS ? 'wait' : 'missed';
}

export function settle(x: SettleInput): Settled {
  let s: Settled = {
    byOperator: x.byOperator,
    single: x.single,
    catchup: [],
    missed: [],
    overlapped: [],
    skipped: 0,
  };
  if (x.next) s.next = x.next;
  const late: Date[] = []; // catch-up candidates, oldest first
  for (let i = 0; s.next; i++) {
    if (i === MAX_SETTLE) return withCatchup(x, skipAhead(x, s), late);
    const t = s.next.getTime();
    const v = verdict(x, s, t);
    if (v === 'wait') break;
    if (v === 'claim') {
      s = withCatchup(x, s, late);
      late.length = 0;
      if (x.capacity > s.catchup.length) {
        s.claim = s.next;
        s.byOperator = true;
      }
      break;
    }
    if (v === 'missed') s.missed.push(s.next);
    if (v === 'catchup') late.push(s.next);
    if (v === 'overlapped') s.overlapped.push(s.next);
    if (!x.after) break; // a one-shot: nothing comes after it
    const adv = advance(x, s.next);
    s = { ...s, ...adv };
    if (!adv.next) delete s.next; // past the end bound
  }
  s = withCatchup(x, s, late);
  // A tick the CronJob cannot fire (it does not exist in time) is the operator's to start.
  if (s.next && !cronJobCanFire(s.next, x)) s.byOperator = true;
  return s;
}

/**
 * Of the missed runs still in the catch-up window, the newest `max` (and no more than the count
 * has left) run late, oldest first; the others are missed.
 */
function withCatchup(x: SettleInput, s: Settled, late: Date[]): Settled {
  if (late.length === 0) return s;
  const room = Math.max(Math.min(x.catchup?.max ?? 0, x.capacity - s.catchup.length), 0);
  const chosen = room > 0 ? late.slice(-room) : [];
  const missed = [...s.missed, ...late.slice(0, late.length - chosen.length)].sort(
    (a, b) => a.getTime() - b.getTime(),
  );
  return { ...s, catchup: [...s.catchup, ...chosen], missed };
}

/** After MAX_SETTLE ticks in one pass: jump to the first tick that can still start. */
function skipAhead(x: SettleInput, s: Settled): Settled {
  if (!x.after || !s.next) return s;
  const from = new Date(x.now.getTime() - x.deadlineMs - MISSED_GRACE_MS);
  let skipped = 0;
  for (
    let t: Date | undefined = s.next;
    t && t.getTime() <= from.getTime() && skipped < MAX_SETTLE;
    t = x.after(t)
  ) {
    skipped++;
  }
  const adv = advance(x, from);
  const out = { ...s, ...adv, skipped };
  if (!adv.next) delete out.next;
  return out;
}
