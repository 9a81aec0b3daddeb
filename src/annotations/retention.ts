/**
 * Syntax check of a retention policy string, for the `retention` annotation
 * and `SNAPKEEPER_DEFAULT_RETENTION`. The dumper applies the policy
 * (src/retention/); this check only makes sure a typo is reported on the pod
 * at once instead of failing the first backup.
 *
 * Accepted: a comma list of keep-last|keep-hourly|keep-daily|keep-weekly|
 * keep-monthly|keep-yearly=<n>, or max-age=<n><h|d|w|m|y>; max-age combines
 * with nothing else.
 */
export const RETENTION_ACCEPTED =
  'comma list of keep-last|keep-hourly|keep-daily|keep-weekly|keep-monthly|keep-yearly=<positive integer>, or max-age=<n>h|d|w|m|y, e.g. keep-last=7,keep-daily=14';

const KEEP = /^keep-(last|hourly|daily|weekly|monthly|yearly)=([1-9]\d{0,5})$/;
const MAX_AGE = /^max-age=([1-9]\d{0,5})(h|d|w|m|y)$/;

/** undefined when valid, else the reason. */
export function retentionProblem(value: string): string | undefined {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) return 'has an empty item';
  if (items.some((s) => MAX_AGE.test(s))) {
    return items.length === 1 ? undefined : 'max-age cannot be combined with other rules';
  }
  const seen = new Set<string>();
  for (const item of items) {
    const m = KEEP.exec(item);
    if (!m) return `${JSON.stringify(item)} is not a rule`;
    if (seen.has(m[1]!)) return `keep-${m[1]} is given twice`;
    seen.add(m[1]!);
  }
  return undefined;
}
