/**
 * What changed between two backups of a workload: tables and schema objects
 * added and removed, row counts changed (largest change first), sizes.
 * Pure: it reads the two manifests' `contents`.
 */
import type { Manifest } from '../manifest.js';

export interface RowChange {
  database: string;
  table: string;
  before: number;
  after: number;
  change: number;
}

export interface BackupDiff {
  /** `database` is a database of either backup; `table` its table. */
  tablesAdded: { database: string; table: string; rows: number }[];
  tablesRemoved: { database: string; table: string; rows: number }[];
  rowsChanged: RowChange[];
  objectsChanged: { database: string; kind: string; before: number; after: number }[];
  databasesAdded: string[];
  databasesRemoved: string[];
  size: { bytes: [number, number]; rawBytes: [number, number] };
  /** What could not be compared (a backup without counts, a database not counted). */
  notes: string[];
}

type Counted = Map<string, { tables: Map<string, number>; objects: Record<string, number> }>;

function counted(m: Manifest, label: string, notes: string[]): Counted {
  const out: Counted = new Map();
  if (!m.contents) {
    notes.push(`the ${label} backup holds no counts (made before snapkeeper counted them)`);
    return out;
  }
  for (const c of m.contents) {
    if (!c.tables || !c.objects) {
      notes.push(`${c.database} in the ${label} backup: not counted (${c.uncounted ?? 'unknown'})`);
      continue;
    }
    out.set(c.database, {
      tables: new Map(c.tables.map((t) => [t.name, t.rows])),
      objects: c.objects,
    });
  }
  return out;
}

export function diffBackups(a: Manifest, b: Manifest): BackupDiff {
  const notes: string[] = [];
  const before = counted(a, 'first', notes);
  const after = counted(b, 'second', notes);
  const d: BackupDiff = {
    tablesAdded: [],
    tablesRemoved: [],
    rowsChanged: [],
    objectsChanged: [],
    databasesAdded: [],
    databasesRemoved: [],
    size: {
      bytes: [sum(a, 'bytes'), sum(b, 'bytes')],
      rawBytes: [sum(a, 'rawBytes'), sum(b, 'rawBytes')],
    },
    notes,
  };
  // Without counts on one side, nothing is "added" or "removed": it is unknown.
  if (!a.contents || !b.contents) return d;
  for (const db of after.keys()) if (!before.has(db)) d.databasesAdded.push(db);
  for (const db of before.keys()) if (!after.has(db)) d.databasesRemoved.push(db);
  for (const [database, x] of before) {
    const y = after.get(database);
    if (!y) continue;
    for (const [table, rows] of x.tables) {
      const now = y.tables.get(table);
      if (now === undefined) d.tablesRemoved.push({ database, table, rows });
      else if (now !== rows)
        d.rowsChanged.push({ database, table, before: rows, after: now, change: now - rows });
    }
    for (const [table, rows] of y.tables)
      if (!x.tables.has(table)) d.tablesAdded.push({ database, table, rows });
    for (const kind of new Set([...Object.keys(x.objects), ...Object.keys(y.objects)])) {
      const p = x.objects[kind] ?? 0;
      const q = y.objects[kind] ?? 0;
      if (p !== q) d.objectsChanged.push({ database, kind, before: p, after: q });
    }
  }
  d.rowsChanged.sort(
    (p, q) => Math.abs(q.change) - Math.abs(p.change) || p.table.localeCompare(q.table),
  );
  return d;
}

function sum(m: Manifest, field: 'bytes' | 'rawBytes'): number {
  return m.objects.reduce((n, o) => n + o[field], 0);
}
