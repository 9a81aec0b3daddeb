// Finished restore-test Jobs → a run result, an Event, the status record and
// the LAST TEST column; the report is read with the shared parseReport.
import type { MeteredWorkload } from '../../src/status/workload.js';
import { describe, expect, it } from 'vitest';
import type { V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import { formatReport, type RestoreTestReport } from '../../src/contract/restore-test-report.js';
import { failureReport } from '../../src/restoretest/report.js';
import {
  firstProblem,
  restoreTestEvent,
  restoreTestJobResult,
} from '../../src/status/restore-test.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import {
  applyAnnotationPatch,
  readStatus,
  statusAnnotations,
} from '../../src/status/annotations.js';
import { formatStatusTable, statusRows } from '../../src/cli/status-table.js';

const w: MeteredWorkload = {
  namespace: 'shop',
  name: 'postgres',
  kind: 'Deployment',
  type: 'postgresql',
};
const passed: RestoreTestReport = {
  kind: 'restore-test',
  ok: true,
  backup: 'shop/postgres/20261120T030000Z/manifest.json',
  startedAt: '2026-11-20T05:00:00.000Z',
  finishedAt: '2026-11-20T05:02:03.000Z',
  durationSeconds: 123,
  tables: 42,
  checks: 2,
  mismatches: [],
};
const mismatched: RestoreTestReport = {
  ...passed,
  ok: false,
  mismatches: [
    'orders: 120000 rows in the backup, 119412 restored',
    'customers: 10 rows in the backup, 9 restored',
  ],
};

function job(
  outcome: 'Complete' | 'Failed' | undefined,
  extra: Partial<V1Job['status']> = {},
): V1Job {
  return {
    metadata: { name: 'snapkeeper-shop-postgres-rt-abcdef-29000000', uid: 'job-uid-1' },
    status: {
      startTime: new Date('2026-11-20T05:00:00Z'),
      ...(outcome
        ? {
            conditions: [
              {
                type: outcome,
                status: 'True',
                lastTransitionTime: new Date('2026-11-20T05:02:05Z'),
                ...(outcome === 'Failed'
                  ? {
                      reason: 'DeadlineExceeded',
                      message: 'Job was active longer than specified deadline',
                    }
                  : {}),
              },
            ],
          }
        : {}),
      ...extra,
    },
  };
}

function pod(exitCode: number | undefined, message?: string): V1Pod {
  return {
    metadata: {
      name: 'p',
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: 'job-uid-1' }],
    },
    status: {
      containerStatuses:
        exitCode === undefined
          ? []
          : [
              {
                name: 'restore-test',
                image: 'i',
                imageID: '',
                ready: false,
                restartCount: 0,
                state: {
                  terminated: {
                    exitCode,
                    ...(message !== undefined ? { message } : {}),
                    finishedAt: new Date('2026-11-20T05:02:04Z'),
                  },
                },
              },
            ],
    },
  };
}

