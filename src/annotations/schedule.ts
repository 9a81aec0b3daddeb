/**
 * The `schedule` annotation: a 5-field cron expression as the Kubernetes
 * CronJob controller understands it, plus Jenkins-style `H` tokens that
 * resolve to a stable per-workload value.
 *
 *   H          any value of the field        H 3 * * *      → 41 3 * * *
 *   H(a-b)     a value within a..b           H H(1-4) * * * → 41 2 * * *
 *   H/n        every n, from a hashed offset H/15 * * * *   → 11-59/15 * * * *
 *   H(a-b)/n   the same within a..b
 *
 * Ranges for a bare H: minute 0-59, hour 0-23, day of month 1-28 (so it
 * exists in every month), month 1-12, day of week 0-6.
 *
 * Macros are spread too, so that a hundred `@daily` databases do not all
 * start at midnight: @hourly = `H * * * *`, @daily / @midnight = `H H * * *`,
 * @weekly = `H H * * H`, @monthly = `H H H * *`, @yearly / @annually =
 * `H H H H *`. Write `0 0 * * *` to get exactly midnight.
 *
 * The value for a field is sha256(workloadKey, field) modulo the range, so it
 * never changes for a workload and differs between workloads and fields.
 */
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';

export const SCHEDULE_ACCEPTED =
  '5-field cron ("minute hour day-of-month month day-of-week", e.g. "0 3 * * *"), H tokens ("H 3 * * *", "H H(1-4) * * *", "H/15 * * * *"), or @hourly, @daily, @weekly, @monthly';

const macros: Record<string, string> = {
  '@hourly': 'H * * * *',
  '@daily': 'H H * * *',
  '@midnight': 'H H * * *',
  '@weekly': 'H H * * H',
  '@monthly': 'H H H * *',
  '@yearly': 'H H H H *',
  '@annually': 'H H H H *',
};

const fields = [
  { name: 'minute', min: 0, max: 59, chars: /^[0-9*,/-]+$/ },
  { name: 'hour', min: 0, max: 23, chars: /^[0-9*,/-]+$/ },
  { name: 'day of month', min: 1, max: 28, chars: /^[0-9*,/?-]+$/ },
  { name: 'month', min: 1, max: 12, chars: /^[0-9a-z*,/-]+$/i },
  { name: 'day of week', min: 0, max: 6, chars: /^[0-9a-z*,/?-]+$/i },
] as const;

const names: Record<number, readonly string[]> = {
  3: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  4: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
};

/** The resolved 5-field schedule, or why it is not one (without the accepted list). */
export function resolveSchedule(
  value: string,
  workloadKey: string,
): { ok: true; schedule: string } | { ok: false; reason: string } {
  const trimmed = value.trim();
  const expanded = macros[trimmed.toLowerCase()] ?? trimmed;
  if (expanded.startsWith('@')) return { ok: false, reason: 'unknown macro' };
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) {
    return {
      ok: false,
      reason: `has ${parts.length} field${parts.length === 1 ? '' : 's'}, not 5`,
    };
  }
  const resolved: string[] = [];
  for (const [i, part] of parts.entries()) {
    const field = fields[i]!;
    const out = resolveField(part, i, field, workloadKey);
    if (typeof out !== 'string') return { ok: false, reason: `${field.name} field ${out.reason}` };
    if (!field.chars.test(out)) {
      return {
        ok: false,
        reason: `${field.name} field ${JSON.stringify(part)} uses syntax Kubernetes does not accept`,
      };
    }
    const badName = (out.match(/[a-z]+/gi) ?? []).find((w) => !names[i]?.includes(w.toLowerCase()));
    if (badName !== undefined) {
      return {
        ok: false,
        reason: `${field.name} field: ${JSON.stringify(badName)} is not a name Kubernetes accepts`,
      };
    }
    resolved.push(out);
  }
  const schedule = resolved.join(' ');
  try {
    CronExpressionParser.parse(schedule, { strict: false });
  } catch (err) {
    return {
      ok: false,
      reason: err instanceof Error ? err.message.replace(/\s+/g, ' ') : 'invalid',
    };
  }
  return { ok: true, schedule };
}

function resolveField(
  part: string,
  index: number,
  field: (typeof fields)[number],
  workloadKey: string,
): string | { reason: string } {
  if (!part.includes('H')) return part;
  // H inside a list (H,30) is resolved item by item.
  const items = part.split(',');
  const out: string[] = [];
  for (const item of items) {
    if (!item.includes('H')) {
      out.push(item);
      continue;
    }
    const m = /^H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?$/.exec(item);
    if (!m) return { reason: `${JSON.stringify(item)} is not H, H(a-b), H/n or H(a-b)/n` };
    const lo = m[1] === undefined ? field.min : Number(m[1]);
    const hi = m[2] === undefined ? field.max : Number(m[2]);
    // An explicit range may use the field's full span (day of month up to 31).
    const fullMax = index === 2 ? 31 : field.max;
    if (lo > hi || lo < field.min || hi > fullMax) {
      return { reason: `range ${lo}-${hi} is outside ${field.min}-${fullMax}` };
    }
    const seed = hashNumber(workloadKey, index);
    if (m[3] === undefined) {
      out.push(String(lo + (seed % (hi - lo + 1))));
      continue;
    }
    const step = Number(m[3]);
    if (step < 1 || step > hi - lo + 1) return { reason: `step ${step} does not fit ${lo}-${hi}` };
    out.push(`${lo + (seed % step)}-${hi}/${step}`);
  }
  // A hashed value can meet a literal one ("H,30" → "30,30"), which cron refuses.
  return [...new Set(out)].join(',');
}

function hashNumber(workloadKey: string, field: number): number {
  return createHash('sha256').update(`${workloadKey}\0${field}`).digest().readUInt32BE(0);
}
