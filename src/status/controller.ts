import type { KubernetesObject, V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ListWatchSource, MetadataPatcher } from '../kube/api.js';
import {
  Informer,
  type DelayFn,
  type InformerHandlers,
  type ObjectStore,
} from '../kube/informer.js';
import type { CachedCronJob } from '../controller/caches.js';
import { WorkQueue, type ReconcileOutcome, type Schedule } from '../controller/queue.js';
import { patchAnnotations } from '../apply/apply.js';
import { isRestoreTestObject } from '../labels.js';
import {
  applyRestoreTestMetrics,
  removeRestoreTestMetrics,
  restoreTestEvent,
  restoreTestJobResult,
  type RestoreTestMetrics,
  type RestoreTestRunResult,
} from './restore-test.js';
import { isRecorded, readStatus, statusAnnotations } from './annotations.js';
import { jobOutcome, jobResult, type BackupResult } from './result.js';
import { missedSince } from './schedule.js';
import { formatBytes, formatDuration } from './format.js';
import {
  applyStatusMetrics,
  isManaged,
  ownerCronJob,
  removeStatusMetrics,
  sourcePodOf,
  workloadOf,
  type BackupMetrics,
  type MeteredWorkload,
} from './workload.js';

/** Requeue soon after a 409, as the operator's reconcile does. */
const CONFLICT_REQUEUE_MS = 500;

export const StatusEventReasons = {
  BackupSucceeded: 'BackupSucceeded',
  BackupFailed: 'BackupFailed',
  BackupMissed: 'BackupMissed',
  BackupShrank: 'BackupShrank',
} as const;

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

export interface StatusController {
  /** Resolves once both caches are filled and the first pass is queued. */
  readonly synced: Promise<void>;
  /** Runs the missed-schedule check now (also runs on its own timer). */
  checkMissed(): Promise<void>;
  /** Resolves when no CronJob is waiting to be processed. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

/** The Event for one finished run: names, sizes and the dumper's reason only. */
export function resultEvent(
  w: MeteredWorkload,
  r: BackupResult,
): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  if (r.ok) {
    const detail = [
      r.bytes !== undefined ? formatBytes(r.bytes) : undefined,
      r.durationSeconds !== undefined ? `in ${formatDuration(r.durationSeconds)}` : undefined,
    ].filter(Boolean);
    const about = [`job ${r.jobName}`, r.key, r.reason].filter(Boolean).join(', ');
    return {
      type: 'Normal',
      reason: StatusEventReasons.BackupSucceeded,
      message:
        `backup of ${w.namespace}/${w.name} succeeded` +
        `${detail.length ? `: ${detail.join(' ')}` : ''} (${about})`,
    };
  }
  return {
    type: 'Warning',
    reason: StatusEventReasons.BackupFailed,
    message: `backup of ${w.namespace}/${w.name} failed: ${r.reason ?? 'unknown reason'} (job ${r.jobName})`,
  };
}

/**
 * The Warning for a success that holds far less than the backup before
 * (the dumper's sentence), or undefined. It comes on top of BackupSucceeded:
 * the backup was stored and counts as a success.
 */
export function shrankEvent(
  r: BackupResult,
): { type: 'Warning'; reason: string; message: string } | undefined {
  if (!r.ok || !r.shrank) return undefined;
  return {
    type: 'Warning',
    reason: StatusEventReasons.BackupShrank,
    message: `${r.shrank} (job ${r.jobName})`,
  };
}

