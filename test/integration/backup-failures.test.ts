// Failures of `snapkeeper backup`, each with its exit code, a clear message,
// and nothing left in the bucket: no object, no incomplete multipart upload.
// Also: the password never appears in the argv of any process it starts.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ageKeypair,
  createMariaDatabase,
  createPgDatabase,
  listAllObjects,
  listMultipartUploads,
  mariadbExec,
  mariadbUrl,
  pgUrl,
  psql,
  uniqueName,
} from '../env/helpers.js';
import {
  allCommandLines,
  leftovers,
  s3Args,
  s3Env,
  snapkeeper,
  watchArgv,
} from './backup-support.js';

const pg = inject('postgres');
const my = inject('mariadb');
const s3 = inject('s3');

/** ~110 MB of plain dump that gzip halves at best: several 8 MiB parts. */
async function bigDatabase(): Promise<string> {
  const db = await createPgDatabase(pg, uniqueName('pgbig'));
  await psql(
    pg,
    db,
    `CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g + 1)::text) AS b, md5((g * 7)::text) AS c
       FROM generate_series(1, 1000000) g;`,
  );
  return db;
}

/** Resolves once a multipart upload under prefix exists: the upload is really under way. */
async function multipartStarted(prefix: string, running: Promise<unknown>): Promise<void> {
  let finished = false;
  void running.finally(() => (finished = true));
  for (;;) {
    if ((await listMultipartUploads(s3, s3.bucket, prefix)).length > 0) return;
    if (finished) throw new Error('the backup ended before a multipart upload was seen');
    await sleep(50);
  }
}

async function processEnv(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/environ`)).toString().split('\0');
  } catch {
    return [];
  }
}

describe('a dump that dies half-way', () => {
  let big: string;
  beforeAll(async () => {
    big = await bigDatabase();
  }, 300_000);

  it("given a running upload, when the server terminates the dumping connection, then exit 1 with pg_dump's reason and nothing left", async () => {
    const prefix = uniqueName('killed');
    const running = snapkeeper(['backup', pgUrl(pg, big), ...s3Args(s3, prefix)], s3Env(s3));
    await multipartStarted(prefix, running);
    const terminated = await psql(
      pg,
      'postgres',
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = 'snapkeeper' AND datname = '${big}' AND query LIKE 'COPY%'`,
    );
    expect(terminated.trim()).toBe('1');
    const r = await running;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^snapkeeper: pg_dump exited with code 1: .*terminat/i);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given a running upload, when pg_dump is killed, then exit 1 naming the signal and nothing left', async () => {
    const prefix = uniqueName('sigkill');
    const running = snapkeeper(['backup', pgUrl(pg, big), ...s3Args(s3, prefix)], s3Env(s3));
    await multipartStarted(prefix, running);
    let killed = 0;
    for (const p of await allCommandLines()) {
      if (!p.argv[0]?.endsWith('pg_dump')) continue;
      if (!(await processEnv(p.pid)).includes(`PGDATABASE=${big}`)) continue;
      process.kill(p.pid, 'SIGKILL');
      killed++;
    }
    expect(killed).toBe(1);
    const r = await running;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pg_dump killed by SIGKILL/);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given a dedicated role, when its database is backed up, then no process argv ever carries the password', async () => {
    const role = uniqueName('role');
    const password = `pw-${uniqueName('secret')}-'"$;`;
    await psql(
      pg,
      'postgres',
      `CREATE ROLE ${role} LOGIN PASSWORD '${password.replace(/'/g, "''")}';
       ALTER DATABASE ${big} OWNER TO ${role};
       GRANT pg_read_all_data TO ${role};`,
    );
    const prefix = uniqueName('argv');
    const url = `postgresql://${role}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${big}`;
    const {
      result: r,
      tools,
      leaked,
    } = await watchArgv(snapkeeper(['backup', url, ...s3Args(s3, prefix)], s3Env(s3)), [password]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // pg_dump runs for seconds and is always sampled; the version query's psql
    // lives a few milliseconds and is checked whenever the sampling catches it
    // (its argv is built by the same code; test/unit/engine-argv covers it).
    expect(tools.has('pg_dump')).toBe(true);
    expect(leaked).toEqual([]);
    expect(r.logs.join('\n')).not.toContain(password);
    expect(r.stdout).not.toContain(password);
  });
});