describe('restoreTestJobResult', () => {
  it('given a running Job, then no result', () => {
    expect(restoreTestJobResult(job(undefined), [pod(undefined)])).toBeUndefined();
  });

  it('given a completed Job with a passed report, then ok, with the backup, counts and the report times', () => {
    expect(restoreTestJobResult(job('Complete'), [pod(0, formatReport(passed))])).toEqual({
      ok: true,
      durationSeconds: 123,
      finishedAt: new Date('2026-11-20T05:02:03.000Z'),
      key: passed.backup,
      backup: passed.backup,
      tables: 42,
      checks: 2,
      mismatches: 0,
      jobName: 'snapkeeper-shop-postgres-rt-abcdef-29000000',
      jobUid: 'job-uid-1',
    });
  });

  it('given a failed Job whose report names mismatches, then a failure whose reason is the first one, and how many more', () => {
    const r = restoreTestJobResult(job('Failed'), [pod(1, formatReport(mismatched))])!;
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('orders: 120000 rows in the backup, 119412 restored (and 1 more)');
    expect(r.mismatches).toBe(2);
  });

  it('given a failure report (the test stopped before comparing), then the reason is its error', () => {
    const report = failureReport(
      'no backup of shop/postgres in s3://backups/prod',
      new Date('2026-11-20T05:00:00Z'),
      new Date('2026-11-20T05:00:01Z'),
    );
    const r = restoreTestJobResult(job('Failed'), [pod(1, formatReport(report))])!;
    expect(r).toMatchObject({
      ok: false,
      reason: 'no backup of shop/postgres in s3://backups/prod',
      durationSeconds: 1,
    });
    expect(r.key).toBeUndefined();
  });

  it('given a failed Job with no report and no pod result (deadline), then the Job condition explains it', () => {
    expect(restoreTestJobResult(job('Failed'), [])!.reason).toBe(
      'DeadlineExceeded: Job was active longer than specified deadline',
    );
  });

  it('given a failed Job whose container wrote something else, then the exit code and that text', () => {
    expect(restoreTestJobResult(job('Failed'), [pod(137, 'Killed')])!.reason).toBe(
      'restore test exited with code 137: Killed',
    );
  });

  it('given a completed Job with a report that says not ok, then a failure: the report is the finding', () => {
    expect(restoreTestJobResult(job('Complete'), [pod(0, formatReport(mismatched))])!.ok).toBe(
      false,
    );
  });

  it('given a completed Job without a report, then ok, with a note', () => {
    expect(restoreTestJobResult(job('Complete'), [pod(0)])).toMatchObject({
      ok: true,
      reason: 'no restore-test report found',
    });
  });

  it('given a backup result line (a dumper message), then it is not taken for a report', () => {
    const dumper = JSON.stringify({ ok: true, bytes: 1, durationSeconds: 1 });
    expect(restoreTestJobResult(job('Complete'), [pod(0, dumper)])!.reason).toBe(
      'no restore-test report found',
    );
  });
});

describe('firstProblem', () => {
  it('given a cut list of mismatches, then it says there were more', () => {
    expect(firstProblem({ ...mismatched, mismatches: ['a'], mismatchesTruncated: true })).toBe(
      'a (and 0+ more)',
    );
  });
  it('given an error and mismatches, then the error', () => {
    expect(firstProblem({ ...mismatched, error: 'restore failed' })).toBe('restore failed');
  });
});

describe('restoreTestEvent', () => {
  it('given a passed test, then RestoreTestSucceeded (Normal) with counts, duration, backup and job', () => {
    const r = restoreTestJobResult(job('Complete'), [pod(0, formatReport(passed))])!;
    expect(restoreTestEvent(w, r)).toEqual({
      type: 'Normal',
      reason: 'RestoreTestSucceeded',
      message:
        'restore test of shop/postgres passed: 42 tables and 2 checks as in the backup, in 2m3s ' +
        '(backup shop/postgres/20261120T030000Z/manifest.json, job snapkeeper-shop-postgres-rt-abcdef-29000000)',
    });
  });

  it('given a failed test, then RestoreTestFailed (Warning) with the first mismatch', () => {
    const r = restoreTestJobResult(job('Failed'), [pod(1, formatReport(mismatched))])!;
    expect(restoreTestEvent(w, r)).toEqual({
      type: 'Warning',
      reason: 'RestoreTestFailed',
      message:
        'restore test of shop/postgres failed: orders: 120000 rows in the backup, 119412 restored (and 1 more) ' +
        '(backup shop/postgres/20261120T030000Z/manifest.json, job snapkeeper-shop-postgres-rt-abcdef-29000000)',
    });
  });
});

