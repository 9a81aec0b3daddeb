/**
 * What the status controller takes from the operator (src/status/kube.ts
 * wires it): its Job source, the operator's CronJob cache, its reads and the
 * patcher its one write goes through, the Event recorder, the metrics.
 */
import type { V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import type { CachedCronJob } from '../controller/caches.js';
import type { Schedule } from '../controller/queue.js';
import type { ListWatchSource, MetadataPatcher } from '../kube/api.js';
import type { DelayFn, InformerHandlers, ObjectStore } from '../kube/informer.js';
import type { Logger } from '../log.js';
import type { RestoreTestMetrics } from './restore-test.js';
import type { BackupMetrics } from './workload.js';

/** Where Events go: the operator's deduplicating recorder (src/controller/events.ts). */
export interface StatusEventSink {
  record(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/**
 * The status controller's window on the API: its reads, and the patcher its
 * one write goes through (src/apply's patchAnnotations: a merge patch of the
 * status annotations on a CronJob, guarded by the CronJob's resourceVersion
 * so a concurrent change is a 409, not a lost update).
 */
export interface StatusApi {
  getCronJob(namespace: string, name: string): Promise<V1CronJob | undefined>;
  /** The pods of one Job (its termination messages). */
  listJobPods(job: V1Job): Promise<V1Pod[]>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  cronJobPatcher: MetadataPatcher<V1CronJob>;
}

/**
 * The operator's cache of its CronJobs (src/controller/caches.ts), shared:
 * the status controller subscribes to it while it runs, and never starts or
 * stops it.
 */
export interface SharedCronJobCache extends ObjectStore<CachedCronJob> {
  /** Resolves after its first list. */
  readonly synced: Promise<void>;
  /** Returns the function that unsubscribes. */
  on(handlers: InformerHandlers<CachedCronJob>): () => void;
}

export interface StatusControllerDeps {
  /** The control namespace: snapkeeper's CronJobs and their Jobs. */
  namespace: string;
  jobs: ListWatchSource<V1Job>;
  cronJobs: SharedCronJobCache;
  api: StatusApi;
  events: StatusEventSink;
  metrics: BackupMetrics & RestoreTestMetrics;
  log: Logger;
  /** A schedule with no success for its period plus this grace is missed. */
  missedGraceSeconds: number;
  /** How often the missed-schedule check runs (default 60 s). */
  missedCheckIntervalMs?: number;
  now?: () => Date;
  delay?: DelayFn;
  schedule?: Schedule;
}
