import type { V1CronJob } from '@kubernetes/client-node';
import { isRestoreTestObject } from '../labels.js';
import { readStatus } from '../status/annotations.js';
import { formatBytes, formatDuration } from '../status/format.js';
import { nextRun } from '../status/schedule.js';
import { workloadKey } from '../workload.js';
import { formatTable } from './storage-flags.js';
import { isManaged, workloadOf } from '../status/workload.js';

/** One line of `snapkeeper status`; the JSON output is an array of these. */
export interface StatusRow {
  namespace: string;
  workload: string;
  kind: string;
  engine: string;
  cronJob: string;
  schedule: string;
  timezone: string;
  suspended: boolean;
  nextRun: string | null;
  lastSuccess: string | null;
  lastSizeBytes: number | null;
  lastDurationSeconds: number | null;
  lastResult: 'success' | 'failure' | null;
  lastFailure: string | null;
  lastError: string | null;
  lastJob: string | null;
  /** BackupShrank: why the last success holds far less than the backup before; null when it does not. */
  lastShrank: string | null;
  runsSucceeded: number;
  runsFailed: number;
  /** Successful runs that shrank (BackupShrank). */
  runsShrank: number;
  /** The scheduled restore test, from the workload's restore-test CronJob; null when it has none. */
  restoreTest: RestoreTestRow | null;
}

/** The restore-test part of a status row (the record on the restore-test CronJob). */
export interface RestoreTestRow {
  cronJob: string;
  schedule: string;
  suspended: boolean;
  nextRun: string | null;
  /** When the newest finished test ended, and how it went. */
  lastTest: string | null;
  lastResult: 'success' | 'failure' | null;
  lastSuccess: string | null;
  lastFailure: string | null;
  /** The first mismatch or the error of the last failed test. */
  lastError: string | null;
  /** The backup (manifest key) the last passed test restored. */
  lastBackup: string | null;
  lastDurationSeconds: number | null;
  testsSucceeded: number;
  testsFailed: number;
}

function restoreTestRow(cj: V1CronJob, now: Date): RestoreTestRow {
  const s = readStatus(cj.metadata?.annotations);
  const schedule = cj.spec?.schedule ?? '';
  const suspended = cj.spec?.suspend === true;
  const next = suspended ? undefined : nextRun(schedule, cj.spec?.timeZone ?? 'Etc/UTC', now);
  const last = [s.lastSuccess, s.lastFailure]
    .filter((d): d is Date => d !== undefined)
    .sort((a, b) => b.getTime() - a.getTime())[0];
  return {
    cronJob: cj.metadata?.name ?? '',
    schedule,
    suspended,
    nextRun: next?.toISOString() ?? null,
    lastTest: last?.toISOString() ?? null,
    lastResult: s.lastResult ?? null,
    lastSuccess: s.lastSuccess?.toISOString() ?? null,
    lastFailure: s.lastFailure?.toISOString() ?? null,
    lastError: s.lastError ?? null,
    lastBackup: s.lastKey ?? null,
    lastDurationSeconds: s.lastDurationSeconds ?? null,
    testsSucceeded: s.runsSucceeded,
    testsFailed: s.runsFailed,
  };
}

/** Rows for snapkeeper's CronJobs, sorted by namespace and workload. Pure. */
export function statusRows(cronJobs: readonly V1CronJob[], now: Date): StatusRow[] {
  const rows: StatusRow[] = [];
  const tests = new Map<string, RestoreTestRow>();
  for (const cj of cronJobs) {
    const w = workloadOf(cj);
    if (w && isManaged(cj) && isRestoreTestObject(cj))
      tests.set(workloadKey(w), restoreTestRow(cj, now));
  }
  for (const cj of cronJobs) {
    const w = workloadOf(cj);
    if (!w || !isManaged(cj) || isRestoreTestObject(cj)) continue;
    const s = readStatus(cj.metadata?.annotations);
    const schedule = cj.spec?.schedule ?? '';
    const timezone = cj.spec?.timeZone ?? 'Etc/UTC';
    const suspended = cj.spec?.suspend === true;
    const next = suspended ? undefined : nextRun(schedule, timezone, now);
    rows.push({
      namespace: w.namespace,
      workload: w.name,
      kind: w.kind,
      engine: w.type,
      cronJob: cj.metadata?.name ?? '',
      schedule,
      timezone,
      suspended,
      nextRun: next?.toISOString() ?? null,
      lastSuccess: s.lastSuccess?.toISOString() ?? null,
      lastSizeBytes: s.lastSizeBytes ?? null,
      lastDurationSeconds: s.lastDurationSeconds ?? null,
      lastResult: s.lastResult ?? null,
      lastFailure: s.lastFailure?.toISOString() ?? null,
      lastError: s.lastError ?? null,
      lastJob: s.lastJob ?? null,
      lastShrank: s.lastShrank ?? null,
      runsSucceeded: s.runsSucceeded,
      runsFailed: s.runsFailed,
      runsShrank: s.runsShrank,
      restoreTest: tests.get(workloadKey(w)) ?? null,
    });
  }
  return rows.sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload),
  );
}

