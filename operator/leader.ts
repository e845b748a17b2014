// Leader election on a coordination.k8s.io Lease, as client-go does it: a lease held by
// another replica is taken over only after it went unrenewed for leaseDuration by *our* clock
// (observed time), so clock skew between replicas does not matter. Each attempt is bounded by
// the renew deadline, and a leader that has not renewed within it steps down on a timer of its
// own (not after a call that may hang on a half-open socket), so it stops leading before
// another replica can acquire: leaseDuration (15 s) > renewDeadline (10 s) + retryPeriod (2 s).
// A stopped elector stays stopped: a renew in flight cannot take the lease back. It is no fence:
// writes stay safe with two leaders because names are deterministic and updates carry
// resourceVersions.
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, isNotFound, type Kube } from '../kube/client.js';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const leaderDefaults = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export class LeaderElector {
  private observed = '';
  private observedAt = 0;
  private lastRenew = 0;
  private timer?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;

  constructor(
    private readonly kube: Kube,
    private readonly o: LeaderOptions,
    private readonly log: Logger,
    private readonly onStarted: () => void,
    private readonly onStopped: () => void,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      const attempt = { abandoned: false };
      withTimeout(this.tryAcquireOrRenew(attempt), this.o.renewDeadlineMs, () => (attempt.abandoned = true))
        .catch((err: unknown) => this.log.warn({ err }, 'leader election: lease update failed'))
        .finally(() => {
          this.checkDeadline();
          if (!this.stopped) this.timer = setTimeout(tick, this.o.retryPeriodMs);
        });
    };
    tick();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private checkDeadline(): void {
    if (this.leading && Date.now() - this.lastRenew >= this.o.renewDeadlineMs) {
      this.log.error('leader election: could not renew the lease in time; stepping down');
      this.stop();
      this.onStopped();
    }
  }

  private stop(): void {
    this.stopped = true;
    this.leading = false;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
  }

  /** One attempt; once abandoned (past the renew deadline) its late success counts for nothing. */
  private async tryAcquireOrRenew(attempt: { abandoned: boolean }): Promise<void> {
    const { namespace, name, identity } = this.o;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: new V1MicroTime(now),
    };
    let lease: V1Lease;
    try {
      lease = await this.kube.coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.kube.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: new V1MicroTime(now), leaseTransitions: 0 },
        },
      });
      return this.became(now, attempt);
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const record = `${holder}/${String(lease.spec?.renewTime)}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = Date.now();
    }
    const expired = Date.now() > this.observedAt + (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    if (holder !== identity && holder !== '' && !expired) return;
    const takeover = holder !== identity;
    const acquired = lease.spec?.acquireTime;
    lease.spec = {
      ...lease.spec,
      // Times read back must go out again with six fractional digits, as MicroTime.
      ...(acquired ? { acquireTime: new V1MicroTime(acquired) } : {}),
      ...spec,
      ...(takeover
        ? { acquireTime: new V1MicroTime(now), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
        : {}),
    };
    try {
      await this.kube.coordination.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      if (isConflict(err)) return; // someone else wrote first; look again next period
      throw err;
    }
    this.became(now, attempt);
  }

  private became(now: Date, attempt: { abandoned: boolean }): void {
    // A renew that was in flight when we stopped, or that came back after its deadline, takes
    // nothing back: its lease may already be another replica's.
    if (this.stopped || attempt.abandoned) return;
    this.lastRenew = now.getTime();
    // Step down on our own timer at the renew deadline unless the next renew comes first.
    clearTimeout(this.deadline);
    this.deadline = setTimeout(
      () => this.checkDeadline(),
      this.o.renewDeadlineMs + 1 - (Date.now() - this.lastRenew),
    );
    this.deadline.unref();
    if (this.leading) return;
    this.leading = true;
    this.log.info(
      { identity: this.o.identity, lease: `${this.o.namespace}/${this.o.name}` },
      'became leader',
    );
    this.onStarted();
  }

  /** Gives the lease up so a standby takes over at once rather than after it expires. */
  async release(): Promise<void> {
    const wasLeading = this.leading;
    this.stop();
    if (!wasLeading) return;
    const { namespace, name } = this.o;
    try {
      const lease = await this.kube.coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      const { acquireTime, renewTime } = lease.spec;
      lease.spec = {
        ...lease.spec,
        ...(acquireTime ? { acquireTime: new V1MicroTime(acquireTime) } : {}),
        ...(renewTime ? { renewTime: new V1MicroTime(renewTime) } : {}),
        holderIdentity: '',
        leaseDurationSeconds: 1,
      };
      await this.kube.coordination.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      this.log.warn({ err }, 'leader election: could not release the lease');
    }
  }
}

/** The promise, or a rejection once `ms` have passed (the call itself may stay pending). */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  onTimeout: () => void = () => undefined,
): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => {
      onTimeout();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
