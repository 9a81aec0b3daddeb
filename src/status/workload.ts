import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ENGINE_LABEL, MANAGED_BY, MANAGED_BY_LABEL, SOURCE_POD_ANNOTATION } from '../labels.js';
import type { Metrics } from '../metrics/registry.js';
import { ownerOf, type WorkloadRef } from '../workload.js';
import type { WorkloadStatus } from './annotations.js';
import { raiseCounterTo, removeCounterSeries } from './raised-counters.js';

/** A workload and its engine: what its backup and restore-test metrics are labelled with. */
export interface MeteredWorkload extends WorkloadRef {
  type: string;
}

export function isManaged(obj: { metadata?: { labels?: Record<string, string> } }): boolean {
  return obj.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

/**
 * The workload a CronJob backs up (or restore-tests), src/workload.ts's
 * ownerOf, with the engine from its type label.
 */
export function workloadOf(cronJob: KubernetesObject): MeteredWorkload | undefined {
  const w = ownerOf(cronJob);
  return w ? { ...w, type: cronJob.metadata?.labels?.[ENGINE_LABEL] ?? '' } : undefined;
}

/** The source pod named on the CronJob ("namespace/name", or a bare name in the workload's namespace). */
export function sourcePodOf(
  cronJob: KubernetesObject,
): { namespace: string; name: string } | undefined {
  const v = cronJob.metadata?.annotations?.[SOURCE_POD_ANNOTATION]?.trim();
  if (!v) return undefined;
  const slash = v.indexOf('/');
  if (slash > 0) return { namespace: v.slice(0, slash), name: v.slice(slash + 1) };
  const w = workloadOf(cronJob);
  return w ? { namespace: w.namespace, name: v } : undefined;
}

/**
 * Reads the pod a CronJob's Events go to; a failure to read it costs the
 * Event (logged), never the record.
 */
export function sourcePodReader(
  api: { getPod(namespace: string, name: string): Promise<V1Pod | undefined> },
  log: Logger,
): (cronJob: KubernetesObject) => Promise<V1Pod | undefined> {
  return async (cronJob) => {
    const ref = sourcePodOf(cronJob);
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
  };
}

/** The name of the CronJob that made this Job, if any. */
export function ownerCronJob(job: V1Job): { name: string; uid: string } | undefined {
  const o = (job.metadata?.ownerReferences ?? []).find(
    (r) => r.kind === 'CronJob' && r.apiVersion.startsWith('batch/'),
  );
  return o ? { name: o.name, uid: o.uid } : undefined;
}

export function metricLabels(w: MeteredWorkload): {
  namespace: string;
  workload: string;
  type: string;
} {
  return { namespace: w.namespace, workload: w.name, type: w.type };
}

export type BackupMetrics = Pick<
  Metrics,
  | 'backupLastSuccess'
  | 'backupLastDuration'
  | 'backupLastSize'
  | 'backupRuns'
  | 'backupShrank'
  | 'backupMissed'
>;

/**
 * Sets a workload's backup metrics from its status record. Counters are
 * raised to the recorded run counts (never lowered), so restoring after a
 * restart and recording a new run use the same path and never double count.
 */
export function applyStatusMetrics(
  metrics: BackupMetrics,
  w: MeteredWorkload,
  status: WorkloadStatus,
): void {
  const labels = metricLabels(w);
  if (status.lastSuccess) {
    metrics.backupLastSuccess.set(labels, status.lastSuccess.getTime() / 1000);
  }
  if (status.lastSizeBytes !== undefined) metrics.backupLastSize.set(labels, status.lastSizeBytes);
  if (status.lastDurationSeconds !== undefined) {
    metrics.backupLastDuration.set(labels, status.lastDurationSeconds);
  }
  // Both results' series exist from the start, so increase() sees the first failure.
  raiseCounterTo(metrics.backupRuns, { ...labels, result: 'success' }, status.runsSucceeded);
  raiseCounterTo(metrics.backupRuns, { ...labels, result: 'failure' }, status.runsFailed);
  raiseCounterTo(metrics.backupShrank, labels, status.runsShrank);
}

/** Drops a workload's series (its CronJob is gone). */
export function removeStatusMetrics(metrics: BackupMetrics, w: MeteredWorkload): void {
  const labels = metricLabels(w);
  metrics.backupLastSuccess.remove(labels);
  metrics.backupLastSize.remove(labels);
  metrics.backupLastDuration.remove(labels);
  metrics.backupMissed.remove(labels);
  removeCounterSeries(metrics.backupRuns, { ...labels, result: 'success' });
  removeCounterSeries(metrics.backupRuns, { ...labels, result: 'failure' });
  removeCounterSeries(metrics.backupShrank, labels);
}