function finishedAt(job: V1Job): number {
  const c = job.status?.conditions?.find(
    (x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True',
  );
  const t = job.status?.completionTime ?? c?.lastTransitionTime;
  return t ? new Date(t).getTime() : 0;
}

/**
 * Turns snapkeeper's finished Jobs into Events, metrics and the CronJob's
 * status annotations, and watches for missed schedules. Run it only while
 * holding the leader Lease: it writes. Work is keyed by CronJob, so one
 * CronJob's annotations are only ever patched by one worker at a time.
 */
export function startStatusController(deps: StatusControllerDeps): StatusController {
  const { namespace, api, metrics, events } = deps;
  const log = deps.log.child({ component: 'status' });
  const now = deps.now ?? (() => new Date());
  const informerOptions = { log, ...(deps.delay ? { delay: deps.delay } : {}) };
  const jobs = new Informer<V1Job>(deps.jobs, informerOptions);
  const { cronJobs } = deps;
  const queue = new WorkQueue(sync, {
    log,
    concurrency: 2,
    ...(deps.schedule ? { schedule: deps.schedule } : {}),
  });

  /** Queue the owner CronJob of a finished Job not yet recorded. */
  function onJob(job: V1Job): void {
    if (!jobOutcome(job)) return;
    const owner = ownerCronJob(job);
    if (!owner) return;
    const cached = cronJobs.get(namespace, owner.name);
    if (cached && isRecorded(cached.metadata?.annotations, job.metadata?.uid ?? '')) return;
    queue.add(owner.name);
  }

  let firstPassDone = false;
  // Metric updates one at a time: raising a counter reads it first.
  let metricsChain: Promise<void> = Promise.resolve();
  function setMetrics(w: MeteredWorkload, cj: KubernetesObject): Promise<void> {
    const status = readStatus(cj.metadata?.annotations);
    metricsChain = metricsChain
      .then(() =>
        isRestoreTestObject(cj)
          ? applyRestoreTestMetrics(metrics, w, status)
          : applyStatusMetrics(metrics, w, status),
      )
      .catch((err) =>
        log.warn('cannot set metrics', { cronjob: cj.metadata?.name, error: describeError(err) }),
      );
    return metricsChain;
  }

  /** From the annotations: restores the metrics after a restart, follows other writers. */
  function restoreMetrics(cj: CachedCronJob): void {
    const w = workloadOf(cj);
    if (!w || !isManaged(cj)) return;
    void setMetrics(w, cj);
    if (isRestoreTestObject(cj)) return;
    // A new or changed CronJob (schedule, suspend) is judged at once, not at the next tick.
    if (firstPassDone) void checkOne(cj, now());
  }

  jobs.on({ add: onJob, update: (_old, job) => onJob(job) });
  const unsubscribe = cronJobs.on({
    add: restoreMetrics,
    update: (_old, cj) => restoreMetrics(cj),
    delete: (cj) => {
      latest.delete(cj.metadata?.name ?? '');
      const w = workloadOf(cj);
      if (!w) return;
      // A restore-test CronJob going takes only the restore-test series with it.
      const remove = isRestoreTestObject(cj) ? removeRestoreTestMetrics : removeStatusMetrics;
      metricsChain = metricsChain.then(() => remove(metrics, w));
    },
  });

  /** The pod Events go to; a failure to read it costs the Event, not the record. */
  async function sourcePod(cj: KubernetesObject): Promise<V1Pod | undefined> {
    const ref = sourcePodOf(cj);
    if (!ref) return undefined;
    try {
      return await api.getPod(ref.namespace, ref.name);
    } catch (err) {
      log.warn('cannot read the source pod; no Event', {
        pod: `${ref.namespace}/${ref.name}`,
        error: describeError(err),
      });
      return undefined;
    }
  }

  async function sync(name: string): Promise<ReconcileOutcome> {
    const read = await api.getCronJob(namespace, name);
    if (!read || !isManaged(read)) return;
    let cj: V1CronJob = read;
    // A restore-test CronJob's Jobs are restore tests: never counted as backups.
    const restoreTest = isRestoreTestObject(cj);
    const w = workloadOf(cj);
    if (!w) {
      log.warn('snapkeeper CronJob without workload labels; skipped', { cronjob: name });
      return;
    }
    const uid = cj.metadata?.uid;
    const pending = jobs
      .list(namespace)
      .filter((j) => jobOutcome(j) && ownerCronJob(j)?.uid === uid)
      .filter((j) => !isRecorded(cj.metadata?.annotations, j.metadata?.uid ?? ''))
      .sort((a, b) => finishedAt(a) - finishedAt(b));
    let pod: V1Pod | undefined | null = null;
    for (const job of pending) {
      const pods = await api.listJobPods(job);
      const result = restoreTest ? restoreTestJobResult(job, pods) : jobResult(job, pods);
      if (!result) continue;
      const patch = statusAnnotations(result, cj.metadata?.annotations);
      if (!patch) continue;
      // The Event first: the recorder deduplicates, so a retry after a failed
      // patch does not write it twice, and a crash between the two loses nothing.
      if (pod === null) pod = await sourcePod(cj);
      const ev = restoreTest
        ? restoreTestEvent(w, result as RestoreTestRunResult)
        : resultEvent(w, result);
      const shrank = restoreTest ? undefined : shrankEvent(result);
      if (pod) {
        await events.record(pod, ev.type, ev.reason, ev.message);
        if (shrank) await events.record(pod, shrank.type, shrank.reason, shrank.message);
      } else log.info('source pod not found; no Event', { cronjob: name });
      const r = await patchAnnotations(api.cronJobPatcher, cj, patch);
      if (r.action === 'conflict') {
        // 409: the CronJob changed since it was read (the operator replaced
        // it, someone annotated it). Not a failure: requeue, as the
        // operator's reconcile does, and start again from a fresh read.
        log.debug('conflict, requeueing', { cronjob: name, job: result.jobName });
        return { requeueAfterMs: CONFLICT_REQUEUE_MS };
      }
      if (r.action === 'foreign') return; // checked above; never written
      cj = r.object;
      latest.set(name, cj);
      const what = restoreTest ? 'restore test' : 'backup';
      log.info(`${what} ${result.ok ? 'succeeded' : 'failed'}`, {
        workload: `${w.namespace}/${w.name}`,
        job: result.jobName,
        ...(result.ok ? { bytes: result.bytes } : { reason: result.reason }),
        ...(result.shrank ? { shrank: result.shrank } : {}),
        durationSeconds: result.durationSeconds,
      });
    }
    await setMetrics(w, cj);
  }

  /**
   * The CronJobs as this controller last patched them: the informer's copy
   * may not have caught up yet, and a missed check on it would miss the
   * success just recorded.
   */
  const latest = new Map<string, KubernetesObject>();
  const missedReported = new Map<string, string>();
  async function checkMissed(): Promise<void> {
    const t = now();
    for (const cj of cronJobs.list(namespace)) await checkOne(cj, t);
  }

  async function checkOne(cj: CachedCronJob, t: Date): Promise<void> {
    const w = workloadOf(cj);
    // Only backups can be missed; a restore test's age has its own alert.
    if (!w || !isManaged(cj) || isRestoreTestObject(cj)) return;
    const labels = { namespace: w.namespace, workload: w.name, type: w.type };
    const status = readStatus(cj.metadata?.annotations);
    const mine = readStatus(latest.get(cj.metadata?.name ?? '')?.metadata?.annotations);
    if (mine.lastSuccess && mine.lastSuccess > (status.lastSuccess ?? new Date(0))) {
      status.lastSuccess = mine.lastSuccess;
    }
    const created = cj.metadata?.creationTimestamp
      ? new Date(cj.metadata.creationTimestamp)
      : undefined;
    const due =
      cj.spec?.suspend || !cj.spec?.schedule
        ? undefined
        : missedSince(
            cj.spec.schedule,
            cj.spec.timeZone,
            status.lastSuccess,
            t,
            deps.missedGraceSeconds,
            created,
          );
    metrics.backupMissed.set(labels, due ? 1 : 0);
    const key = cj.metadata?.uid ?? cj.metadata?.name ?? '';
    if (!due) {
      missedReported.delete(key);
      return;
    }
    const message =
      `no successful backup of ${w.namespace}/${w.name} since ` +
      `${status.lastSuccess ? status.lastSuccess.toISOString() : 'it was scheduled'}: ` +
      `the run due at ${due.toISOString()} has not succeeded within ${deps.missedGraceSeconds}s`;
    if (missedReported.get(key) === message) return;
    try {
      const pod = await sourcePod(cj);
      if (pod) await events.record(pod, 'Warning', StatusEventReasons.BackupMissed, message);
      missedReported.set(key, message);
      log.warn('backup missed', { workload: `${w.namespace}/${w.name}`, due: due.toISOString() });
    } catch (err) {
      log.warn('cannot report missed backup', {
        cronjob: cj.metadata?.name,
        error: describeError(err),
      });
    }
  }

  jobs.start();
  // The shared cache may have been filled long ago: what its `add` events
  // would have told this controller, it learns from the list.
  const synced = Promise.all([jobs.synced, cronJobs.synced]).then(async () => {
    for (const cj of cronJobs.list(namespace)) {
      restoreMetrics(cj);
      queue.add(cj.metadata?.name ?? '');
    }
    for (const j of jobs.list(namespace)) onJob(j);
    queue.start();
    // Record what finished while nobody watched before judging what was missed.
    await queue.drained();
    await checkMissed();
    firstPassDone = true;
  });
  const interval = setInterval(() => {
    void checkMissed();
  }, deps.missedCheckIntervalMs ?? 60_000);
  interval.unref?.();

  return {
    synced,
    checkMissed,
    drained: () => queue.drained(),
    async stop() {
      clearInterval(interval);
      unsubscribe();
      await Promise.all([queue.stop(), jobs.stop()]);
    },
  };
}
