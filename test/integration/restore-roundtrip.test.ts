// `snapkeeper restore --to` round trips: a database is backed up (encrypted,
// to the S3 server) with the real `backup` command, found with `list`,
// checked with `verify`, restored with `restore --to` into a fresh database,
// and both databases dump identically. A damaged object fails the restore,
// which leaves no target database behind.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ageKeypair,
  createMariaDatabase,
  createPgDatabase,
  mariadbExec,
  mariadbUrl,
  pgUrl,
  psql,
  rcloneCat,
  scratchDir,
  s3Client,
  uniqueName,
  pgDumpText,
  mariadbDumpText,
} from '../env/helpers.js';
import { snapkeeper } from './backup-support.js';
import { MY_CONTENT, PG_CONTENT } from '../env/hard-content.js';

const pg = inject('postgres');
const my = inject('mariadb');
const s3 = inject('s3');

const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const s3Env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };

const pgDump = (db: string) => pgDumpText(pg, db);

const myDump = (db: string) => mariadbDumpText(my, db);

/** `snapkeeper restore --from <from> -i <identity> <rest>` against the S3 server. */
function restoreFrom(
  from: string,
  identityFile: string,
  rest: string[],
  env: NodeJS.ProcessEnv = {},
) {
  return snapkeeper(['restore', '--from', from, ...s3Flags, '-i', identityFile, ...rest], {
    ...s3Env,
    ...env,
  });
}

interface ListedBackup {
  manifestKey: string;
  encrypted: boolean;
  objects: { key: string; database: string; sha256: string; bytes: number }[];
}

async function backupThenList(url: string, from: string, workload: string, recipient: string) {
  const b = await snapkeeper(
    ['backup', url, '--to', from, ...s3Flags, '--recipient', recipient, '--name', workload],
    s3Env,
  );
  expect(b.stderr).toBe('');
  expect(b.code).toBe(0);
  const l = await snapkeeper(
    ['list', '--from', from, ...s3Flags, '--workload', workload, '--output', 'json'],
    s3Env,
  );
  expect(l.code).toBe(0);
  const listed = JSON.parse(l.stdout) as ListedBackup[];
  expect(listed).toHaveLength(1);
  expect(listed[0]!.encrypted).toBe(true);
  return listed[0]!;
}

describe('restore --to, PostgreSQL', () => {
  let source: string;
  beforeAll(async () => {
    source = await createPgDatabase(pg, uniqueName('rsrc'));
    await psql(pg, source, PG_CONTENT);
  });

  it('given an encrypted backup in S3, when verified and restored into a fresh database, then both dump identically', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const from = `s3://${s3.bucket}/${uniqueName('rpg')}`;
    const listed = await backupThenList(pgUrl(pg, source), from, 'shop/postgres', recipient);

    const v = await snapkeeper(
      ['verify', '--from', from, ...s3Flags, '--workload', 'shop/postgres', '-i', identityFile],
      s3Env,
    );
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`${listed.objects[0]!.key}\\s+\\S+ \\S+\\s+ok`));

    const target = uniqueName('rdst'); // restore creates it
    const r = await restoreFrom(from, identityFile, [
      '--workload',
      'shop/postgres',
      '--at',
      new Date().toISOString(),
      '--to',
      pgUrl(pg, target),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await pgDump(target)).toBe(await pgDump(source));
    // The password of the URL never reaches the logs.
    expect(r.logs.join('\n')).not.toContain(pg.password);
  });

  it('given a damaged object, when restored --to, then exit 1 naming the sha256 and the target stays untouched', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const root = uniqueName('rbad');
    const from = `s3://${s3.bucket}/${root}`;
    const listed = await backupThenList(pgUrl(pg, source), from, 'shop/postgres', recipient);
    // Same length, one byte flipped far from the start (past the age header).
    const key = `${root}/${listed.objects[0]!.key}`;
    const data = Buffer.from(await rcloneCat(s3, key));
    data[data.length - 20]! ^= 0xff;
    const client = s3Client(s3);
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: data }));
    client.destroy();

    // Not created beforehand: restore creates its target and, when the
    // sha256 fails (here age notices the damage first; the command then
    // names the mismatch), drops it again: nothing remains.
    const target = uniqueName('rdst');
    const r = await restoreFrom(from, identityFile, [
      '--key',
      listed.manifestKey,
      '--to',
      pgUrl(pg, target),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 mismatch/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(
      await psql(pg, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${target}'`),
    ).toBe('0\n');

    const v = await snapkeeper(
      ['verify', '--from', from, ...s3Flags, '--key', listed.manifestKey, '-i', identityFile],
      s3Env,
    );
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/FAILED: .*sha256 mismatch/);
  });

  it('given --stdout, then the plain SQL comes out', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const from = `s3://${s3.bucket}/${uniqueName('rout')}`;
    await backupThenList(pgUrl(pg, source), from, 'shop/postgres', recipient);
    const r = await restoreFrom(from, identityFile, ['--workload', 'shop/postgres', '--stdout']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PostgreSQL database dump');
    expect(r.stdout).toContain('日本語 🎉');
  });
});