describe('mariadb: the password stays out of argv too', () => {
  it('given a dedicated user, when backed up, then mariadb-dump ran without the password in its argv', async () => {
    const db = await createMariaDatabase(my, uniqueName('myargv'));
    await mariadbExec(
      my,
      db,
      'CREATE TABLE t AS SELECT seq, MD5(seq) AS a, MD5(seq + 1) AS b FROM seq_1_to_300000',
    );
    const user = uniqueName('u');
    const password = `pw-${uniqueName('secret')}-'"$;\\`;
    const q = password.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await mariadbExec(
      my,
      '',
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${q}'; GRANT ALL ON \`${db}\`.* TO '${user}'@'%';`,
    );
    const url = `mariadb://${user}:${encodeURIComponent(password)}@${my.host}:${my.port}/${db}`;
    const prefix = uniqueName('myargv');
    const {
      result: r,
      tools,
      leaked,
    } = await watchArgv(snapkeeper(['backup', url, ...s3Args(s3, prefix)], s3Env(s3)), [password]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tools.has('mariadb-dump')).toBe(true);
    expect(leaked).toEqual([]);
    expect((await leftovers(s3, prefix)).objects).toHaveLength(2);
  });
});

describe('refused before or during the run', () => {
  let small: string;
  beforeAll(async () => {
    small = await createPgDatabase(pg, uniqueName('pgsmall'));
    await psql(pg, small, 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g;');
  });

  it("given a wrong PostgreSQL password, then exit 1 with the server's reason and nothing stored", async () => {
    const prefix = uniqueName('badpw');
    const url = pgUrl({ ...pg, password: 'not-the-password' }, small);
    const r = await snapkeeper(['backup', url, ...s3Args(s3, prefix)], s3Env(s3));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/password authentication failed/);
    expect(r.stderr).not.toContain('not-the-password');
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it("given a wrong MariaDB password, then exit 1 with the server's reason and nothing stored", async () => {
    const prefix = uniqueName('badpw');
    const url = mariadbUrl({ ...my, password: 'not-the-password' }, 'mysql');
    const r = await snapkeeper(['backup', url, ...s3Args(s3, prefix)], s3Env(s3));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Access denied/);
    expect(r.stderr).not.toContain('not-the-password');
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given an unreachable S3 endpoint, then exit 1 saying so', async () => {
    const prefix = uniqueName('unreach');
    const r = await snapkeeper(
      [
        'backup',
        pgUrl(pg, small),
        '--to',
        `s3://${s3.bucket}/${prefix}`,
        '--endpoint',
        'http://127.0.0.1:9',
        '--region',
        s3.region,
        '--force-path-style',
      ],
      s3Env(s3),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach S3 endpoint http:\/\/127\.0\.0\.1:9/);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given a bucket that does not exist, then exit 1 saying so, and the bucket is still not there', async () => {
    const bucket = `nope-${uniqueName('b').replace(/_/g, '-')}`;
    const r = await snapkeeper(['backup', pgUrl(pg, small), ...s3Args(s3, 'p', bucket)], s3Env(s3));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`bucket ${bucket} does not exist`));
    await expect(listAllObjects(s3, '', bucket)).rejects.toThrow(/NoSuchBucket|does not exist/);
  });

  it.each([
    ['an unknown scheme', 'ftp://host/db', /unknown scheme "ftp"/],
    ['a port out of range', 'postgresql://u:p@localhost:99999/db', /port|not a URL/],
    ['no host', 'postgresql:///db', /no host|not a URL/],
    ['two path segments', 'mysql://u:p@localhost/a/b', /one path segment/],
    ['not a URL at all', 'localhost/db', /expected postgresql:\/\//],
  ])('given %s, then exit 2 with one line and nothing contacted', async (_n, url, message) => {
    const prefix = uniqueName('badurl');
    const r = await snapkeeper(['backup', url, ...s3Args(s3, prefix)], s3Env(s3));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.logs).toEqual([]);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given a malformed recipient beside a good one, then exit 2 naming it and nothing contacted', async () => {
    const { recipient } = await ageKeypair();
    const prefix = uniqueName('badrcpt');
    const bad = recipient.slice(0, -3) + 'zzz';
    const r = await snapkeeper(
      [
        'backup',
        pgUrl(pg, small),
        ...s3Args(s3, prefix),
        '--recipient',
        recipient,
        '--recipient',
        bad,
      ],
      s3Env(s3),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid age recipient "${bad}"`);
    expect(r.logs).toEqual([]);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });
});
