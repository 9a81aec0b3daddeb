/**
 * The status controller's lifecycle under leader election: started when this
 * replica becomes leader, stopped (its backup metrics dropped) when it stops
 * leading. Not a leader elector: that is src/controller/leader.ts; the
 * controller calls started() and stopped() as its leaderHooks.
 */
import type { StatusController } from './controller.js';
import type { StatusControllerDeps } from './deps.js';
import { startStatusController } from './controller.js';
import { resetCounter } from './raised-counters.js';

function clearBackupMetrics(m: StatusControllerDeps['metrics']): void {
  m.backupLastSuccess.reset();
  m.backupLastSize.reset();
  m.backupLastDuration.reset();
  resetCounter(m.backupRuns);
  resetCounter(m.backupShrank);
  m.backupMissed.reset();
  m.restoreTestLastSuccess.reset();
  m.restoreTestLastDuration.reset();
  resetCounter(m.restoreTestFailures);
}

/**
 * Runs the status controller only while this replica leads (it writes: status
 * annotations and Events). Leadership may come and go; each term starts a
 * fresh controller, whose metrics are restored from the CronJobs' annotations.
 */
export class StatusWhileLeading {
  private current: StatusController | undefined;
  private stopping: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: StatusControllerDeps,
    private readonly start: (
      deps: StatusControllerDeps,
    ) => StatusController = startStatusController,
  ) {}

  get controller(): StatusController | undefined {
    return this.current;
  }

  started(): void {
    if (this.current) return;
    this.current = this.start(this.deps);
  }

  /**
   * Stops the controller and drops the backup series: only the leader
   * exports them (two replicas exporting the same failure would alert twice);
   * the next term restores them from the annotations.
   */
  stopped(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    if (c) {
      this.stopping = this.stopping.then(async () => {
        await c.stop();
        if (!this.current) clearBackupMetrics(this.deps.metrics);
      });
    }
    return this.stopping;
  }
}