describe('the restore-test status record and the LAST TEST column', () => {
  const now = new Date('2026-11-20T12:00:00Z');
  const labels = {
    'app.kubernetes.io/managed-by': 'snapkeeper',
    'snapkeeper.io/workload-namespace': 'shop',
    'snapkeeper.io/workload-name': 'postgres',
    'snapkeeper.io/workload-kind': 'Deployment',
    'snapkeeper.io/type': 'postgresql',
  };
  const cronJob = (name: string, extra: Record<string, string>, ann: Record<string, string>) =>
    ({
      metadata: { name, labels: { ...labels, ...extra }, annotations: ann },
      spec: {
        schedule: name.includes('-rt-') ? '15 6 * * *' : '0 3 * * *',
        timeZone: 'Etc/UTC',
        jobTemplate: { spec: { template: { spec: { containers: [] } } } },
      },
    }) as V1CronJob;
  const record = (r: ReturnType<typeof restoreTestJobResult>) =>
    applyAnnotationPatch({}, statusAnnotations(r!, {})!);

  it('given a failed test recorded on the restore-test CronJob, then one row for the workload with its restore test, and the table shows LAST TEST and the mismatch', () => {
    const failed = record(restoreTestJobResult(job('Failed'), [pod(1, formatReport(mismatched))]));
    expect(readStatus(failed)).toMatchObject({ lastResult: 'failure', runsFailed: 1 });
    const rows = statusRows(
      [
        cronJob('sk-rt-1', { 'snapkeeper.io/job-kind': 'restore-test' }, failed),
        cronJob('sk-1', {}, { [A.lastSuccess]: '2026-11-20T03:00:10Z', [A.lastResult]: 'success' }),
      ],
      now,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cronJob).toBe('sk-1');
    expect(rows[0]!.restoreTest).toEqual({
      cronJob: 'sk-rt-1',
      schedule: '15 6 * * *',
      suspended: false,
      nextRun: '2026-11-21T06:15:00.000Z',
      lastTest: '2026-11-20T05:02:03.000Z',
      lastResult: 'failure',
      lastSuccess: null,
      lastFailure: '2026-11-20T05:02:03.000Z',
      lastError: 'orders: 120000 rows in the backup, 119412 restored (and 1 more)',
      lastBackup: null,
      lastDurationSeconds: 123,
      testsSucceeded: 0,
      testsFailed: 1,
    });
    const [header, line] = formatStatusTable(rows, now).trimEnd().split('\n');
    expect(header).toMatch(/LAST DURATION\s+LAST TEST\s+LAST ERROR$/);
    expect(line!.slice(header!.indexOf('LAST TEST'))).toMatch(
      /^FAILED 2026-11-20T05:02Z \(7h ago\)\s+restore test: orders: 120000 rows in the backup, 119412 restored \(and 1 more\)$/,
    );
  });

  it('given a passed test, then ok and the backup it restored; the backup row keeps its own record', () => {
    const ok = record(restoreTestJobResult(job('Complete'), [pod(0, formatReport(passed))]));
    const rows = statusRows(
      [
        cronJob('sk-1', {}, {}),
        cronJob('sk-rt-1', { 'snapkeeper.io/job-kind': 'restore-test' }, ok),
      ],
      now,
    );
    expect(rows[0]).toMatchObject({ lastSuccess: null, runsSucceeded: 0, runsFailed: 0 });
    expect(rows[0]!.restoreTest).toMatchObject({
      lastResult: 'success',
      lastBackup: passed.backup,
      testsSucceeded: 1,
    });
    const table = formatStatusTable(rows, now);
    expect(table).toContain('ok 2026-11-20T05:02Z (7h ago)');
    expect(table.trimEnd().split('\n')[1]).toMatch(/\s-$/);
  });

  it('given a restore test that has not run yet, then never; a workload without one shows -', () => {
    const other = cronJob('sk-2', {}, {});
    other.metadata!.labels!['snapkeeper.io/workload-name'] = 'mariadb';
    const rows = statusRows(
      [
        cronJob('sk-1', {}, {}),
        cronJob('sk-rt-1', { 'snapkeeper.io/job-kind': 'restore-test' }, {}),
        other,
      ],
      now,
    );
    expect(rows.map((r) => r.restoreTest?.lastTest ?? null)).toEqual([null, null]);
    const lines = formatStatusTable(rows, now).trimEnd().split('\n');
    const at = lines[0]!.indexOf('LAST TEST');
    expect(lines[1]!.slice(at)).toMatch(/^- /);
    expect(lines[2]!.slice(at)).toMatch(/^never /);
  });

  it('given no workload with a restore test, then no LAST TEST column', () => {
    const table = formatStatusTable(statusRows([cronJob('sk-1', {}, {})], now), now);
    expect(table).not.toContain('LAST TEST');
    expect(statusRows([cronJob('sk-1', {}, {})], now)[0]!.restoreTest).toBeNull();
  });
});
