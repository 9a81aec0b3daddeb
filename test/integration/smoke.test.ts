// The integration environment really runs: each component answers, and the
// checks a later test relies on (a wrong password fails, an aborted multipart
// upload leaves nothing behind) hold on these servers.
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { randomBytes, createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import {
  ageKeypair,
  createMariaDatabase,
  createPgDatabase,
  exec,
  listAllObjects,
  listMultipartUploads,
  mariadbArgs,
  mariadbExec,
  psql,
  rcloneCat,
  rcloneList,
  run,
  s3Client,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { binaries } from '../env/paths.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('postgresql', () => {
  const pg = inject('postgres');

  it('given the superuser password, when querying over TCP, then the server answers', async () => {
    const db = await createPgDatabase(pg);
    await psql(
      pg,
      db,
      'CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, $$one$$);',
    );
    expect((await psql(pg, db, 'SELECT name FROM t WHERE id = 1')).trim()).toBe('one');
    expect(await psql(pg, db, 'SHOW server_version')).toMatch(/^\d+\.\d+/);
  });

  it('given a wrong password, when connecting over TCP, then authentication fails', async () => {
    const r = await exec(
      join(pg.binDir, 'psql'),
      [
        '-X',
        '-h',
        pg.host,
        '-p',
        String(pg.port),
        '-U',
        pg.user,
        '-d',
        'postgres',
        '-c',
        'SELECT 1',
      ],
      {
        env: { PGPASSWORD: 'not-the-password' },
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/password authentication failed/);
  });

  it('has pg_dump and pg_restore beside psql', async () => {
    for (const tool of ['pg_dump', 'pg_restore', 'pg_dumpall']) {
      expect(await run(join(pg.binDir, tool), ['--version'])).toMatch(/PostgreSQL/);
    }
  });
});

describe('mariadb', () => {
  const my = inject('mariadb');

  it('given the root password, when querying over TCP, then the server answers', async () => {
    const db = await createMariaDatabase(my);
    await mariadbExec(
      my,
      db,
      "CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'one');",
    );
    expect((await mariadbExec(my, db, 'SELECT name FROM t WHERE id = 1')).trim()).toBe('one');
  });

  it('given a wrong password, when connecting over TCP, then access is denied', async () => {
    const r = await exec(join(my.binDir, 'mariadb'), [...mariadbArgs(my), '-e', 'SELECT 1'], {
      env: { MYSQL_PWD: 'not-the-password' },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Access denied/);
  });

  it('has mariadb-dump and mysqldump', async () => {
    for (const tool of ['mariadb-dump', 'mysqldump']) {
      expect(await run(join(my.binDir, tool), ['--version'])).toMatch(/MariaDB/);
    }
  });
});

describe('s3', () => {
  const s3 = inject('s3');

  it('given a multipart upload, when completed, then the object reads back whole (SDK and rclone)', async () => {
    const client = s3Client(s3);
    const key = `smoke/${uniqueName()}/big.bin`;
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024)];
    try {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }),
      );
      const etags = [];
      for (const [i, body] of parts.entries()) {
        const r = await client.send(
          new UploadPartCommand({
            Bucket: s3.bucket,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body: body,
          }),
        );
        etags.push({ ETag: r.ETag, PartNumber: i + 1 });
      }
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: s3.bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: etags },
        }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      const body = await got.Body!.transformToByteArray();
      expect(sha256(body)).toBe(sha256(Buffer.concat(parts)));
      expect(sha256(await rcloneCat(s3, key))).toBe(sha256(Buffer.concat(parts)));
    } finally {
      client.destroy();
    }
  });

  it('given a multipart upload with a part, when aborted, then no upload and no object remain', async () => {
    const client = s3Client(s3);
    const prefix = `smoke/${uniqueName()}/`;
    const key = `${prefix}aborted.bin`;
    try {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }),
      );
      await client.send(
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(5 * 1024 * 1024),
        }),
      );
      expect((await listMultipartUploads(s3, s3.bucket, prefix)).map((u) => u.UploadId)).toEqual([
        UploadId,
      ]);
      await client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId }));
      expect(await listMultipartUploads(s3, s3.bucket, prefix)).toEqual([]);
      expect(await listAllObjects(s3, prefix)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('given an object, when rclone (configured from env only) lists and reads it, then it sees the same bytes', async () => {
    const client = s3Client(s3);
    const prefix = `smoke/${uniqueName()}`;
    try {
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/hello.txt`, Body: 'hello\n' }),
      );
    } finally {
      client.destroy();
    }
    expect(await rcloneList(s3, prefix)).toEqual([{ path: 'hello.txt', size: 6 }]);
    expect((await rcloneCat(s3, `${prefix}/hello.txt`)).toString()).toBe('hello\n');
  });
});

describe('age', () => {
  it('given an age-keygen identity, when encrypting to its recipient, then age -d gives the plaintext back', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const dir = await scratchDir('age-smoke');
    const plain = join(dir, 'plain');
    const sealed = join(dir, 'plain.age');
    await writeFile(plain, randomBytes(100_000));
    await run(binaries.age(), ['-r', recipient, '-o', sealed, plain]);
    const back = await exec(binaries.age(), ['-d', '-i', identityFile, sealed]);
    expect(back.code).toBe(0);
    expect(sha256(back.stdout)).toBe(sha256(await readFile(plain)));
  });
});
