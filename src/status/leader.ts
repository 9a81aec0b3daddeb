import type { StatusController, StatusControllerDeps } from './controller.js';
import { startStatusController } from './controller.js';

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

  stopped(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    if (c) this.stopping = this.stopping.then(() => c.stop());
    return this.stopping;
  }
}
