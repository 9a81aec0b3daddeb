// `describe` and `diff` on real backups: a PostgreSQL database backed up,
// changed (rows deleted, a table and a view added), backed up again; the
// first one restore-tested. describe shows what each holds and the test
// result; diff shows what changed, largest row change first.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { BackupDiff } from '../../src/contents/diff.js';
import type { Description } from '../../src/cli/describe.js';
import { createPgDatabase, pgUrl, psql, scratchDir, uniqueName } from '../env/helpers.js';
import { PG_CONTENT } from '../env/hard-content.js';
import { snapkeeper } from './backup-support.js';

const pg = inject('postgres');

let dir: string;
let first: string;
let second: string;
/** The log lines of the last backup. */
let logs: string[] = [];
let secondLogs: string[] = [];

beforeAll(async () => {
  const db = await createPgDatabase(pg, uniqueName('dsrc'));
  await psql(pg, db, PG_CONTENT);
  dir = await scratchDir('describe');
  const backup = async () => {
    const b = await snapkeeper(['backup', pgUrl(pg, db), '--to', dir, '--name', 'shop/pg']);
    expect(b.code).toBe(0);
    logs = b.logs;
    return /manifest: (.*)$/m.exec(b.stdout)![1]!.trim();
  };
  first = await backup();
  expect(logs.join('\n')).not.toContain('BackupShrank');
  await psql(
    pg,
    db,
    `DELETE FROM "Übersicht ""quoted""".notes WHERE id > 1000;
     CREATE TABLE added (x int); INSERT INTO added VALUES (1), (2);
     CREATE VIEW added_view AS SELECT x FROM added;`,
  );
  second = await backup();
  secondLogs = logs;
  const t = await snapkeeper(['restore-test', '--key', first]);
  expect(t.code).toBe(0);
});

describe('describe', () => {
  it('given a restore-tested backup named by its manifest path, then it shows tables, rows, sizes and the test', async () => {
    const r = await snapkeeper(['describe', first]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^workload: +shop\/pg/m);
    expect(r.stdout).toMatch(/^engine: +postgresql \S+, dumped with pg_dump/m);
    expect(r.stdout).toMatch(/^restore test: passed \S+ \(into PostgreSQL/m);
    expect(r.stdout).toMatch(/"Übersicht ""quoted""".notes\s+3002/);
    expect(r.stdout).toMatch(/objects: tables 1, views 1,/);
  });

  it('given the newest by time, as json, then it is the second backup, never tested', async () => {
    const r = await snapkeeper(['describe', '--from', dir, 'latest', '-o', 'json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as Description;
    expect(second.endsWith(d.manifestKey)).toBe(true);
    expect(d.restoreTest).toBeNull();
    expect(d.databases[0]!.tables).toEqual(
      expect.arrayContaining([
        { name: '"Übersicht ""quoted""".notes', rows: 1000 },
        { name: 'public.added', rows: 2 },
      ]),
    );
    expect(d.rawBytes).toBeGreaterThan(d.bytes);
  });

  it('given no backup there, then one line and exit 2', async () => {
    const r = await snapkeeper(['describe', '--from', await scratchDir('none')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('BackupShrank', () => {
  it('given a backup with two thirds of the rows gone, when it ran, then it was stored, exit 0, with a warning saying so', () => {
    const warning = secondLogs
      .map((l) => JSON.parse(l) as { level?: string; msg?: string; reason?: string })
      .find((l) => l.msg?.startsWith('BackupShrank'));
    expect(warning?.level).toBe('warn');
    // (the dump's bytes may have shrunk past the threshold too: said after the rows)
    expect(warning?.reason).toMatch(/^the backup shrank: 2000 rows fewer \(3002 → 1002, -67%\)/);
    expect(existsSync(second)).toBe(true);
  });
});

describe('diff', () => {
  it('given the two backups, then the added table and view and the deleted rows are shown, largest first', async () => {
    const r = await snapkeeper(['diff', first, second]);
    expect(r.stderr).toMatch(
      /^warning: BackupShrank: the backup shrank: 2000 rows fewer \(3002 → 1002, -67%\)[^\n]*\n$/,
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^table added\s+\S+: public\.added\s+2 rows$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^objects added\s+\S+: views\s+1\s+2 \(\+1\)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^rows changed\s+\S+: "Übersicht ""quoted""".notes\s+3002\s+1000 \(-2002\)$/,
      ),
    );
    const j = await snapkeeper(['diff', first, second, '-o', 'json']);
    const d = JSON.parse(j.stdout) as BackupDiff;
    expect(d.rowsChanged.map((x) => x.change)).toEqual([-2002]);
    expect(d.tablesRemoved).toEqual([]);
    expect(d.size.rawBytes[1]).toBeLessThan(d.size.rawBytes[0]);
  });
});
