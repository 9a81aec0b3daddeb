import { describe, expect, it } from 'vitest';
import {
  MAX_REPORT_BYTES,
  formatReport,
  parseReport,
} from '../../src/contract/restore-test-report.js';
import { failureReport, reportFromResult } from '../../src/restoretest/report.js';
import type { RestoreTestResult } from '../../src/restoretest/result.js';

const result = (mismatches: string[]): RestoreTestResult => ({
  schemaVersion: 1,
  backup: 'shop/postgres/20261120T030000Z/manifest.json',
  startedAt: '2026-11-20T04:00:00.000Z',
  finishedAt: '2026-11-20T04:00:12.500Z',
  ok: mismatches.length === 0,
  target: 'scratch',
  server: 'PostgreSQL 15.14',
  databases: [
    {
      database: 'shop',
      tables: [
        { name: 'orders', backup: 120000, restored: 119412 },
        { name: 'items', backup: 3, restored: 3 },
      ],
      objects: [{ kind: 'tables', backup: 2, restored: 2 }],
    },
  ],
  checks: [{ sql: 'select true', ok: true, value: 't' }],
  mismatches,
  notes: [],
  snapkeeperVersion: '0.1.0',
});

describe('restore-test report (termination message)', () => {
  it('given a result, then the report counts tables and checks, carries the mismatches and parses back', () => {
    const report = reportFromResult(result(['orders: 120000 rows in the backup, 119412 restored']));
    expect(report).toMatchObject({
      kind: 'restore-test',
      ok: false,
      backup: 'shop/postgres/20261120T030000Z/manifest.json',
      durationSeconds: 12.5,
      tables: 2,
      checks: 1,
      mismatches: ['orders: 120000 rows in the backup, 119412 restored'],
    });
    expect(parseReport(formatReport(report))).toEqual(report);
  });

  it('given a failure before the comparison, then the report says why and parses back', () => {
    const report = failureReport(
      'no backup of shop/postgres',
      new Date('2026-11-20T04:00:00Z'),
      new Date('2026-11-20T04:00:02Z'),
    );
    expect(report).toMatchObject({
      ok: false,
      durationSeconds: 2,
      error: 'no backup of shop/postgres',
    });
    expect(report.backup).toBeUndefined();
    expect(parseReport(formatReport(report))).toEqual(report);
  });

  it('given thousands of mismatches, then the line fits 4096 bytes, keeps the first and says it was cut', () => {
    const many = Array.from(
      { length: 5000 },
      (_, i) => `table_${i}: ${i} rows in the backup, 0 restored`,
    );
    const line = formatReport(reportFromResult(result(many)));
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    const back = parseReport(line);
    expect(back?.mismatches[0]).toBe(many[0]);
    expect(back?.mismatches.length).toBeLessThan(many.length);
    expect(back?.mismatchesTruncated).toBe(true);
  });

  it('given one huge mismatch and a huge multi-byte error, then the line still fits and parses', () => {
    const report = {
      ...failureReport('é'.repeat(10_000), new Date(0), new Date(1000)),
      mismatches: ['x'.repeat(10_000)],
    };
    const line = formatReport(report);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    const back = parseReport(line);
    expect(back?.error?.startsWith('éé')).toBe(true);
    expect(back?.mismatches[0]?.endsWith('…')).toBe(true);
  });

  it('given something that is not a report, then parseReport says undefined', () => {
    expect(parseReport(undefined)).toBeUndefined();
    expect(parseReport('')).toBeUndefined();
    expect(parseReport('{"ok":true,"manifestKey":"a"}')).toBeUndefined();
    expect(parseReport('not json')).toBeUndefined();
  });
});
