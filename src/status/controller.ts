/**
 * The status controller: a second controller beside the operator's, run
 * only by the leader (while-leading.ts). It shares the operator's CronJob
 * cache and has two jobs, each in its own module: recording finished Jobs
 * (record.ts: Events, metrics, the status annotations) and finding missed
 * runs (missed.ts). This module wires them to the Job informer, the shared
 * cache and a timer.
 */
import type { KubernetesObject, V1Job } from '@kubernetes/client-node';
import type { CachedCronJob } from '../controller/caches.js';
import { Informer } from '../kube/informer.js';
import type { StatusControllerDeps } from './deps.js';
import { missedRuns } from './missed.js';
import { jobRecorder } from './record.js';
import { sourcePodReader } from './workload.js';

export type {
  SharedCronJobCache,
  StatusApi,
  StatusControllerDeps,
  StatusEventSink,
} from './deps.js';

export interface StatusController {
  /** Resolves once both caches are filled and the first pass is done. */
  readonly synced: Promise<void>;
  /** Runs the missed-schedule check now (also runs on its own timer). */
  checkMissed(): Promise<void>;
  /** Resolves when no CronJob is waiting to be processed. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the status controller. Run it only while holding the leader Lease:
 * it writes. It starts its Job informer, subscribes to the shared CronJob
 * cache (never starting or stopping it), and once both are filled records
 * what finished while nobody watched before judging what was missed.
 */
export function startStatusController(deps: StatusControllerDeps): StatusController {
  const { namespace, metrics, events, cronJobs } = deps;
  const log = deps.log.child({ component: 'status' });
  const now = deps.now ?? (() => new Date());
  const jobs = new Informer<V1Job>(deps.jobs, {
    log,
    ...(deps.delay ? { delay: deps.delay } : {}),
  });
  const sourcePod = sourcePodReader(deps.api, log);
  /** Each CronJob as the recorder last patched it: the cache may lag behind. */
  const latest = new Map<string, KubernetesObject>();
  const recorder = jobRecorder({
    namespace,
    api: deps.api,
    events,
    metrics,
    log,
    jobs,
    cronJobs,
    sourcePod,
    latest,
    ...(deps.schedule ? { schedule: deps.schedule } : {}),
  });
  const missed = missedRuns({
    namespace,
    cronJobs,
    latest,
    metrics,
    events,
    sourcePod,
    log,
    graceSeconds: deps.missedGraceSeconds,
    now,
  });

  let firstPassDone = false;
  /** A CronJob came or changed (the operator replaced it, another writer, our own patch). */
  function changed(cj: CachedCronJob): void {
    recorder.restoreMetrics(cj);
    // A new or changed schedule or suspend is judged at once, not at the next tick.
    if (firstPassDone) void missed.check(cj, now());
  }

  jobs.on({ add: recorder.onJob, update: (_old, job) => recorder.onJob(job) });
  const unsubscribe = cronJobs.on({
    add: changed,
    update: (_old, cj) => changed(cj),
    delete: (cj) => {
      latest.delete(cj.metadata?.name ?? '');
      recorder.forget(cj);
    },
  });

  jobs.start();
  // The shared cache may have been filled long ago: what its `add` events
  // would have told this controller, it learns from the list.
  const synced = Promise.all([jobs.synced, cronJobs.synced]).then(async () => {
    for (const cj of cronJobs.list(namespace)) {
      recorder.restoreMetrics(cj);
      recorder.add(cj.metadata?.name ?? '');
    }
    for (const j of jobs.list(namespace)) recorder.onJob(j);
    recorder.start();
    // Record what finished while nobody watched before judging what was missed.
    await recorder.drained();
    await missed.checkAll();
    firstPassDone = true;
  });
  const interval = setInterval(() => {
    void missed.checkAll();
  }, deps.missedCheckIntervalMs ?? 60_000);
  interval.unref?.();

  return {
    synced,
    checkMissed: () => missed.checkAll(),
    drained: () => recorder.drained(),
    async stop() {
      clearInterval(interval);
      unsubscribe();
      await Promise.all([recorder.stop(), jobs.stop()]);
    },
  };
}
