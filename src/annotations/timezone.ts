/**
 * The `timezone` annotation: a zone name as the CronJob's `timeZone` field
 * takes it. Kubernetes loads it from the tz database, which has the
 * canonical names (Europe/Paris) and the backward-compatible aliases
 * (US/Eastern, Asia/Calcutta, EST5EDT). Intl.supportedValuesOf lists only
 * the canonical ones, so the test is whether ICU resolves the name
 * (new Intl.DateTimeFormat throws a RangeError for an unknown zone).
 *
 * ICU matches names ignoring case; Kubernetes does not. So a name that is a
 * case variant of a canonical zone, or whose parts do not start with a
 * capital (every tz database name does), is refused with a hint.
 */
let zones: Map<string, string> | undefined;

export const TIMEZONE_ACCEPTED =
  'an IANA time zone name such as Etc/UTC, Europe/Paris, America/New_York or US/Eastern';

/** Letters, digits, `_ + -`, parts separated by `/`, each part starting with a capital. */
const NAME = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;

/** undefined when valid; otherwise a hint (possibly empty). */
export function timezoneProblem(name: string): string | undefined {
  zones ??= new Map(
    [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'].map((z) => [
      z.toLowerCase(),
      z,
    ]),
  );
  const canonical = zones.get(name.toLowerCase());
  if (canonical === name) return undefined;
  if (canonical !== undefined) return `did you mean ${canonical}?`;
  if (!resolves(name)) return '';
  return NAME.test(name) ? undefined : 'names are case-sensitive, e.g. US/Eastern';
}

function resolves(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
