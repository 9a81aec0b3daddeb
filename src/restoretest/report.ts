/**
 * The restore-test report (its schema and line: src/contract/
 * restore-test-report.ts) built from what the test did: the result of a
 * comparison, or the error that stopped it before.
 */
import type { RestoreTestReport } from '../contract/restore-test-report.js';
import type { RestoreTestResult } from './result.js';

/** The report of a restore test that ran to its comparison. */
export function reportFromResult(result: RestoreTestResult): RestoreTestReport {
  const started = Date.parse(result.startedAt);
  const finished = Date.parse(result.finishedAt);
  return {
    kind: 'restore-test',
    ok: result.ok,
    backup: result.backup,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    durationSeconds: Math.max(0, (finished - started) / 1000),
    tables: result.databases.reduce((n, d) => n + d.tables.length, 0),
    checks: result.checks.length,
    mismatches: result.mismatches,
  };
}

/** The report of a restore test that stopped before its comparison. */
export function failureReport(
  error: string,
  startedAt: Date,
  finishedAt: Date,
  backup?: string,
): RestoreTestReport {
  return {
    kind: 'restore-test',
    ok: false,
    ...(backup === undefined ? {} : { backup }),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.max(0, (finishedAt.getTime() - startedAt.getTime()) / 1000),
    mismatches: [],
    error,
  };
}
