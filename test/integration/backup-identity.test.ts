// Every backup has an identity of its own: two backups of one workload
// started in the same second (a loop over two databases with the same
// --name, a manual trigger beside the scheduled run, two operator replicas)
// both end up listed and restorable, and a manifest that already exists is
// never overwritten: the run that finds one fails loudly and leaves nothing.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { AlreadyExistsError } from '../../src/storage/errors.js';
import { openStorage } from '../../src/storage/open.js';
import { S3Storage } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/types.js';
import {
  createPgDatabase,
  listAllObjects,
  listMultipartUploads,
  pgUrl,
  psql,
  rcloneCat,
  s3Client,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { backupAt, s3Env, snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');

const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];

/** A database holding one row that names it, so a restore shows whose dump it is. */
async function markedDatabase(): Promise<string> {
  const db = await createPgDatabase(pg, uniqueName('ident'));
  await psql(pg, db, `CREATE TABLE marker (who text); INSERT INTO marker VALUES ('${db}');`);
  return db;
}

interface Listed {
  manifestKey: string;
  objects: { key: string; database: string }[];
}

/** Both kinds of storage: a directory and the S3 server. */
const locations: [string, () => Promise<{ from: string; flags: string[] }>][] = [
  ['a local directory', async () => ({ from: await scratchDir('ident'), flags: [] })],
  ['S3', async () => ({ from: `s3://${s3.bucket}/${uniqueName('ident')}`, flags: s3Flags })],
];

afterEach(() => {
  vi.useRealTimers();
});

describe.each(locations)('two backups of one workload in the same second, in %s', (_, where) => {
  let first: string;
  let second: string;
  beforeAll(async () => {
    first = await markedDatabase();
    second = await markedDatabase();
  });

  it('given two concurrent `backup` runs with the same --name at the same instant, then both are listed and each restores its own database', async () => {
    const { from, flags } = await where();
    const backup = (db: string) =>
      snapkeeper(
        ['backup', pgUrl(pg, db), '--to', from, ...flags, '--name', 'shop/postgres'],
        s3Env(s3),
      );
    // The clock stands still: both runs start in the same millisecond.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date() });
    const [a, b] = await Promise.all([backup(first), backup(second)]);
    vi.useRealTimers();
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);

    const l = await snapkeeper(
      ['list', '--from', from, ...flags, '--workload', 'shop/postgres', '--output', 'json'],
      s3Env(s3),
    );
    expect(l.code).toBe(0);
    const listed = JSON.parse(l.stdout) as Listed[];
    expect(listed).toHaveLength(2);
    expect(new Set(listed.map((x) => x.manifestKey)).size).toBe(2);
    expect(listed.map((x) => x.objects[0]!.database).sort()).toEqual([first, second].sort());

    for (const x of listed) {
      const r = await snapkeeper(
        ['restore', '--from', from, ...flags, '--key', x.manifestKey, '--stdout'],
        s3Env(s3),
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(x.objects[0]!.database);
      expect(r.stdout).not.toContain(x.objects[0]!.database === first ? second : first);
    }
  });

  it('given the same database backed up twice at the same instant, then there are two backups with their own objects', async () => {
    const { from, flags } = await where();
    const backup = () =>
      snapkeeper(
        ['backup', pgUrl(pg, first), '--to', from, ...flags, '--name', 'shop/postgres'],
        s3Env(s3),
      );
    vi.useFakeTimers({ toFake: ['Date'], now: new Date() });
    const [a, b] = await Promise.all([backup(), backup()]);
    vi.useRealTimers();
    expect([a.code, b.code]).toEqual([0, 0]);
    const manifests = [a.stdout, b.stdout].map((o) => /^manifest: (.*)$/m.exec(o)?.[1]);
    expect(manifests[0]).toBeDefined();
    expect(manifests[0]).not.toBe(manifests[1]);

    const l = await snapkeeper(
      ['list', '--from', from, ...flags, '--workload', 'shop/postgres', '--output', 'json'],
      s3Env(s3),
    );
    const listed = JSON.parse(l.stdout) as Listed[];
    expect(listed).toHaveLength(2);
    expect(new Set(listed.map((x) => x.objects[0]!.key)).size).toBe(2);
  });
});

/** runBackup with a clock and identity of the test's choosing. */
function runAt(storage: Storage, db: string, at: Date, suffix: string) {
  return backupAt(storage, pgUrl(pg, db), at, { randomSuffix: () => suffix });
}

describe.each(locations)('a run that finds its identity taken, in %s', (_, where) => {
  it('given a backup at the same key, when a second run of another database completes, then it fails naming the manifest, the first backup is untouched and the second leaves nothing', async () => {
    const { from } = await where();
    const storage = openStorage(from, {
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      env: s3Env(s3),
    });
    const [one, two] = [await markedDatabase(), await markedDatabase()];
    const at = new Date();
    const won = await runAt(storage, one, at, 'aaaaaa');
    const before = await buffer(await storage.get(won.manifestKey));

    const lost = await runAt(storage, two, at, 'aaaaaa').then(
      () => 'succeeded',
      (e: unknown) => e,
    );
    expect(lost).toBeInstanceOf(AlreadyExistsError);
    expect(String((lost as Error).message)).toContain(won.manifestKey);

    expect((await buffer(await storage.get(won.manifestKey))).equals(before)).toBe(true);
    const keys: string[] = [];
    for await (const o of storage.list('shop/postgres/')) keys.push(o.key);
    expect(keys.sort()).toEqual([won.manifestKey, won.objects[0]!.key].sort());

    const r = await snapkeeper(
      ['restore', '--from', from, ...s3Flags, '--key', won.manifestKey, '--stdout'],
      s3Env(s3),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(one);
  });
});

describe('conditional writes on the S3 server', () => {
  const st = (prefix: string) =>
    new S3Storage({
      bucket: s3.bucket,
      prefix,
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      partSize: 5 * 1024 * 1024,
    });

  it('given an existing object, when PutObject is sent with If-None-Match: *, then the server answers 412', async () => {
    const key = `${uniqueName('inm')}/manifest.json`;
    const client = s3Client(s3);
    try {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'first' }));
      const err = await client
        .send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'second', IfNoneMatch: '*' }),
        )
        .then(
          () => undefined,
          (e: { $metadata?: { httpStatusCode?: number } }) => e,
        );
      expect(err?.$metadata?.httpStatusCode).toBe(412);
      expect((await rcloneCat(s3, key)).toString()).toBe('first');
    } finally {
      client.destroy();
    }
  });

  it('given an existing manifest, when put exclusively, then AlreadyExistsError and the manifest is unchanged', async () => {
    const prefix = uniqueName('excl');
    const storage = st(prefix);
    await storage.put('shop/pg/1/manifest.json', 'first', { exclusive: true });
    await expect(
      storage.put('shop/pg/1/manifest.json', 'second', { exclusive: true }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await rcloneCat(s3, `${prefix}/shop/pg/1/manifest.json`)).toString()).toBe('first');
  });

  it('given an existing object, when a multipart upload to its key completes exclusively, then AlreadyExistsError, the object is unchanged and no upload stays open', async () => {
    const prefix = uniqueName('exclmp');
    const storage = st(prefix);
    await storage.put('shop/pg/1/app.sql.gz', 'first');
    const big = randomBytes(11 * 1024 * 1024);
    await expect(
      storage.upload('shop/pg/1/app.sql.gz', Readable.from([big]), { exclusive: true }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await rcloneCat(s3, `${prefix}/shop/pg/1/app.sql.gz`)).toString()).toBe('first');
    expect(await listMultipartUploads(s3, s3.bucket, prefix)).toEqual([]);
    expect((await listAllObjects(s3, prefix)).map((o) => o.Key)).toEqual([
      `${prefix}/shop/pg/1/app.sql.gz`,
    ]);
  });
});

describe('conditional writes in a directory', () => {
  it('given an existing manifest, when put exclusively, then AlreadyExistsError and the file is unchanged', async () => {
    const dir = await scratchDir('excl');
    const storage = openStorage(dir);
    await storage.put('shop/pg/1/manifest.json', 'first', { exclusive: true });
    await expect(
      storage.put('shop/pg/1/manifest.json', 'second', { exclusive: true }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(
      storage.upload('shop/pg/1/manifest.json', Readable.from(['third']), { exclusive: true }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await readFile(join(dir, 'shop/pg/1/manifest.json'), 'utf8')).toBe('first');
  });
});
