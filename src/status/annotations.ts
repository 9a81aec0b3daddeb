/**
 * The status record kept as annotations on a workload's CronJob
 * (STATUS_ANNOTATIONS, src/labels.ts), so it survives operator restarts and
 * Job cleanup. Only the status controller writes these, by a merge patch of
 * exactly these keys; they are not part of the desired spec (nor of its
 * hash), so apply must leave them alone.
 */
import { STATUS_ANNOTATIONS } from '../labels.js';
import { clip, type BackupResult } from './result.js';

/** How many recorded Job uids are remembered; more than the Job history a CronJob keeps. */
export const RECORDED_JOBS_KEPT = 20;

/** The status record read back from annotations (absent or garbled values are undefined). */
export interface WorkloadStatus {
  lastSuccess?: Date;
  lastSizeBytes?: number;
  lastDurationSeconds?: number;
  lastKey?: string;
  lastResult?: 'success' | 'failure';
  lastFailure?: Date;
  lastError?: string;
  lastJob?: string;
  runsSucceeded: number;
  runsFailed: number;
  runsShrank: number;
  lastShrank?: string;
  recordedJobs: string[];
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function date(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function readStatus(annotations: Record<string, string> | undefined): WorkloadStatus {
  const a = annotations ?? {};
  const result = a[STATUS_ANNOTATIONS.lastResult];
  return {
    lastSuccess: date(a[STATUS_ANNOTATIONS.lastSuccess]),
    lastSizeBytes: num(a[STATUS_ANNOTATIONS.lastSize]),
    lastDurationSeconds: num(a[STATUS_ANNOTATIONS.lastDuration]),
    lastKey: a[STATUS_ANNOTATIONS.lastKey] || undefined,
    lastResult: result === 'success' || result === 'failure' ? result : undefined,
    lastFailure: date(a[STATUS_ANNOTATIONS.lastFailure]),
    lastError: a[STATUS_ANNOTATIONS.lastError] || undefined,
    lastJob: a[STATUS_ANNOTATIONS.lastJob] || undefined,
    runsSucceeded: Math.floor(num(a[STATUS_ANNOTATIONS.runsSucceeded]) ?? 0),
    runsFailed: Math.floor(num(a[STATUS_ANNOTATIONS.runsFailed]) ?? 0),
    runsShrank: Math.floor(num(a[STATUS_ANNOTATIONS.runsShrank]) ?? 0),
    lastShrank: a[STATUS_ANNOTATIONS.lastShrank] || undefined,
    recordedJobs: (a[STATUS_ANNOTATIONS.recordedJobs] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** Has this Job already been turned into status, Events and metrics? */
export function isRecorded(
  annotations: Record<string, string> | undefined,
  jobUid: string,
): boolean {
  return readStatus(annotations).recordedJobs.includes(jobUid);
}

/**
 * The annotation patch (merge-patch values; null removes a key) that records
 * one finished run on top of the previous annotations, or undefined when this
 * Job is already recorded. A run older than the recorded last success or
 * failure still counts, but does not replace the newer "last" values.
 */
export function statusAnnotations(
  result: BackupResult,
  previous: Record<string, string> | undefined,
): Record<string, string | null> | undefined {
  const prev = readStatus(previous);
  if (prev.recordedJobs.includes(result.jobUid)) return undefined;
  const patch: Record<string, string | null> = {};
  const at = result.finishedAt;
  const lastAny = Math.max(prev.lastSuccess?.getTime() ?? 0, prev.lastFailure?.getTime() ?? 0);
  const newest = at.getTime() >= lastAny;

  if (result.ok) {
    patch[STATUS_ANNOTATIONS.runsSucceeded] = String(prev.runsSucceeded + 1);
    if (result.shrank) patch[STATUS_ANNOTATIONS.runsShrank] = String(prev.runsShrank + 1);
    if (at.getTime() >= (prev.lastSuccess?.getTime() ?? 0)) {
      patch[STATUS_ANNOTATIONS.lastSuccess] = at.toISOString();
      patch[STATUS_ANNOTATIONS.lastSize] =
        result.bytes !== undefined ? String(Math.round(result.bytes)) : null;
      patch[STATUS_ANNOTATIONS.lastKey] = result.key ?? null;
      if (result.shrank) patch[STATUS_ANNOTATIONS.lastShrank] = clip(result.shrank);
      else if (prev.lastShrank !== undefined) patch[STATUS_ANNOTATIONS.lastShrank] = null;
    }
  } else {
    patch[STATUS_ANNOTATIONS.runsFailed] = String(prev.runsFailed + 1);
    if (at.getTime() >= (prev.lastFailure?.getTime() ?? 0)) {
      patch[STATUS_ANNOTATIONS.lastFailure] = at.toISOString();
      patch[STATUS_ANNOTATIONS.lastError] = clip(result.reason ?? 'failed');
    }
  }
  if (newest) {
    patch[STATUS_ANNOTATIONS.lastResult] = result.ok ? 'success' : 'failure';
    patch[STATUS_ANNOTATIONS.lastJob] = result.jobName;
    patch[STATUS_ANNOTATIONS.lastDuration] =
      result.durationSeconds !== undefined ? String(round(result.durationSeconds)) : null;
  }
  patch[STATUS_ANNOTATIONS.recordedJobs] = [...prev.recordedJobs, result.jobUid]
    .slice(-RECORDED_JOBS_KEPT)
    .join(',');
  return patch;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Annotations after applying a merge patch of string-or-null values. */
export function applyAnnotationPatch(
  annotations: Record<string, string> | undefined,
  patch: Record<string, string | null>,
): Record<string, string> {
  const out = { ...(annotations ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * The status annotations of an existing object, for the apply step to carry
 * over when it replaces a CronJob with a new desired spec (they are not part
 * of the desired state, and losing them would re-count finished Jobs).
 */
export function preservedAnnotations(
  existing: { metadata?: { annotations?: Record<string, string> } } | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const keys = new Set<string>(Object.values(STATUS_ANNOTATIONS));
  for (const [k, v] of Object.entries(existing?.metadata?.annotations ?? {})) {
    if (keys.has(k)) out[k] = v;
  }
  return out;
}
