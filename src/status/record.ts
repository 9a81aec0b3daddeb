/**
 * Recording finished Jobs, the status controller's first job: each finished
 * Job of a snapkeeper CronJob becomes an Event on the source pod, the
 * CronJob's status annotations (written through src/apply's
 * patchAnnotations) and the backup or restore-test metrics. Work is keyed by
 * CronJob, so one CronJob's annotations are only ever patched by one worker
 * at a time.
 */
import type { KubernetesObject, V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import { patchAnnotations } from '../apply/apply.js';
import type { CachedCronJob } from '../controller/caches.js';
import { WorkQueue, type ReconcileOutcome, type Schedule } from '../controller/queue.js';
import { describeError } from '../errors.js';
import type { ObjectStore } from '../kube/informer.js';
import { isRestoreTestObject } from '../labels.js';
import type { Logger } from '../log.js';
import { isRecorded, readStatus, statusAnnotations } from './annotations.js';
import type { StatusApi, StatusEventSink } from './deps.js';
import { formatBytes, formatDuration } from './format.js';
import {
  applyRestoreTestMetrics,
  removeRestoreTestMetrics,
  restoreTestEvent,
  restoreTestJobResult,
  type RestoreTestMetrics,
  type RestoreTestRunResult,
} from './restore-test.js';
import { jobOutcome, jobResult, type BackupResult } from './result.js';
import {
  applyStatusMetrics,
  isManaged,
  ownerCronJob,
  removeStatusMetrics,
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

export interface JobRecorderDeps {
  namespace: string;
  api: Pick<StatusApi, 'getCronJob' | 'listJobPods' | 'cronJobPatcher'>;
  events: StatusEventSink;
  metrics: BackupMetrics & RestoreTestMetrics;
  log: Logger;
  /** The Jobs of the control namespace (the status controller's informer). */
  jobs: ObjectStore<V1Job>;
  /** The operator's CronJob cache: is a Job already recorded? */
  cronJobs: ObjectStore<CachedCronJob>;
  /** The pod a CronJob's Events go to (undefined: no Event). */
  sourcePod(cj: KubernetesObject): Promise<V1Pod | undefined>;
  /**
   * Each CronJob as this recorder last patched it, by name: the cache may
   * not have caught up yet (the missed-run check reads it).
   */
  latest: Map<string, KubernetesObject>;
  schedule?: Schedule;
}

export interface JobRecorder {
  /** Queue the owner CronJob of a finished Job not yet recorded. */
  onJob(job: V1Job): void;
  /** Queue one CronJob: record whatever of its finished Jobs is not recorded yet. */
  add(name: string): void;
  /** Metrics from a CronJob's annotations: after a restart, or another writer's change. */
  restoreMetrics(cj: KubernetesObject): void;
  /** A CronJob is gone: its series go with it. */
  forget(cj: KubernetesObject): void;
  start(): void;
  /** Resolves when no CronJob is waiting to be processed. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

export function jobRecorder(d: JobRecorderDeps): JobRecorder {
  const { namespace, api, metrics, events, log, jobs, cronJobs, sourcePod, latest } = d;
  const queue = new WorkQueue(sync, {
    log,
    concurrency: 2,
    ...(d.schedule ? { schedule: d.schedule } : {}),
  });

  function onJob(job: V1Job): void {
    if (!jobOutcome(job)) return;
    const owner = ownerCronJob(job);
    if (!owner) return;
    const cached = cronJobs.get(namespace, owner.name);
    if (cached && isRecorded(cached.metadata?.annotations, job.metadata?.uid ?? '')) return;
    queue.add(owner.name);
  }

  function setMetrics(w: MeteredWorkload, cj: KubernetesObject): void {
    const status = readStatus(cj.metadata?.annotations);
    try {
      if (isRestoreTestObject(cj)) applyRestoreTestMetrics(metrics, w, status);
      else applyStatusMetrics(metrics, w, status);
    } catch (err) {
      log.warn('cannot set metrics', { cronjob: cj.metadata?.name, error: describeError(err) });
    }
  }

  function restoreMetrics(cj: KubernetesObject): void {
    const w = workloadOf(cj);
    if (!w || !isManaged(cj)) return;
    setMetrics(w, cj);
  }

  function forget(cj: KubernetesObject): void {
    const w = workloadOf(cj);
    if (!w) return;
    // A restore-test CronJob going takes only the restore-test series with it.
    const remove = isRestoreTestObject(cj) ? removeRestoreTestMetrics : removeStatusMetrics;
    remove(metrics, w);
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
    setMetrics(w, cj);
  }

  return {
    onJob,
    add: (name) => queue.add(name),
    restoreMetrics,
    forget,
    start: () => queue.start(),
    drained: () => queue.drained(),
    stop: () => queue.stop(),
  };
}
