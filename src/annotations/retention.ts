/**
 * Check of a retention policy string, for the `retention` annotation and
 * `SNAPKEEPER_DEFAULT_RETENTION`: the dumper applies the policy with the same
 * parser (src/retention/policy.ts), so what is accepted here is exactly what
 * the dumper understands, and a typo is reported on the pod at once instead
 * of failing the first backup. An empty value is the policy "keep everything".
 */
import { parseRetention } from '../retention/policy.js';

export const RETENTION_ACCEPTED =
  'comma list of keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly =<n ≥ 1> and/or max-age=<n>h|d|w, e.g. keep-last=7,keep-daily=14 or max-age=30d';

/** undefined when valid, else the reason (without the accepted list). */
export function retentionProblem(value: string): string | undefined {
  const r = parseRetention(value);
  return r.ok ? undefined : r.error.replace(/; accepted:.*$/s, '');
}