describe('restore --to, MariaDB', () => {
  it('given an encrypted backup in S3, when restored into a fresh database, then both dump identically', async () => {
    const source = await createMariaDatabase(my, uniqueName('rsrc'));
    await mariadbExec(my, source, MY_CONTENT);
    const { identityFile, recipient } = await ageKeypair();
    const from = `s3://${s3.bucket}/${uniqueName('rmy')}`;
    await backupThenList(mariadbUrl(my, source), from, 'shop/mariadb', recipient);
    const target = uniqueName('rdst');
    const r = await restoreFrom(from, identityFile, [
      '--workload',
      'shop/mariadb',
      '--to',
      mariadbUrl(my, target),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await myDump(target)).toBe(await myDump(source));
  });
});

/** The URL without its password: `user@host:port/db`. */
const withoutPassword = (url: string) => url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1@');

describe('backup and restore with the password in the usual variable, not the URL', () => {
  it.each([
    {
      engine: 'PostgreSQL',
      variable: 'PGPASSWORD',
      make: async () => {
        const db = await createPgDatabase(pg, uniqueName('pwsrc'));
        await psql(
          pg,
          db,
          "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'kept');",
        );
        return { db, url: (name: string) => pgUrl(pg, name), dump: pgDump, password: pg.password };
      },
    },
    {
      engine: 'MariaDB',
      variable: 'MYSQL_PWD',
      make: async () => {
        const db = await createMariaDatabase(my, uniqueName('pwsrc'));
        await mariadbExec(
          my,
          db,
          "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'kept');",
        );
        return {
          db,
          url: (name: string) => mariadbUrl(my, name),
          dump: myDump,
          password: my.password,
        };
      },
    },
  ])(
    '$engine: given $variable and a URL without a password, then both commands connect; without it they fail',
    async ({ variable, make }) => {
      const { db, url, dump, password } = await make();
      const { identityFile, recipient } = await ageKeypair();
      const from = `s3://${s3.bucket}/${uniqueName('rpw')}`;
      const b = await snapkeeper(
        [
          'backup',
          withoutPassword(url(db)),
          '--to',
          from,
          ...s3Flags,
          '--recipient',
          recipient,
          '--name',
          'shop/db',
        ],
        { ...s3Env, [variable]: password },
      );
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);

      const restoreTo = (target: string, env: NodeJS.ProcessEnv) =>
        restoreFrom(
          from,
          identityFile,
          ['--workload', 'shop/db', '--to', withoutPassword(url(target))],
          { SNAPKEEPER_PASSWORD: '', PGPASSWORD: '', MYSQL_PWD: '', ...env },
        );
      const refused = await restoreTo(uniqueName('pwno'), {});
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);

      const target = uniqueName('pwdst');
      const r = await restoreTo(target, { [variable]: password });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(await dump(target)).toBe(await dump(db));
      expect([...r.logs, ...b.logs].join('\n')).not.toContain(password);
    },
  );
});

describe('restore: user mistakes exit 2 with one line', () => {
  it('given a location without a backup of the workload, then the line names both, and counts unreadable manifests', async () => {
    const dir = await scratchDir('nobackup');
    const missing = await snapkeeper([
      'restore',
      '--from',
      join(dir, 'typo'),
      '--workload',
      'shop/db',
      '--stdout',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `snapkeeper: no backup of shop/db in ${join(dir, 'typo')}/ (only backups with a manifest count)\n`,
    );

    await mkdir(join(dir, 'shop', 'db', '20261120T030000Z'), { recursive: true });
    await writeFile(join(dir, 'shop', 'db', '20261120T030000Z', 'manifest.json'), '{"truncated":');
    const unreadable = await snapkeeper([
      'restore',
      '--from',
      dir,
      '--workload',
      'shop/db',
      '--stdout',
    ]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(
      /^snapkeeper: no backup of shop\/db in .*; 1 unreadable manifest\(s\) skipped, see the log\)\n$/,
    );
    expect(unreadable.logs.join('\n')).toMatch(
      /skipped a manifest that cannot be read.*20261120T030000Z\/manifest\.json/,
    );

    // verify --all: an unreadable manifest is a failed backup, not a silent skip.
    const all = await snapkeeper(['verify', '--from', dir, '--workload', 'shop/db', '--all']);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/20261120T030000Z\/manifest\.json\s+0 B\s+FAILED: manifest: /);
    expect(all.stderr).toBe('snapkeeper: 1 of 1 object(s) failed verification\n');
    const none = await snapkeeper([
      'verify',
      '--from',
      join(dir, 'typo'),
      '--workload',
      'shop/db',
      '--all',
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^snapkeeper: no backup of shop\/db in /);
  });

  it.each([
    [['restore', '--workload', 'a/b', '--stdout'], /pass --from/],
    [
      ['restore', '--from', 'x', '--workload', 'a/b', '--stdout', '--to', 'postgresql://h/db'],
      /not both/,
    ],
    [['restore', '--from', 'x', '--workload', 'a/b'], /--to <database url> or --stdout/],
    [
      ['restore', '--from', 'x', '--workload', 'a/b', '--at', 'last tuesday', '--stdout'],
      /invalid --at/,
    ],
    [
      ['restore', '--from', 'x', '--workload', 'a/b', '--stdout', '-i', '/nonexistent/key.txt'],
      /cannot read identity file/,
    ],
    // Without --workload the location's only workload is used; an empty one names where it looked.
    [['restore', '--from', 'x', '--stdout'], /^snapkeeper: no backup in \S*x\/ /],
    [['list', '--from', 's3://'], /malformed S3 location/],
    [['prune', '--from', 'x', '--workload', 'a/b', '--retention', 'keep-last=0'], /keep-last=0/],
  ])('%j', async (argv, msg) => {
    const r = await snapkeeper(argv, { SNAPKEEPER_STORAGE: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
