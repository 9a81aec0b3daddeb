import type { Metrics } from '../metrics/registry.js';
import type { WorkloadState } from './reconcile.js';

/**
 * Each tracked workload's state (why it has, or has not, its CronJob), as
 * the gauge snapkeeper_workloads{state}: counted as states change, not
 * recounted over every workload at each reconcile.
 */
export class WorkloadStates {
  private readonly states = new Map<string, WorkloadState>();
  private readonly counts: Record<WorkloadState, number> = {
    scheduled: 0,
    suspended: 0,
    invalid: 0,
    no_service: 0,
    ambiguous_service: 0,
    missing_credentials: 0,
  };
  private published = false;

  constructor(private readonly gauge: Metrics['workloads']) {}

  /** The workload's state after a reconcile; undefined: not tracked any more. */
  set(key: string, state: WorkloadState | undefined): void {
    const old = this.states.get(key);
    if (old === state && this.published) return;
    if (old !== undefined) this.counts[old]--;
    if (state === undefined) this.states.delete(key);
    else {
      this.states.set(key, state);
      this.counts[state]++;
    }
    for (const [s, n] of Object.entries(this.counts)) this.gauge.set({ state: s }, n);
    this.published = true;
  }
}
