/**
 * The scheduled restore test's report: one JSON line that `snapkeeper
 * restore-test` writes to the termination-message path when it runs in the
 * restore-test CronJob (src/restoretest/in-cluster.ts), and that the
 * operator's status controller reads from the finished Job (Events, metrics,
 * the status row; src/status/restore-test.ts). One schema for both sides: the
 * writer builds a `RestoreTestReport` (src/restoretest/report.ts), formats
 * it with `formatReport`, the reader parses with `parseReport`. At most 4096
 * bytes, the kubelet's cap on a termination message; the full result is
 * restore-test.json beside the manifest.
 */
import { z } from 'zod';
import { byteSize as size, largestFitting } from './line.js';

export const MAX_REPORT_BYTES = 4096;

export const restoreTestReportSchema = z.object({
  kind: z.literal('restore-test'),
  /** True: restored, every count equal and every check true. */
  ok: z.boolean(),
  /** The manifest key of the backup tested; absent when none could be chosen. */
  backup: z.string().optional(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationSeconds: z.number().nonnegative(),
  /** How many tables and checks were compared (absent when it did not get that far). */
  tables: z.number().int().nonnegative().optional(),
  checks: z.number().int().nonnegative().optional(),
  /** The differences, first first (`orders: 120000 rows in the backup, 119412 restored`); may be cut. */
  mismatches: z.array(z.string()),
  /** True when `mismatches` was cut to fit. */
  mismatchesTruncated: z.boolean().optional(),
  /** Why the test could not run to its comparison (no backup, wrong key, restore failed). */
  error: z.string().optional(),
});

export type RestoreTestReport = z.infer<typeof restoreTestReportSchema>;

function cutText(s: string, n: number): string {
  const points = Array.from(s);
  return points.length <= n ? s : points.slice(0, n).join('') + '…';
}

/**
 * The report as one line of at most `max` bytes: mismatches are dropped from
 * the end until it fits (the first one stays, cut if need be), then a long
 * error is cut.
 */
export function formatReport(report: RestoreTestReport, max = MAX_REPORT_BYTES): string {
  let r: RestoreTestReport = report;
  let line = JSON.stringify(r);
  if (size(line) > max && report.mismatches.length > 1) {
    // The most mismatches (at least one) that fit, by bisection.
    const keep = (n: number): RestoreTestReport => ({
      ...report,
      mismatches: report.mismatches.slice(0, n),
      mismatchesTruncated: true,
    });
    r = keep(
      largestFitting(1, report.mismatches.length - 1, (n) => size(JSON.stringify(keep(n))) <= max),
    );
    line = JSON.stringify(r);
  }
  // Still too long: cut the remaining mismatch and the error to the longest prefix that fits.
  for (const field of ['mismatch', 'error'] as const) {
    if (size(line) <= max) break;
    const full = field === 'error' ? (r.error ?? '') : (r.mismatches[0] ?? '');
    if (full === '') continue;
    const build = (n: number): RestoreTestReport =>
      field === 'error'
        ? { ...r, error: cutText(full, n) }
        : { ...r, mismatches: [cutText(full, n)], mismatchesTruncated: true };
    r = build(
      largestFitting(0, Array.from(full).length, (n) => size(JSON.stringify(build(n))) <= max),
    );
    line = JSON.stringify(r);
  }
  return line;
}

/** The report in a termination message; undefined when it is not one (another container's message, garbage). */
export function parseReport(message: string | undefined): RestoreTestReport | undefined {
  if (message === undefined) return undefined;
  const line = message.trim().split('\n').pop() ?? '';
  try {
    const parsed = restoreTestReportSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
