import type { V1CronJob } from '@kubernetes/client-node';
import { isRestoreTestObject } from '../labels.js';
import { readStatus } from './annotations.js';
import { formatBytes, formatDuration } from './format.js';
import { nextRun } from './schedule.js';
import { isManaged, workloadOf } from './workload.js';

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
  runsSucceeded: number;
  runsFailed: number;
}

/** Rows for snapkeeper's CronJobs, sorted by namespace and workload. Pure. */
export function statusRows(cronJobs: readonly V1CronJob[], now: Date): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const cj of cronJobs) {
    const w = workloadOf(cj);
    // One row per workload: its restore-test CronJob is not a backup.
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
      runsSucceeded: s.runsSucceeded,
      runsFailed: s.runsFailed,
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
  'LAST ERROR',
] as const;

/**
 * The human table. The last error is shown while it is the newest result; a
 * later success clears it from the table (the JSON output keeps it).
 */
export function formatStatusTable(rows: readonly StatusRow[], now: Date): string {
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
    r.lastResult === 'failure' && r.lastError ? r.lastError : '-',
  ]);
  const all = [[...HEADERS], ...cells];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return (
    all
      .map((row) =>
        row
          .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
