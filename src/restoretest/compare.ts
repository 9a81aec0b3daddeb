/**
 * The backup's counts (manifest `contents`) against what a restore produced:
 * pure, one named line per difference.
 */
import type { DatabaseContents, DatabaseCounts } from '../contents/types.js';
import type { RestoreTestResult } from './result.js';

export type DatabaseComparison = RestoreTestResult['databases'][number];

/**
 * Compares one database. `expected` undefined: the backup has no counts
 * for it (an older manifest): the restored counts are reported, nothing is
 * compared. A table restored that the backup does not name is a difference
 * only when it holds rows (a schema-only or excluded table comes back empty).
 */
export function compareDatabase(
  expected: DatabaseContents | undefined,
  actual: DatabaseCounts,
): { comparison: DatabaseComparison; mismatches: string[] } {
  const mismatches: string[] = [];
  const tables: DatabaseComparison['tables'] = [];
  const objects: DatabaseComparison['objects'] = [];
  const counted = expected?.tables !== undefined && expected.objects !== undefined;
  const restoredTables = new Map(actual.tables.map((t) => [t.name, t.rows]));
  if (counted) {
    for (const t of expected.tables!) {
      const restored = restoredTables.get(t.name);
      restoredTables.delete(t.name);
      tables.push({ name: t.name, backup: t.rows, restored: restored ?? null });
      if (restored === undefined)
        mismatches.push(`${t.name}: ${rows(t.rows)} in the backup, missing after the restore`);
      else if (restored !== t.rows)
        mismatches.push(`${t.name}: ${rows(t.rows)} in the backup, ${restored} restored`);
    }
  }
  for (const [name, restored] of restoredTables) {
    tables.push({ name, backup: null, restored });
    if (counted && restored > 0)
      mismatches.push(`${name}: not in the backup, ${rows(restored)} restored`);
  }
  const kinds = new Set([...Object.keys(expected?.objects ?? {}), ...Object.keys(actual.objects)]);
  for (const kind of kinds) {
    const backup = counted ? (expected.objects![kind] ?? null) : null;
    const restored = (actual.objects as Record<string, number | undefined>)[kind] ?? null;
    objects.push({ kind, backup, restored });
    if (counted && backup !== restored)
      mismatches.push(`${kind}: ${backup ?? 0} in the backup, ${restored ?? 0} restored`);
  }
  const comparison: DatabaseComparison = { database: actual.database, tables, objects };
  if (!counted)
    comparison.note =
      expected?.uncounted ??
      'the backup holds no counts (made before snapkeeper counted them): nothing compared';
  return { comparison, mismatches };
}

function rows(n: number): string {
  return `${n} ${n === 1 ? 'row' : 'rows'}`;
}
