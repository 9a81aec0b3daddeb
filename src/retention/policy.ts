/**
 * Retention policy strings, as the `retention` annotation, `--retention` and
 * SNAPKEEPER_RETENTION carry them:
 *
 *   keep-last=7,keep-daily=14,keep-weekly=8,keep-monthly=12
 *   max-age=30d
 *   max-age=30d,keep-last=3
 *
 * keep-* rules follow restic's `forget` semantics (see select.ts). max-age
 * (units h, d, w) keeps what is younger than the age. The rules may be mixed:
 * like restic's `--keep-within` beside `--keep-*`, a backup is kept when ANY
 * rule keeps it, so `max-age=30d,keep-last=3` still keeps the last three
 * backups when the backups stopped working a month ago. Mixing can only keep
 * more, never less, so there is nothing to forbid.
 *
 * An empty string is the empty policy: keep everything.
 */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Keep backups younger than this many milliseconds. */
  maxAgeMs?: number;
}

export type ParseRetentionResult =
  { ok: true; policy: RetentionPolicy } | { ok: false; error: string };

const keepRules = {
  'keep-last': 'keepLast',
  'keep-hourly': 'keepHourly',
  'keep-daily': 'keepDaily',
  'keep-weekly': 'keepWeekly',
  'keep-monthly': 'keepMonthly',
  'keep-yearly': 'keepYearly',
} as const satisfies Record<string, keyof RetentionPolicy>;

const HOUR = 3_600_000;
const units = { h: HOUR, d: 24 * HOUR, w: 7 * 24 * HOUR } as const;

const ACCEPTED =
  'accepted: comma-separated keep-last=N, keep-hourly=N, keep-daily=N, keep-weekly=N, ' +
  'keep-monthly=N, keep-yearly=N (N ≥ 1) and/or max-age=<number><h|d|w> (e.g. 30d)';

/** Never throws: every problem is the one-line `error`, naming what is accepted. */
export function parseRetention(s: string): ParseRetentionResult {
  const policy: RetentionPolicy = {};
  const text = s.trim();
  if (text === '') return { ok: true, policy };
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    const fail = (why: string) => ({ ok: false as const, error: `${why}; ${ACCEPTED}` });
    if (part === '') return fail(`empty rule in ${JSON.stringify(s)}`);
    if (seen.has(name)) return fail(`${name} given twice`);
    seen.add(name);
    if (eq < 0) return fail(`${JSON.stringify(part)} has no value`);
    if (name === 'max-age') {
      const m = /^(\d+)([hdw])$/.exec(value);
      if (!m || Number(m[1]) === 0)
        return fail(`max-age=${value} is not a positive age like 36h, 30d or 8w`);
      policy.maxAgeMs = Number(m[1]) * units[m[2] as keyof typeof units];
      continue;
    }
    const key = keepRules[name as keyof typeof keepRules];
    if (key === undefined) return fail(`unknown rule ${JSON.stringify(name)}`);
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
      return fail(`${name}=${value} is not a positive integer`);
    policy[key] = Number(value);
  }
  return { ok: true, policy };
}

/** True when the policy deletes nothing. */
export function keepsEverything(p: RetentionPolicy): boolean {
  return Object.values(p).every((v) => v === undefined);
}

/** The canonical string form (the order of parseRetention's accepted list). */
export function formatRetention(p: RetentionPolicy): string {
  const parts: string[] = [];
  for (const [name, key] of Object.entries(keepRules)) {
    const v = p[key];
    if (v !== undefined) parts.push(`${name}=${v}`);
  }
  if (p.maxAgeMs !== undefined) {
    const [unit, ms] = (['w', 'd', 'h'] as const)
      .map((u) => [u, units[u]] as const)
      .find(([, ms]) => p.maxAgeMs! % ms === 0) ?? ['h', HOUR];
    parts.push(`max-age=${Math.round(p.maxAgeMs / ms)}${unit}`);
  }
  return parts.join(',');
}
