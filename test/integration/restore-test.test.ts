// What a backup holds (the manifest's contents, counted while the dump
// streamed) against the real database, and `snapkeeper restore-test`
// against real servers: encrypted backups in S3 restored into a scratch
// server the command starts and removes itself, a backup with a table's
// rows cut out (and re-signed) caught and named, failing checks, an old
// manifest without counts, and Ctrl-C in the middle of a restore.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DumpTarget } from '../../dumpers/types.js';
import { createLogger } from '../../src/log.js';
import type { Manifest } from '../../src/manifest.js';
import { inspectDatabase } from '../../src/restoretest/inspect.js';
import type { RestoreTestResult } from '../../src/restoretest/result.js';
import {
  ageKeypair,
  createMariaDatabase,
  createPgDatabase,
  mariadbExec,
  mariadbUrl,
  pgUrl,
  psql,
  s3Client,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { MY_CONTENT, PG_CONTENT } from '../env/hard-content.js';
import { s3Env, snapkeeper, type CliRun } from './backup-support.js';
import { buildCli, startCli } from './cli-process.js';

const pg = inject('postgres');
const my = inject('mariadb');
const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];

/** A role only this run's dump names as an owner: the scratch server must create it. */
const OWNER_ROLE = uniqueName('rt_owner');

/** More of what dumps hold: partitions, a materialized view, a procedure, an identity column, indexes, roles. */
const PG_MORE = String.raw`
CREATE ROLE ${OWNER_ROLE} NOLOGIN;
CREATE TABLE measurements (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, v numeric)
  PARTITION BY RANGE (at);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX measurements_at ON measurements (at);
INSERT INTO measurements (at, v) SELECT DATE '2025-06-01' + (g % 400), g / 7.0 FROM generate_series(1, 1234) g;
CREATE MATERIALIZED VIEW busy_days AS SELECT at, count(*) FROM measurements GROUP BY at;
CREATE PROCEDURE tidy() LANGUAGE sql AS $$ DELETE FROM measurements WHERE v < 0; $$;
CREATE TABLE "we;ird ""tab""" (k text PRIMARY KEY, b bytea);
INSERT INTO "we;ird ""tab""" VALUES (E'\\.\n)(;''', '\x00010203'), (E'COPY x FROM stdin;\n\\.', NULL);
CREATE TABLE empty_one (x int UNIQUE);
ALTER TABLE empty_one OWNER TO ${OWNER_ROLE};
`;

const MY_MORE = String.raw`
CREATE TABLE ${'`'}we;ird ${'`'}${'`'}tab${'`'} (k VARCHAR(40) PRIMARY KEY, b BLOB, UNIQUE KEY bk (b(10)));
INSERT INTO ${'`'}we;ird ${'`'}${'`'}tab${'`'} VALUES ('a),(b;', _binary X'00285C27293B'), ('\\'');\n', NULL);
CREATE TABLE empty_one (x INT, KEY (x));
CREATE PROCEDURE tidy() DELETE FROM orders WHERE id < 0;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DO DELETE FROM orders WHERE id < 0;
CREATE SEQUENCE ids START WITH 10;
`;

const pgTarget = (): DumpTarget => ({
  host: pg.host,
  port: pg.port,
  username: pg.user,
  password: pg.password,
  databases: '*',
  extraArgs: [],
});
const myTarget = (): DumpTarget => ({
  host: my.host,
  port: my.port,
  username: my.user,
  password: my.password,
  databases: '*',
  extraArgs: [],
});
const quiet = { signal: new AbortController().signal, log: createLogger({ level: 'error' }) };

