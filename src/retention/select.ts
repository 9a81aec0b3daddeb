import type { RetentionPolicy } from './policy.js';

/**
 * Which backups a policy keeps, with restic's `forget` semantics:
 *
 * - keep-last N: the N newest backups.
 * - keep-hourly/daily/weekly/monthly/yearly N: going from newest to oldest,
 *   the first (so newest) backup of each hour/day/ISO week/month/year is
 *   kept, for the N most recent periods that HAVE a backup (periods without
 *   one do not use up the count).
 * - max-age D: every backup younger than D (measured from `now`; restic's
 *   --keep-within measures from the newest snapshot instead — but the
 *   newest backup is always kept anyway, see below).
 * - A backup kept by any rule is kept.
 *
 * Two guards beyond restic: the newest backup is always kept, so no policy
 * can empty a workload's history (e.g. max-age when the backups have been
 * failing for longer than the age); and the empty policy keeps everything.
 * Periods are computed in UTC, like the keys.
 */
export type KeepReason =
  | 'newest'
  | 'last'
  | 'hourly'
  | 'daily'
  | 'weekly'
  | 'monthly'
  | 'yearly'
  | 'max-age'
  | 'no policy';

export interface Selection<T> {
  keep: { item: T; reasons: KeepReason[] }[];
  remove: T[];
}

type Bucketer = (d: Date) => string;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

const bucketers: [keyof RetentionPolicy, KeepReason, Bucketer][] = [
  ['keepHourly', 'hourly', (d) => d.toISOString().slice(0, 13)],
  ['keepDaily', 'daily', (d) => d.toISOString().slice(0, 10)],
  ['keepWeekly', 'weekly', isoWeek],
  ['keepMonthly', 'monthly', (d) => d.toISOString().slice(0, 7)],
  ['keepYearly', 'yearly', (d) => String(d.getUTCFullYear())],
];

/** ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday), as `2026-W47`. */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7; // Monday 1 … Sunday 7
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

export function selectRetention<T>(
  items: readonly T[],
  time: (item: T) => Date,
  policy: RetentionPolicy,
  now: Date,
): Selection<T> {
  const sorted = [...items].sort((a, b) => time(b).getTime() - time(a).getTime());
  const noPolicy = Object.values(policy).every((v) => v === undefined);
  const counts = new Map(bucketers.map(([key]) => [key, policy[key] ?? 0]));
  const lastBucket = new Map<keyof RetentionPolicy, string>();
  const keep: Selection<T>['keep'] = [];
  const remove: T[] = [];

  sorted.forEach((item, index) => {
    const t = time(item);
    const reasons: KeepReason[] = [];
    if (noPolicy) reasons.push('no policy');
    if (index === 0) reasons.push('newest');
    if (policy.keepLast !== undefined && index < policy.keepLast) reasons.push('last');
    for (const [key, reason, bucket] of bucketers) {
      const left = counts.get(key)!;
      if (left <= 0) continue;
      const b = bucket(t);
      // restic: a new period (relative to the last KEPT one of this rule) keeps the backup.
      if (b !== lastBucket.get(key)) {
        lastBucket.set(key, b);
        counts.set(key, left - 1);
        reasons.push(reason);
      }
    }
    if (policy.maxAgeMs !== undefined && now.getTime() - t.getTime() < policy.maxAgeMs)
      reasons.push('max-age');
    if (reasons.length > 0) keep.push({ item, reasons });
    else remove.push(item);
  });
  return { keep, remove };
}
