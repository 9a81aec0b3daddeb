/**
 * Finished restore-test Jobs (the scheduled restore test): what one tells us,
 * the Event it becomes, and the restore-test metrics.
 *
 * A restore-test Job is told from a backup Job by the job-kind label its
 * CronJob puts on it (src/labels.ts); it is never counted as a backup. Its
 * pod's termination message is the restore-test report (src/contract/
 * restore-test-report.ts, read with parseReport). Its status record is kept on the
 * restore-test CronJob with the same annotations a backup CronJob carries
 * (src/status/annotations.ts): there, "last success" is the last passed
 * restore test, "last key" the backup it tested, "runs failed" the failed
 * tests.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Metrics } from '../metrics/registry.js';
import { parseReport, type RestoreTestReport } from '../contract/restore-test-report.js';
import type { WorkloadStatus } from './annotations.js';
import { formatDuration } from './format.js';
import {
  clip,
  condition,
  findTermination,
  jobOutcome,
  podsOfJob,
  toDate,
  type BackupResult,
} from './result.js';
import { raiseCounterTo, removeCounterSeries } from './raised-counters.js';
import { metricLabels, type MeteredWorkload } from './workload.js';

export const RestoreTestEventReasons = {
  RestoreTestSucceeded: 'RestoreTestSucceeded',
  RestoreTestFailed: 'RestoreTestFailed',
} as const;

/** One finished restore test: a run result (the status record's shape) plus what it compared. */
export interface RestoreTestRunResult extends BackupResult {
  /** The backup tested (its manifest key): also `key`. */
  backup?: string;
  tables?: number;
  checks?: number;
  /** How many differences the report named (it may have been cut to fit). */
  mismatches: number;
}

/** "the first mismatch or the error" of a failed report, with how many more there were. */
export function firstProblem(report: RestoreTestReport): string | undefined {
  if (report.error) return report.error;
  const [first, ...rest] = report.mismatches;
  if (first === undefined) return undefined;
  if (rest.length === 0 && !report.mismatchesTruncated) return first;
  return `${first} (and ${rest.length}${report.mismatchesTruncated ? '+' : ''} more)`;
}

/**
 * The result of a finished restore-test Job (undefined while it runs). It
 * passed when the Job completed and its report, if any, says ok; the report
 * supplies the backup tested, the duration and the first difference; with no
 * report, the exit code and the Job's condition (a deadline, an evicted pod)
 * explain the failure.
 */
export function restoreTestJobResult(
  job: V1Job,
  pods: readonly V1Pod[],
): RestoreTestRunResult | undefined {
  const outcome = jobOutcome(job);
  if (!outcome) return undefined;
  const jobName = job.metadata?.name ?? '';
  const jobUid = job.metadata?.uid ?? jobName;
  // The first container that carries a report, in any pod (newest first).
  const found = findTermination(podsOfJob(job, pods), parseReport, (r) => r !== undefined);
  const t = found?.end;
  const report = found?.reading;
  const final = condition(job, outcome === 'succeeded' ? 'Complete' : 'Failed');
  const started = toDate(report?.startedAt) ?? toDate(job.status?.startTime);
  const finishedAt =
    toDate(report?.finishedAt) ??
    toDate(job.status?.completionTime) ??
    toDate(final?.lastTransitionTime) ??
    t?.finishedAt ??
    started ??
    new Date(0);
  const durationSeconds =
    report?.durationSeconds ??
    (started ? Math.max(0, (finishedAt.getTime() - started.getTime()) / 1000) : undefined);
  const ok = outcome === 'succeeded' && (report?.ok ?? true);

  let reason: string | undefined;
  if (report && !report.ok) reason = firstProblem(report) ?? 'restore test failed';
  else if (!ok) {
    if (t?.exitCode !== undefined && t.exitCode !== 0) {
      reason = `restore test exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
      const text = t.message?.trim();
      if (text) reason += `: ${clip(text, 200)}`;
    } else if (final?.reason || final?.message) {
      reason = [final.reason, final.message].filter(Boolean).join(': ');
    } else reason = 'restore test failed';
  } else if (!report) reason = 'no restore-test report found';

  return {
    ok,
    ...(reason !== undefined ? { reason: clip(reason) } : {}),
    durationSeconds,
    finishedAt,
    ...(report?.backup !== undefined ? { key: report.backup, backup: report.backup } : {}),
    ...(report?.tables !== undefined ? { tables: report.tables } : {}),
    ...(report?.checks !== undefined ? { checks: report.checks } : {}),
    mismatches: report?.mismatches.length ?? 0,
    jobName,
    jobUid,
  };
}

/** The Event for one finished restore test: names, counts and the first difference only. */
export function restoreTestEvent(
  w: MeteredWorkload,
  r: RestoreTestRunResult,
): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  const about = [r.backup ? `backup ${r.backup}` : undefined, `job ${r.jobName}`]
    .filter(Boolean)
    .join(', ');
  if (r.ok) {
    const what = [
      r.tables !== undefined ? `${r.tables} table${r.tables === 1 ? '' : 's'}` : undefined,
      r.checks !== undefined ? `${r.checks} check${r.checks === 1 ? '' : 's'}` : undefined,
    ].filter(Boolean);
    const detail = [
      what.length > 0 ? `${what.join(' and ')} as in the backup` : undefined,
      r.durationSeconds !== undefined ? `in ${formatDuration(r.durationSeconds)}` : undefined,
      r.reason,
    ].filter(Boolean);
    return {
      type: 'Normal',
      reason: RestoreTestEventReasons.RestoreTestSucceeded,
      message:
        `restore test of ${w.namespace}/${w.name} passed` +
        `${detail.length > 0 ? `: ${detail.join(', ')}` : ''} (${about})`,
    };
  }
  return {
    type: 'Warning',
    reason: RestoreTestEventReasons.RestoreTestFailed,
    message: `restore test of ${w.namespace}/${w.name} failed: ${r.reason ?? 'unknown reason'} (${about})`,
  };
}

export type RestoreTestMetrics = Pick<
  Metrics,
  'restoreTestLastSuccess' | 'restoreTestLastDuration' | 'restoreTestFailures'
>;

/**
 * A workload's restore-test metrics from its restore-test CronJob's record.
 * The failure counter is raised to the recorded count (never lowered), and
 * exported from 0, so increase() sees the first failure.
 */
export function applyRestoreTestMetrics(
  metrics: RestoreTestMetrics,
  w: MeteredWorkload,
  status: WorkloadStatus,
): void {
  const labels = metricLabels(w);
  if (status.lastSuccess) {
    metrics.restoreTestLastSuccess.set(labels, status.lastSuccess.getTime() / 1000);
  }
  if (status.lastDurationSeconds !== undefined) {
    metrics.restoreTestLastDuration.set(labels, status.lastDurationSeconds);
  }
  raiseCounterTo(metrics.restoreTestFailures, labels, status.runsFailed);
}

/** Drops a workload's restore-test series (its restore-test CronJob is gone). */
export function removeRestoreTestMetrics(metrics: RestoreTestMetrics, w: MeteredWorkload): void {
  const labels = metricLabels(w);
  metrics.restoreTestLastSuccess.remove(labels);
  metrics.restoreTestLastDuration.remove(labels);
  removeCounterSeries(metrics.restoreTestFailures, labels);
}