async function getObject(key: string): Promise<Buffer> {
  const client = s3Client(s3);
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

async function putObject(key: string, body: Buffer | string): Promise<void> {
  const client = s3Client(s3);
  try {
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

/** A backup of `url` in S3 under a new prefix: its root, manifest key and manifest. */
async function backupToS3(url: string, workload: string, recipient?: string) {
  const prefix = uniqueName('rt');
  const from = `s3://${s3.bucket}/${prefix}`;
  const b = await snapkeeper(
    [
      'backup',
      url,
      '--to',
      from,
      ...s3Flags,
      '--name',
      workload,
      ...(recipient ? ['--recipient', recipient] : []),
    ],
    s3Env(s3),
  );
  expect(b.stderr).toBe('');
  expect(b.code).toBe(0);
  const l = await snapkeeper(['list', '--from', from, ...s3Flags, '-o', 'json'], s3Env(s3));
  const manifestKey = (JSON.parse(l.stdout) as { manifestKey: string }[])[0]!.manifestKey;
  const manifest = JSON.parse((await getObject(`${prefix}/${manifestKey}`)).toString()) as Manifest;
  return { prefix, from, manifestKey, manifest };
}

function restoreTest(from: string, rest: string[]): Promise<CliRun> {
  return snapkeeper(['restore-test', '--from', from, ...s3Flags, ...rest], s3Env(s3));
}

/** The scratch directory a run logged, and whether it was stopped. */
function scratchOf(run: CliRun): string {
  for (const line of run.logs) {
    const l = JSON.parse(line) as { msg?: string; dir?: string };
    if (l.msg?.startsWith('starting a scratch') && l.dir) return l.dir;
  }
  throw new Error(`no scratch server in the logs: ${run.logs.join('\n')}`);
}

describe('PostgreSQL: the counts of a backup, and restore-test', () => {
  let source: string;
  let backup: Awaited<ReturnType<typeof backupToS3>>;
  let identityFile: string;
  beforeAll(async () => {
    source = await createPgDatabase(pg, uniqueName('rtsrc'));
    await psql(pg, source, PG_CONTENT + PG_MORE);
    const keys = await ageKeypair();
    identityFile = keys.identityFile;
    backup = await backupToS3(pgUrl(pg, source), 'shop/postgres', keys.recipient);
  });
  afterAll(async () => {
    await psql(pg, source, `REASSIGN OWNED BY ${OWNER_ROLE} TO CURRENT_USER`);
    await psql(pg, 'postgres', `DROP ROLE ${OWNER_ROLE}`);
  });

  it('given the hard fixture, when backed up, then the manifest counts what the database holds', async () => {
    const contents = backup.manifest.contents!;
    expect(contents).toHaveLength(1);
    const real = await inspectDatabase('postgresql', pgTarget(), source, quiet);
    const [c] = contents;
    expect(c!.database).toBe(source);
    expect(c!.key).toBe(backup.manifest.objects[0]!.key);
    expect(Object.fromEntries(c!.tables!.map((t) => [t.name, t.rows]))).toEqual(
      Object.fromEntries(real.tables.map((t) => [t.name, t.rows])),
    );
    expect(c!.objects).toEqual(real.objects);
    // What the fixtures were made with, so the comparison above compares something.
    const rows = Object.fromEntries(c!.tables!.map((t) => [t.name, t.rows]));
    expect(rows['"Übersicht ""quoted""".notes']).toBe(3002);
    expect(rows['public.measurements_2025']! + rows['public.measurements_2026']!).toBe(1234);
    expect(rows['public."we;ird ""tab"""']).toBe(2);
    expect(c!.objects).toMatchObject({ views: 1, materializedViews: 1, procedures: 1 });
    expect(c!.roles).toContain(OWNER_ROLE);
  });

  it('given the encrypted backup, when restore-tested, then every count is equal, checks pass, the result is stored and the scratch server is gone', async () => {
    const r = await restoreTest(backup.from, [
      '-i',
      identityFile,
      '--check',
      `select count(*) = 3002 from "Übersicht ""quoted""".notes`,
      '--check',
      'select max(at) > DATE $$2025-01-01$$ from measurements',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"Übersicht ""quoted""".notes\s+rows\s+3002\s+3002\s+ok/);
    expect(r.stdout).toContain('restore test passed');
    expect(existsSync(scratchOf(r))).toBe(false);
    const stored = JSON.parse(
      (
        await getObject(
          `${backup.prefix}/${backup.manifestKey.replace(/manifest\.json$/, 'restore-test.json')}`,
        )
      ).toString(),
    ) as RestoreTestResult;
    expect(stored.ok).toBe(true);
    expect(stored.target).toBe('scratch');
    expect(stored.checks.map((c) => c.ok)).toEqual([true, true]);
    expect(stored.databases[0]!.tables.length).toBe(backup.manifest.contents![0]!.tables!.length);
  });

  it('given a failing check, when restore-tested, then exit 1 names it and the scratch server is gone', async () => {
    const r = await restoreTest(backup.from, [
      '-i',
      identityFile,
      '--check',
      'select count(*) > 5000 from public.measurements',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      'check failed: select count(*) > 5000 from public.measurements returned f',
    );
    const out = JSON.parse(r.stdout) as RestoreTestResult;
    expect(out.ok).toBe(false);
    expect(out.checks).toEqual([
      { sql: 'select count(*) > 5000 from public.measurements', ok: false, value: 'f' },
    ]);
    expect(existsSync(scratchOf(r))).toBe(false);
  });

  it("given a backup with a table's rows cut out of its stream and re-signed, when restore-tested, then exit 1 names the table", async () => {
    const b = await backupToS3(pgUrl(pg, source), 'shop/postgres');
    const obj = b.manifest.objects[0]!;
    const key = `${b.prefix}/${obj.key}`;
    const sql = gunzipSync(await getObject(key)).toString('utf8');
    // Keep the COPY line of the partition and its end; drop 100 of its rows.
    const cut = sql.replace(/(COPY public\.measurements_2026 [^\n]*\n)((?:[^\n]*\n){100})/, '$1');
    expect(cut.length).toBeLessThan(sql.length);
    const stored = gzipSync(Buffer.from(cut));
    await putObject(key, stored);
    const manifest: Manifest = {
      ...b.manifest,
      objects: [
        {
          ...obj,
          bytes: stored.length,
          rawBytes: Buffer.byteLength(cut),
          sha256: createHash('sha256').update(stored).digest('hex'),
        },
      ],
    };
    await putObject(`${b.prefix}/${b.manifestKey}`, JSON.stringify(manifest));

    const r = await restoreTest(b.from, ['--key', b.manifestKey]);
    expect(r.code).toBe(1);
    const expected = b.manifest.contents![0]!.tables!.find(
      (t) => t.name === 'public.measurements_2026',
    )!.rows;
    expect(r.stderr).toContain(
      `public.measurements_2026: ${expected} rows in the backup, ${expected - 100} restored`,
    );
    expect(r.stdout).toMatch(/public\.measurements_2026\s+rows\s+\d+\s+\d+\s+MISMATCH/);
    expect(existsSync(scratchOf(r))).toBe(false);
  });

  it('given a custom-format backup, then the manifest says it is not counted, and restore-test counts the archive and compares', async () => {
    const prefix = uniqueName('rtc');
    const from = `s3://${s3.bucket}/${prefix}`;
    const b = await snapkeeper(
      [
        'backup',
        pgUrl(pg, source),
        '--to',
        from,
        ...s3Flags,
        '--name',
        'shop/pgc',
        '--dump-option=--format=custom',
      ],
      s3Env(s3),
    );
    expect(b.code).toBe(0);
    const d = await snapkeeper(['describe', '--from', from, ...s3Flags, '-o', 'json'], s3Env(s3));
    const described = JSON.parse(d.stdout) as {
      databases: { format: string; uncounted?: string }[];
    };
    expect(described.databases[0]!.format).toBe('custom');
    expect(described.databases[0]!.uncounted).toMatch(/not counted at backup time/);

    const r = await restoreTest(from, ['-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as RestoreTestResult;
    expect(out.notes.join('\n')).toMatch(
      /custom archive is not counted at backup time; its counts were read from the archive/,
    );
    const real = await inspectDatabase('postgresql', pgTarget(), source, quiet);
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...out.databases[0]!.tables].sort(byName)).toEqual(
      real.tables.map((t) => ({ name: t.name, backup: t.rows, restored: t.rows })).sort(byName),
    );
  });

  it('given a manifest written before counts existed, when restore-tested, then it restores, compares nothing and says so', async () => {
    const b = await backupToS3(pgUrl(pg, source), 'shop/postgres');
    const { contents: _dropped, ...old } = b.manifest;
    await putObject(`${b.prefix}/${b.manifestKey}`, JSON.stringify(old));
    for (const cmd of [['list'], ['verify']]) {
      const r = await snapkeeper([...cmd, '--from', b.from, ...s3Flags], s3Env(s3));
      expect(r.code).toBe(0);
    }
    const r = await restoreTest(b.from, ['-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as RestoreTestResult;
    expect(out.notes.join('\n')).toMatch(/no counts.*nothing compared/);
    // The restored side is still reported.
    expect(out.databases[0]!.tables.find((t) => t.name === '"Übersicht ""quoted""".notes')).toEqual(
      {
        name: '"Übersicht ""quoted""".notes',
        backup: null,
        restored: 3002,
      },
    );
  });
});

describe('MariaDB: the counts of a backup, and restore-test', () => {
  let source: string;
  let backup: Awaited<ReturnType<typeof backupToS3>>;
  beforeAll(async () => {
    source = await createMariaDatabase(my, uniqueName('rtsrc'));
    await mariadbExec(my, source, MY_CONTENT + MY_MORE);
    backup = await backupToS3(mariadbUrl(my, source), 'shop/mariadb');
  });

  it('given the hard fixture, when backed up, then the manifest counts what the database holds', async () => {
    const [c] = backup.manifest.contents!;
    const real = await inspectDatabase('mariadb', myTarget(), source, quiet);
    expect(Object.fromEntries(c!.tables!.map((t) => [t.name, t.rows]))).toEqual(
      Object.fromEntries(real.tables.map((t) => [t.name, t.rows])),
    );
    expect(c!.objects).toEqual(real.objects);
    const rows = Object.fromEntries(c!.tables!.map((t) => [t.name, t.rows]));
    expect(rows.orders).toBe(3002);
    expect(rows['`we;ird ``tab`']).toBe(2);
    expect(c!.objects).toMatchObject({
      views: 1,
      functions: 1,
      procedures: 1,
      triggers: 1,
      events: 1,
      sequences: 1,
    });
  });

  it('given the backup, when restore-tested, then every count is equal and the scratch server is gone', async () => {
    const r = await restoreTest(backup.from, ['--check', 'select count(*) = 3002 from orders']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/orders\s+rows\s+3002\s+3002\s+ok/);
    expect(r.stdout).toMatch(/events\s+count\s+1\s+1\s+ok/);
    expect(existsSync(scratchOf(r))).toBe(false);
  });

  it("given a backup with a table's rows cut out and re-signed, when restore-tested, then exit 1 names the table", async () => {
    const b = await backupToS3(mariadbUrl(my, source), 'shop/mariadb');
    const obj = b.manifest.objects[0]!;
    const key = `${b.prefix}/${obj.key}`;
    const sql = gunzipSync(await getObject(key)).toString('utf8');
    // The first tuple of the orders INSERT goes: one row fewer.
    const cut = sql.replace(/(INSERT INTO `orders` VALUES\s*)\([^\n]*?\),\s*/, '$1');
    expect(cut.length).toBeLessThan(sql.length);
    const stored = gzipSync(Buffer.from(cut));
    await putObject(key, stored);
    await putObject(
      `${b.prefix}/${b.manifestKey}`,
      JSON.stringify({
        ...b.manifest,
        objects: [
          {
            ...obj,
            bytes: stored.length,
            rawBytes: Buffer.byteLength(cut),
            sha256: createHash('sha256').update(stored).digest('hex'),
          },
        ],
      }),
    );
    const r = await restoreTest(b.from, ['--key', b.manifestKey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('orders: 3002 rows in the backup, 3001 restored');
  });
});

describe('restore-test interrupted', () => {
  let cli: string;
  let remove: () => Promise<void>;
  let backups: string;
  beforeAll(async () => {
    ({ cli, remove } = await buildCli());
    const db = await createPgDatabase(pg, uniqueName('rtbig'));
    await psql(
      pg,
      db,
      'CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS t FROM generate_series(1, 1500000) g;',
    );
    backups = await scratchDir('rtbig');
    const b = await snapkeeper(['backup', pgUrl(pg, db), '--to', backups, '--name', 'shop/big']);
    if (b.code !== 0) throw new Error(`backup failed: ${b.stderr}`);
  });
  afterAll(() => remove?.());

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'given a restore in progress into the scratch server, when %s arrives, then it exits and removes the scratch server',
    async (signal) => {
      const p = startCli(cli, ['restore-test', '--from', backups]);
      // Wait until the restore runs: psql is reading the dump into the scratch server.
      const deadline = Date.now() + 120_000;
      while (!p.output().stderr.includes('"msg":"restoring"')) {
        if (Date.now() > deadline) throw new Error(`no restore started: ${p.output().stderr}`);
        await sleep(50);
      }
      const dir = p
        .output()
        .stderr.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; dir?: string })
        .find((l) => l.msg?.startsWith('starting a scratch'))?.dir;
      expect(dir).toBeDefined();
      await sleep(300);
      expect(existsSync(dir!)).toBe(true);
      p.child.kill(signal);
      const exit = await p.exited;
      expect(exit.code).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(existsSync(dir!)).toBe(false);
    },
  );
});
