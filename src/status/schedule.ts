import { CronExpressionParser } from 'cron-parser';

/**
 * Schedule arithmetic for `status` (next run) and the missed-backup check.
 * The schedule is the CronJob's own (`spec.schedule`, `spec.timeZone`), which
 * the desired builder has already resolved (no `H` left).
 */

const DEFAULT_TIMEZONE = 'Etc/UTC';

/** Kubernetes accepts `CRON_TZ=`/`TZ=` prefixes; cron-parser does not. */
function normalize(schedule: string, timezone: string | undefined): { expr: string; tz: string } {
  let expr = schedule.trim();
  let tz = timezone || DEFAULT_TIMEZONE;
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expr);
  if (m) {
    tz = m[1]!;
    expr = m[2]!;
  }
  return { expr, tz };
}

/** The first scheduled time strictly after `after`, or undefined for an unusable schedule. */
export function nextRun(
  schedule: string,
  timezone: string | undefined,
  after: Date,
): Date | undefined {
  try {
    const { expr, tz } = normalize(schedule, timezone);
    return CronExpressionParser.parse(expr, { currentDate: after, tz }).next().toDate();
  } catch {
    return undefined;
  }
}

/**
 * True when a backup that should have happened has not: the first scheduled
 * run after the last success (or, for a workload never backed up, after the
 * CronJob was created) is more than `graceSeconds` in the past. A run that
 * starts on time and succeeds within the grace is never missed; a run that
 * fails, never starts, or is still running past the grace is.
 */
export function isMissed(
  schedule: string,
  timezone: string | undefined,
  lastSuccess: Date | undefined,
  now: Date,
  graceSeconds: number,
  createdAt?: Date,
): boolean {
  return missedSince(schedule, timezone, lastSuccess, now, graceSeconds, createdAt) !== undefined;
}

/**
 * The scheduled run that was missed (see isMissed), or undefined. Stable while
 * the workload stays missed, so it can key a deduplicated Event.
 */
export function missedSince(
  schedule: string,
  timezone: string | undefined,
  lastSuccess: Date | undefined,
  now: Date,
  graceSeconds: number,
  createdAt?: Date,
): Date | undefined {
  const since = lastSuccess ?? createdAt;
  if (!since) return undefined;
  const due = nextRun(schedule, timezone, since);
  if (!due) return undefined;
  return due.getTime() + graceSeconds * 1000 <= now.getTime() ? due : undefined;
}