/** "2h ago" / "in 5m": how far a time is from now, coarsely. */
export function relative(iso: string | null, now: Date): string {
  if (!iso) return '-';
  const diff = (new Date(iso).getTime() - now.getTime()) / 1000;
  const abs = Math.abs(diff);
  const text =
    abs < 90
      ? `${Math.round(abs)}s`
      : abs < 90 * 60
        ? `${Math.round(abs / 60)}m`
        : abs < 48 * 3600
          ? `${Math.round(abs / 3600)}h`
          : `${Math.round(abs / 86400)}d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

const HEADERS = [
  'NAMESPACE',
  'WORKLOAD',
  'ENGINE',
  'SCHEDULE',
  'TIMEZONE',
  'NEXT RUN',
  'LAST SUCCESS',
  'LAST SIZE',
  'LAST DURATION',
  'LAST TEST',
  'LAST ERROR',
] as const;
const LAST_TEST = HEADERS.indexOf('LAST TEST');

/** The LAST TEST cell: how the newest restore test went, and when. */
function lastTestCell(t: RestoreTestRow | null, now: Date): string {
  if (!t) return '-';
  if (!t.lastTest) return t.suspended ? 'never (suspended)' : 'never';
  return `${t.lastResult === 'failure' ? 'FAILED' : 'ok'} ${t.lastTest.slice(0, 16)}Z (${relative(t.lastTest, now)})`;
}

/**
 * The LAST ERROR cell: the newest backup's error (or, when it succeeded but
 * shrank, the BackupShrank sentence), then the newest restore test's.
 */
function lastErrorCell(r: StatusRow): string {
  const errors = [
    r.lastResult === 'failure' && r.lastError ? r.lastError : undefined,
    r.lastResult === 'success' && r.lastShrank ? r.lastShrank : undefined,
    r.restoreTest?.lastResult === 'failure' && r.restoreTest.lastError
      ? `restore test: ${r.restoreTest.lastError}`
      : undefined,
  ].filter(Boolean);
  return errors.length > 0 ? errors.join('; ') : '-';
}

/**
 * The human table. The last error is shown while it is the newest result; a
 * later success clears it from the table (the JSON output keeps it). The
 * LAST TEST column appears when a workload has a scheduled restore test.
 */
export function formatStatusTable(rows: readonly StatusRow[], now: Date): string {
  const withTests = rows.some((r) => r.restoreTest !== null);
  const headers = HEADERS.filter((_, i) => withTests || i !== LAST_TEST);
  const cells = rows.map((r) => [
    r.namespace,
    r.workload,
    r.engine,
    r.schedule,
    r.timezone,
    r.suspended
      ? 'suspended'
      : r.nextRun
        ? `${r.nextRun.slice(0, 16)}Z (${relative(r.nextRun, now)})`
        : '-',
    r.lastSuccess ? `${r.lastSuccess.slice(0, 16)}Z (${relative(r.lastSuccess, now)})` : 'never',
    r.lastSizeBytes === null ? '-' : formatBytes(r.lastSizeBytes),
    r.lastDurationSeconds === null ? '-' : formatDuration(r.lastDurationSeconds),
    ...(withTests ? [lastTestCell(r.restoreTest, now)] : []),
    lastErrorCell(r),
  ]);
  return formatTable(headers, cells);
}
