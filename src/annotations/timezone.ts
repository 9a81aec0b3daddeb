/**
 * The `timezone` annotation: an IANA zone name, as the CronJob's `timeZone`
 * field takes it. Checked against the zones this Node.js knows
 * (Intl.supportedValuesOf), plus UTC and Etc/UTC, which ICU lists under
 * other names. Names are case-sensitive, as they are for Kubernetes.
 */
let zones: Set<string> | undefined;

export const TIMEZONE_ACCEPTED =
  'an IANA time zone name such as Etc/UTC, Europe/Paris or America/New_York';

/** undefined when valid; otherwise a hint (possibly empty). */
export function timezoneProblem(name: string): string | undefined {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT']);
  if (zones.has(name)) return undefined;
  const lower = name.toLowerCase();
  const match = [...zones].find((z) => z.toLowerCase() === lower);
  return match ? `did you mean ${match}?` : '';
}
