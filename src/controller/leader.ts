import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Lease, LeaseApi } from '../kube/api.js';
import { isConflict } from '../kube/errors.js';
import { realDelay, type DelayFn } from '../kube/informer.js';

export interface LeaderElectionOptions {
  api: LeaseApi;
  log: Logger;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid without renewal (others wait this long to take over). */
  leaseDurationSeconds?: number;
  /** How often the holder renews, and candidates retry. */
  retryPeriodMs?: number;
  /** The holder steps down if it could not renew for this long. */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => Date;
  delay?: DelayFn;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the
 * holder renews `spec.renewTime` every retry period; a candidate takes the
 * Lease over only once `renewTime + leaseDurationSeconds` has passed; every
 * write carries the resourceVersion read just before, so two candidates
 * racing for it cannot both win (one gets 409). A holder that cannot renew
 * within the renew deadline stops leading before its lease can expire, so
 * two replicas never both believe they lead. On a clean stop the holder
 * releases the Lease so the other replica takes over at once.
 */
export class LeaderElector {
  private leading = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastRenew = 0;
  private readonly leaseSeconds: number;
  private readonly retryMs: number;
  private readonly renewDeadlineMs: number;
  private readonly now: () => Date;
  private readonly delay: DelayFn;

  constructor(private readonly o: LeaderElectionOptions) {
    this.leaseSeconds = o.leaseDurationSeconds ?? 15;
    this.retryMs = o.retryPeriodMs ?? 2000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    if (this.renewDeadlineMs >= this.leaseSeconds * 1000) {
      throw new Error('renew deadline must be shorter than the lease duration');
    }
    this.now = o.now ?? (() => new Date());
    this.delay = o.delay ?? realDelay;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop campaigning; release the Lease if held (unless `release` is false, as in a crash). */
  async stop(release = true): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      if (release) await this.release();
    }
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const ok = await this.tryAcquireOrRenew();
        if (ok) {
          this.lastRenew = this.now().getTime();
          this.setLeading(true);
        } else if (this.leading) {
          this.setLeading(false);
        }
      } catch (err) {
        this.o.log.warn('lease request failed', { lease: this.o.name, error: describeError(err) });
      }
      if (this.leading && this.now().getTime() - this.lastRenew > this.renewDeadlineMs) {
        this.o.log.error('could not renew the lease in time, stepping down', {
          lease: this.o.name,
        });
        this.setLeading(false);
      }
      await this.delay(this.retryMs, this.abort.signal);
    }
  }

  private setLeading(value: boolean): void {
    if (value === this.leading) return;
    this.leading = value;
    this.o.log.info(value ? 'became leader' : 'stopped leading', {
      lease: this.o.name,
      identity: this.o.identity,
    });
    if (value) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.o;
    const now = microTime(this.now());
    const current = await api.get(namespace, name);
    if (!current) {
      try {
        await api.create({
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: this.leaseSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const duration = (spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000;
    const expired = renewed + duration <= this.now().getTime();
    if (holder !== identity && holder !== '' && !expired) return false;

    const takeover = holder !== identity;
    const lease: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseSeconds,
        renewTime: now,
        ...(takeover
          ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    };
    try {
      await api.replace(lease);
      if (takeover)
        this.o.log.info('took over the lease', { lease: name, previous: holder || '(released)' });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    try {
      const current = await this.o.api.get(this.o.namespace, this.o.name);
      if (!current || current.spec?.holderIdentity !== this.o.identity) return;
      await this.o.api.replace({
        ...current,
        spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1 },
      });
    } catch (err) {
      this.o.log.warn('could not release the lease', { error: describeError(err) });
    }
  }
}

/**
 * A MicroTime as the API writes it: RFC 3339 with six fractional digits
 * (what client-go writes; a Date's three are padded).
 */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
