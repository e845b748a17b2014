// Leader election on a coordination.k8s.io Lease, as client-go does it: a lease held by
// another replica is taken over only after it went unrenewed for leaseDuration by *our* clock
// (observed time), so clock skew between replicas does not matter. It is no fence: writes stay
// safe with two leaders because names are deterministic and updates carry resourceVersions.
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
  private leading = false;

  constructor(
    private readonly kube: Kube,
    private readonly o: LeaderOptions,
    private readonly log: Logger,
    private readonly onStarted: () => void,
    private readonly onStopped: () => void,
  ) {}

  start(): void {
    const tick = () => {
      this.tryAcquireOrRenew()
        .catch((err: unknown) => this.log.warn({ err }, 'leader election: lease update failed'))
        .finally(() => {
          this.checkDeadline();
          this.timer = setTimeout(tick, this.o.retryPeriodMs);
        });
    };
    tick();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private checkDeadline(): void {
    if (this.leading && Date.now() - this.lastRenew > this.o.renewDeadlineMs) {
      this.log.error('leader election: could not renew the lease in time; stepping down');
      this.leading = false;
      this.onStopped();
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
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
      return this.became(now);
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
    this.became(now);
  }

  private became(now: Date): void {
    this.lastRenew = now.getTime();
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
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
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
