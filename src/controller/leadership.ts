/**
 * What this replica does as it gains and loses the leader Lease (the Lease
 * itself: src/controller/leader.ts). Without leader election it leads from
 * the start. Informers and pod resolution run on every replica; reconciles,
 * and therefore writes, only while leading.
 */
import type { OperatorConfig } from '../config/operator.js';
import type { KubeApi } from '../kube/api.js';
import type { DelayFn } from '../kube/informer.js';
import type { Logger } from '../log.js';
import { LeaderElector } from './leader.js';

export interface LeadershipOptions {
  config: Pick<OperatorConfig, 'leaderElection' | 'controlNamespace' | 'leaseName' | 'podName'>;
  api: KubeApi['leases'];
  log: Logger;
  leaseDurationSeconds?: number;
  leaseRetryPeriodMs?: number;
  leaseRenewDeadlineMs?: number;
  delay?: DelayFn;
  /**
   * Called on becoming leader; `stillLeading` turns false if the Lease is
   * lost meanwhile (a long start must then not go on).
   */
  started(stillLeading: () => boolean): Promise<void>;
  /** Called on losing the Lease (not on stop). */
  stopped(): void;
}

export class Leadership {
  readonly elector: LeaderElector | undefined;
  private leading = false;

  constructor(private readonly o: LeadershipOptions) {
    const { config } = o;
    if (config.leaderElection) {
      this.elector = new LeaderElector({
        api: o.api,
        log: o.log.child({ component: 'leader' }),
        namespace: config.controlNamespace,
        name: config.leaseName,
        identity: config.podName,
        ...(o.leaseDurationSeconds ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
        ...(o.leaseRetryPeriodMs ? { retryPeriodMs: o.leaseRetryPeriodMs } : {}),
        ...(o.leaseRenewDeadlineMs ? { renewDeadlineMs: o.leaseRenewDeadlineMs } : {}),
        ...(o.delay ? { delay: o.delay } : {}),
        onStartedLeading: () => void this.begin(),
        onStoppedLeading: () => this.end(),
      });
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Compete for the Lease; without leader election, lead now. */
  async start(): Promise<void> {
    if (this.elector) this.elector.start();
    else await this.begin();
  }

  /** Stop leading; `release` gives the Lease up at once (else it runs out, as after a crash). */
  async stop(release: boolean): Promise<void> {
    await this.elector?.stop(release);
    this.leading = false;
  }

  private async begin(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    await this.o.started(() => this.leading);
  }

  private end(): void {
    this.leading = false;
    this.o.stopped();
  }
}
