// `restore --to` into a database that is not empty, and a restore tool that
// fails: the user reads what psql / mariadb said (not `write EPIPE`), a
// non-empty target is refused before anything is downloaded or changed, on
// PostgreSQL and MariaDB alike, and a database the failed restore created is
// dropped again.
import { describe, expect, inject, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';
import type { Manifest } from '../../src/manifest.js';
import {
  createMariaDatabase,
  createPgDatabase,
  mariadbExec,
  mariadbUrl,
  pgUrl,
  psql,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { fakeBackup, store } from '../unit/backups-fixture.js';
import { snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const my = inject('mariadb');

/**
 * A stored backup whose SQL fails on its second statement and then goes on
 * for several MiB: the restore tool exits while snapkeeper is still feeding it.
 */
async function collidingBackup(engine: Manifest['engine']): Promise<string> {
  const dir = await scratchDir('collide');
  const rows = 'INSERT INTO customers VALUES (1);\n'.repeat(200_000);
  const b = fakeBackup('shop/db', new Date('2026-11-20T03:00:00Z'), {
    plain: () => `CREATE TABLE customers (id int);\nCREATE TABLE customers (id int);\n${rows}`,
  });
  b.manifest.engine = engine;
  await store(openStorage(dir), b);
  return dir;
}

const pgDatabases = async (name: string) =>
  psql(pg, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${name}'`);
const myDatabases = async (name: string) =>
  mariadbExec(
    my,
    '',
    `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${name}'`,
  );

describe('restore --to: what the restore tool said', () => {
  it.for([
    {
      engine: 'postgresql' as const,
      tool: 'psql',
      url: (db: string) => pgUrl(pg, db),
      said: /^snapkeeper: psql exited with code 3: .*relation "customers" already exists/,
      databases: pgDatabases,
    },
    {
      engine: 'mariadb' as const,
      tool: 'mariadb',
      url: (db: string) => mariadbUrl(my, db),
      said: /^snapkeeper: mariadb exited with code 1: .*Table 'customers' already exists/,
      databases: myDatabases,
    },
  ])(
    "$engine: given SQL that fails early in a large dump, then exit 1 with $tool's message, and the database it created is gone",
    async ({ engine, url, said, databases }) => {
      const from = await collidingBackup(engine);
      const target = uniqueName('rfail');
      const r = await snapkeeper([
        'restore',
        '--from',
        from,
        '--workload',
        'shop/db',
        '--to',
        url(target),
      ]);
      expect(r.stderr).toMatch(said);
      expect(r.stderr).not.toMatch(/EPIPE/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(1);
      expect(await databases(target)).toBe('0\n');
    },
  );

  it("PostgreSQL: given a target database that exists and holds a conflicting type, then psql's message, and the database is kept", async () => {
    const target = await createPgDatabase(pg, uniqueName('rkeep'));
    await psql(pg, target, "CREATE TYPE mood AS ENUM ('sad');");
    const dir = await scratchDir('collide');
    const b = fakeBackup('shop/db', new Date('2026-11-20T03:00:00Z'), {
      plain: () => `CREATE TYPE mood AS ENUM ('sad', 'ok');\n${'SELECT 1;\n'.repeat(300_000)}`,
    });
    await store(openStorage(dir), b);
    const r = await snapkeeper([
      'restore',
      '--from',
      dir,
      '--workload',
      'shop/db',
      '--to',
      pgUrl(pg, target),
    ]);
    expect(r.stderr).toMatch(/^snapkeeper: psql exited with code 3: .*type "mood" already exists/);
    expect(r.code).toBe(1);
    expect(await pgDatabases(target)).toBe('1\n');
  });
});

describe('restore --to: a target that is not empty is refused up front', () => {
  it.each([
    {
      engine: 'PostgreSQL',
      make: async () => {
        const db = await createPgDatabase(pg, uniqueName('rfull'));
        await psql(
          pg,
          db,
          'CREATE TABLE customers (id int); INSERT INTO customers VALUES (42); CREATE VIEW v AS SELECT 1 AS one;',
        );
        return {
          url: pgUrl(pg, db),
          engine: 'postgresql' as const,
          names: /\(public\.customers, public\.v\)/,
          contents: () => psql(pg, db, "SELECT string_agg(id::text, ',') FROM customers"),
        };
      },
    },
    {
      engine: 'MariaDB',
      make: async () => {
        const db = await createMariaDatabase(my, uniqueName('rfull'));
        await mariadbExec(
          my,
          db,
          'CREATE TABLE customers (id INT); INSERT INTO customers VALUES (42);',
        );
        return {
          url: mariadbUrl(my, db),
          engine: 'mariadb' as const,
          names: /\(customers\)/,
          contents: () => mariadbExec(my, db, 'SELECT GROUP_CONCAT(id) FROM customers'),
        };
      },
    },
  ])(
    '$engine: given a table in the target, then exit 2 naming it with a hint, and the table is untouched',
    async ({ make }) => {
      const t = await make();
      const dir = await scratchDir('full');
      // A MariaDB dump drops each table before creating it: restored, it would replace the table.
      const b = fakeBackup('shop/db', new Date('2026-11-20T03:00:00Z'), {
        plain: () => 'DROP TABLE IF EXISTS customers;\nCREATE TABLE customers (id int);\n',
      });
      b.manifest.engine = t.engine;
      await store(openStorage(dir), b);
      const r = await snapkeeper([
        'restore',
        '--from',
        dir,
        '--workload',
        'shop/db',
        '--to',
        t.url,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^snapkeeper: database "rfull_[0-9a-f]+" is not empty /);
      expect(r.stderr).toMatch(t.names);
      expect(r.stderr).toMatch(/restore into a new database .* or drop these first\n$/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(await t.contents()).toBe('42\n');
    },
  );
});
