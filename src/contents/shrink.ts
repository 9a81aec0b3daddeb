/**
 * A backup that shrank is a warning, not a silent success: when it holds far
 * fewer rows, or far fewer bytes, than the backup before it (default: lost
 * more than half), the dumper still stores it and says so (`BackupShrank`),
 * so a table dropped by mistake is noticed the night it happens, while
 * older backups are still kept. Pure: two manifests in, a reason out.
 */
import type { Manifest } from '../manifest.js';

export const DEFAULT_SHRINK_THRESHOLD = 0.5;

export interface Shrinkage {
  /** Total counted rows before and now (only when both backups were counted). */
  rows?: [number, number];
  rawBytes?: [number, number];
  /** Tables the earlier backup held and this one does not (`database: table`). */
  tablesRemoved: string[];
  message: string;
}

function rowsOf(m: Manifest): Map<string, number> | undefined {
  if (!m.contents || m.contents.some((c) => !c.tables)) return undefined;
  const out = new Map<string, number>();
  for (const c of m.contents)
    for (const t of c.tables!) out.set(`${c.database}: ${t.name}`, t.rows);
  return out;
}

const total = (rows: Map<string, number>) => [...rows.values()].reduce((n, r) => n + r, 0);
const raw = (m: Manifest) => m.objects.reduce((n, o) => n + o.rawBytes, 0);

/**
 * Whether `current` lost more than `threshold` (0..1) of the rows or raw
 * bytes `previous` had; undefined when it did not.
 */
export function shrinkage(
  previous: Manifest,
  current: Manifest,
  threshold = DEFAULT_SHRINK_THRESHOLD,
): Shrinkage | undefined {
  const lost = (before: number, now: number) => before > 0 && now < before * (1 - threshold);
  const before = rowsOf(previous);
  const now = rowsOf(current);
  const reasons: string[] = [];
  const s: Shrinkage = { tablesRemoved: [], message: '' };
  if (before && now) {
    const [r0, r1] = [total(before), total(now)];
    if (lost(r0, r1)) {
      s.rows = [r0, r1];
      reasons.push(`${r0 - r1} rows fewer (${r0} → ${r1}, ${pct(r0, r1)})`);
    }
    s.tablesRemoved = [...before.keys()].filter((k) => !now.has(k));
  }
  const [b0, b1] = [raw(previous), raw(current)];
  if (lost(b0, b1)) {
    s.rawBytes = [b0, b1];
    reasons.push(`${b0 - b1} bytes fewer in the dump (${b0} → ${b1}, ${pct(b0, b1)})`);
  }
  if (reasons.length === 0) return undefined;
  const gone = s.tablesRemoved.length;
  if (gone > 0)
    reasons.push(
      `tables gone: ${s.tablesRemoved.slice(0, 5).join(', ')}${gone > 5 ? ` and ${gone - 5} more` : ''}`,
    );
  s.message = `the backup shrank: ${reasons.join('; ')}`;
  return s;
}

function pct(before: number, now: number): string {
  return `-${Math.round((100 * (before - now)) / before)}%`;
}

/** `SNAPKEEPER_SHRINK_THRESHOLD` / `--shrink-threshold`: a fraction (0.5) or a percentage (50%). */
export function parseThreshold(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]) / (m[2] ? 100 : 1);
  return v > 0 && v < 1 ? v : undefined;
}
