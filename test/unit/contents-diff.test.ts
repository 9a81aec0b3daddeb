// diff between two backups' counts, the naming of a backup as list prints
// it, and the restore-test comparison: pure, table-driven.
import { describe, expect, it } from 'vitest';
import { selectionFor } from '../../src/cli/describe.js';
import { diffBackups } from '../../src/contents/diff.js';
import { parseThreshold, shrinkage } from '../../src/contents/shrink.js';
import type { DatabaseContents } from '../../src/contents/types.js';
import type { Manifest } from '../../src/manifest.js';
import { compareDatabase } from '../../src/restoretest/compare.js';

function manifest(contents: DatabaseContents[] | undefined, bytes = 100): Manifest {
  return {
    schemaVersion: 1,
    workload: { namespace: 'shop', kind: 'StatefulSet', name: 'pg' },
    engine: 'postgresql',
    databases: ['app'],
    server: { version: '15.4' },
    client: { tool: 'pg_dump', version: '15.4' },
    startedAt: '2026-11-20T03:00:00.000Z',
    finishedAt: '2026-11-20T03:00:05.000Z',
    objects: [
      {
        database: 'app',
        key: 'k/app.sql.gz',
        rawBytes: bytes * 4,
        bytes,
        sha256: 'a'.repeat(64),
        format: 'sql',
      },
    ],
    compression: 'gzip',
    encryption: null,
    snapkeeperVersion: '0.1.0',
    ...(contents ? { contents } : {}),
  };
}

const db = (
  tables: Record<string, number>,
  objects: Record<string, number> = {},
): DatabaseContents => ({
  key: 'k/app.sql.gz',
  database: 'app',
  tables: Object.entries(tables).map(([name, rows]) => ({ name, rows })),
  objects,
});

describe('diffBackups', () => {
  it('given tables added, removed and changed, then each is listed, the largest row change first', () => {
    const d = diffBackups(
      manifest(
        [
          db(
            { 'public.a': 10, 'public.b': 5, 'public.gone': 7, 'public.same': 1 },
            { tables: 4, views: 1 },
          ),
        ],
        100,
      ),
      manifest(
        [
          db(
            { 'public.a': 12, 'public.b': 500, 'public.new': 3, 'public.same': 1 },
            { tables: 4, views: 0 },
          ),
        ],
        300,
      ),
    );
    expect(d.tablesAdded).toEqual([{ database: 'app', table: 'public.new', rows: 3 }]);
    expect(d.tablesRemoved).toEqual([{ database: 'app', table: 'public.gone', rows: 7 }]);
    expect(d.rowsChanged.map((r) => [r.table, r.change])).toEqual([
      ['public.b', 495],
      ['public.a', 2],
    ]);
    expect(d.objectsChanged).toEqual([{ database: 'app', kind: 'views', before: 1, after: 0 }]);
    expect(d.size).toEqual({ bytes: [100, 300], rawBytes: [400, 1200] });
    expect(d.notes).toEqual([]);
  });

  it('given a backup without counts, then nothing is called added or removed and a note says why', () => {
    const d = diffBackups(manifest(undefined), manifest([db({ 'public.a': 1 })]));
    expect(d.tablesAdded).toEqual([]);
    expect(d.notes).toEqual([
      'the first backup holds no counts (made before snapkeeper counted them)',
    ]);
  });
});

describe('selectionFor', () => {
  it.each([
    ['2026-11-20T03:00Z', { at: '2026-11-20T03:00Z' }],
    ['2026-11-20', { at: '2026-11-20' }],
    ['20261120T030000Z', { at: '20261120T030000Z' }],
    ['latest', { at: 'latest' }],
    ['20261120T030000.123Z-k3f9q2', { key: '20261120T030000.123Z-k3f9q2' }],
    [
      'shop/pg/20261120T030000.123Z-k3f9q2/manifest.json',
      { key: 'shop/pg/20261120T030000.123Z-k3f9q2/manifest.json' },
    ],
    ['s3://b/p/shop/pg/x/manifest.json', { key: 's3://b/p/shop/pg/x/manifest.json' }],
  ])('given %s, then %j', (named, expected) => {
    expect(selectionFor(named, {})).toEqual(expected);
  });
});

describe('compareDatabase', () => {
  it('given fewer rows restored, a missing table and an extra object, then each is named', () => {
    const { mismatches } = compareDatabase(
      db({ orders: 120000, gone: 3, empty: 0 }, { tables: 3, views: 0 }),
      {
        database: 'app',
        tables: [
          { name: 'orders', rows: 119412 },
          { name: 'empty', rows: 0 },
          { name: 'extra_empty', rows: 0 },
          { name: 'extra_full', rows: 2 },
        ],
        objects: { tables: 4, views: 1 },
      },
    );
    expect(mismatches).toEqual([
      'orders: 120000 rows in the backup, 119412 restored',
      'gone: 3 rows in the backup, missing after the restore',
      'extra_full: not in the backup, 2 rows restored',
      'tables: 3 in the backup, 4 restored',
      'views: 0 in the backup, 1 restored',
    ]);
  });

  it('given no counts in the backup, then nothing is a mismatch and the note says so', () => {
    const r = compareDatabase(undefined, {
      database: 'app',
      tables: [{ name: 't', rows: 1 }],
      objects: { tables: 1 },
    });
    expect(r.mismatches).toEqual([]);
    expect(r.comparison.note).toMatch(/no counts/);
    expect(r.comparison.tables).toEqual([{ name: 't', backup: null, restored: 1 }]);
  });
});

describe('shrinkage (BackupShrank)', () => {
  it('given more than half of the rows gone (a table dropped), then it is a warning naming the table', () => {
    const s = shrinkage(
      manifest([db({ 'public.orders': 1000, 'public.users': 10 })], 100),
      manifest([db({ 'public.users': 10 })], 90),
    );
    expect(s?.rows).toEqual([1010, 10]);
    expect(s?.tablesRemoved).toEqual(['app: public.orders']);
    expect(s?.message).toBe(
      'the backup shrank: 1000 rows fewer (1010 → 10, -99%); tables gone: app: public.orders',
    );
  });

  it.each([
    ['half of the rows exactly', { 'public.t': 50 }, 100, undefined],
    ['a little fewer rows', { 'public.t': 90 }, 100, undefined],
    ['far fewer bytes, same rows', { 'public.t': 100 }, 10, 'bytes fewer'],
  ])('given %s, then %s', (_what, after, bytes, expected) => {
    const s = shrinkage(manifest([db({ 'public.t': 100 })], 100), manifest([db(after)], bytes));
    if (expected === undefined) expect(s).toBeUndefined();
    else expect(s?.message).toContain(expected);
  });

  it('given a stricter threshold, then a smaller loss is a warning', () => {
    const before = manifest([db({ 'public.t': 100 })]);
    const after = manifest([db({ 'public.t': 85 })]);
    expect(shrinkage(before, after)).toBeUndefined();
    expect(shrinkage(before, after, 0.1)?.rows).toEqual([100, 85]);
  });

  it.each([
    ['0.5', 0.5],
    ['50%', 0.5],
    ['10 %', 0.1],
    ['1', undefined],
    ['0', undefined],
    ['half', undefined],
  ])('given the threshold %s, then %s', (s, v) => {
    expect(parseThreshold(s)).toBe(v);
  });
});
