// Settling the schedule: from the intended next run, walk the ticks that are due and decide for
// each whether it ran, is being started, may still start, or was missed. `next` in status is
// always the first tick not yet settled, so nothing passes unseen: a tick either runs or is
// reported as missed within `grace` of its deadline, also when the CronJob controller is down or
// the operator was away across many ticks.
import { nextTick } from './schedule.js';

/** How long after a tick's deadline its Job may take to reach our cache before the tick counts as missed. */
export const MISSED_GRACE_MS = 5000;
/** Longest a CronJob this pass creates may take to exist; a tick nearer than this is the operator's. */
export const CRONJOB_CREATE_MARGIN_MS = 5000;
/** Ticks settled in one pass at most; beyond, the rest are skipped in one step and reported as one. */
export const MAX_SETTLE = 1000;

export interface SettleInput {
  pattern?: string;
  tz: string;
  now: Date;
  deadlineMs: number;
  /** How long before its time an operator run is claimed and made (its pod waits for the time). */
  leadMs: number;
  next?: Date;
  byOperator: boolean;
  single: boolean;
  /** Every pattern tick is the operator's (counted jobs). */
  operatorRunsAll: boolean;
  /** Scheduled times of our runs that exist and whose time has come. */
  ran: Set<number>;
  /** Operator runs claimed in status and not yet seen. */
  claimed: Set<number>;
  /** Whether one more run may be claimed (a count not yet used up by runs and claims). */
  capacity: boolean;
  /** When the owned CronJob was created; undefined if it does not exist yet. */
  cronJobCreated?: Date;
}

export interface Settled {
  next?: Date;
  byOperator: boolean;
  single: boolean;
  /** A tick this pass claims: written to status before its Job is created. */
  claim?: Date;
  missed: Date[];
  /** Ticks skipped in one step after MAX_SETTLE (at least this many more were missed). */
  skipped: number;
}

/** Whether the CronJob controller can fire tick `t`: it fires only ticks after its creation second. */
export function cronJobCanFire(t: Date, x: Pick<SettleInput, 'cronJobCreated' | 'now'>): boolean {
  if (x.cronJobCreated) return Math.floor(x.cronJobCreated.getTime() / 1000) * 1000 < t.getTime();
  return x.now.getTime() + CRONJOB_CREATE_MARGIN_MS < t.getTime();
}

function advance(x: SettleInput, t: Date): Pick<Settled, 'next' | 'byOperator' | 'single'> {
  if (!x.pattern) return { byOperator: true, single: true };
  const next = nextTick(x.pattern, x.tz, t);
  return { next, byOperator: x.operatorRunsAll || !cronJobCanFire(next, x), single: false };
}

type Verdict = 'ran' | 'wait' | 'claim' | 'missed';

function verdict(x: SettleInput, s: Settled, t: number): Verdict {
  if (x.ran.has(t)) return 'ran';
  const late = x.now.getTime() - t;
  const operator = s.byOperator || !cronJobCanFire(new Date(t), x);
  if (late < (operator ? -x.leadMs : 0)) return 'wait';
  if (operator) {
    if (x.claimed.has(t)) return 'wait'; // being started: its Job is created again until seen
    if (s.single || late <= x.deadlineMs) return x.capacity ? 'claim' : 'wait';
    return 'missed';
  }
  return late <= x.deadlineMs + MISSED_GRACE_MS ? 'wait' : 'missed';
}

export function settle(x: SettleInput): Settled {
  let s: Settled = { byOperator: x.byOperator, single: x.single, missed: [], skipped: 0 };
  if (x.next) s.next = x.next;
  for (let i = 0; s.next; i++) {
    if (i === MAX_SETTLE) return skipAhead(x, s);
    const t = s.next.getTime();
    const v = verdict(x, s, t);
    if (v === 'wait') break;
    if (v === 'claim') {
      s.claim = s.next;
      s.byOperator = true;
      break;
    }
    if (v === 'missed') s.missed.push(s.next);
    s = { ...s, ...advance(x, s.next) };
    if (!s.next) delete s.next;
  }
  // A tick the CronJob cannot fire (it does not exist in time) is the operator's to start.
  if (s.next && !cronJobCanFire(s.next, x)) s.byOperator = true;
  return s;
}

/** After MAX_SETTLE ticks in one pass: jump to the first tick that can still start. */
function skipAhead(x: SettleInput, s: Settled): Settled {
  if (!x.pattern || !s.next) return s;
  const from = new Date(x.now.getTime() - x.deadlineMs - MISSED_GRACE_MS);
  let skipped = 0;
  for (
    let t = s.next;
    t.getTime() <= from.getTime() && skipped < MAX_SETTLE;
    t = nextTick(x.pattern, x.tz, t)
  ) {
    skipped++;
  }
  return { ...s, ...advance(x, from), skipped };
}
