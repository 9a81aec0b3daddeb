// restore --to checks the sha256 while streaming where the restore can be
// undone, and rolls it back when the check fails at the end: the manifest's
// sha256 is changed, so every byte decodes and the restore tool executes the
// whole dump before the mismatch is known. Where it cannot be undone
// (MariaDB into an existing database), the object is checked first.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createMariaDatabase,
  createPgDatabase,
  mariadbExec,
  mariadbUrl,
  pgDumpText,
  pgUrl,
  psql,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { MY_CONTENT, PG_CONTENT } from '../env/hard-content.js';
import { snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const my = inject('mariadb');

/** A backup of `url` in a fresh directory whose manifest records a wrong sha256. */
async function backupWithWrongSha(url: string): Promise<string> {
  const dir = await scratchDir('sha');
  const b = await snapkeeper(['backup', url, '--to', dir, '-o', 'json']);
  expect(b.code).toBe(0);
  const path = join(dir, (JSON.parse(b.stdout) as { manifestKey: string }).manifestKey);
  const m = JSON.parse(await readFile(path, 'utf8')) as { objects: { sha256: string }[] };
  m.objects[0]!.sha256 = 'f'.repeat(64);
  await writeFile(path, JSON.stringify(m));
  return dir;
}

const logged = (logs: string[], msg: string) =>
  logs.map((l) => JSON.parse(l) as { msg: string; sha256?: string }).filter((l) => l.msg === msg);

describe('restore --to: the sha256 checked while streaming', () => {
  let source: string;
  let dir: string;
  beforeAll(async () => {
    source = await createPgDatabase(pg, uniqueName('ssrc'));
    await psql(pg, source, PG_CONTENT);
    dir = await backupWithWrongSha(pgUrl(pg, source));
  });

  it('given PostgreSQL into a new database and a mismatch found at the end, then the restore ran, exit 1 names the mismatch, and the database is gone', async () => {
    const target = uniqueName('sdst');
    const r = await snapkeeper(['restore', '--from', dir, '--to', pgUrl(pg, target)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 mismatch/);
    // One download, streamed into psql: no check beforehand.
    expect(logged(r.logs, 'checking sha256 before restoring')).toEqual([]);
    expect(logged(r.logs, 'restoring')[0]!.sha256).toMatch(/while streaming/);
    expect(logged(r.logs, 'dropped the database this restore had created')).toHaveLength(1);
    expect(
      await psql(pg, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${target}'`),
    ).toBe('0\n');
  });

  it('given PostgreSQL into an existing empty database, then the single transaction is rolled back: the database stays, empty', async () => {
    const target = await createPgDatabase(pg, uniqueName('sempty'));
    const before = await pgDumpText(pg, target);
    const r = await snapkeeper(['restore', '--from', dir, '--to', pgUrl(pg, target)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 mismatch/);
    expect(logged(r.logs, 'checking sha256 before restoring')).toEqual([]);
    expect(
      await psql(
        pg,
        target,
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
      ),
    ).toBe('0\n');
    expect(await pgDumpText(pg, target)).toBe(before);
  });

  it('given MariaDB into an existing empty database (DDL cannot be rolled back), then the object is checked first and nothing is restored', async () => {
    const src = await createMariaDatabase(my, uniqueName('msrc'));
    await mariadbExec(my, src, MY_CONTENT);
    const mdir = await backupWithWrongSha(mariadbUrl(my, src));
    const target = await createMariaDatabase(my, uniqueName('mempty'));
    const r = await snapkeeper(['restore', '--from', mdir, '--to', mariadbUrl(my, target)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 mismatch/);
    expect(logged(r.logs, 'checking sha256 before restoring')).toHaveLength(1);
    expect(logged(r.logs, 'restoring')).toEqual([]);
    expect(
      await mariadbExec(
        my,
        target,
        `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${target}'`,
      ),
    ).toBe('0\n');
  });
});
