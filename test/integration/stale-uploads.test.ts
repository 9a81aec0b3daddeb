// A dumper killed mid-upload (kill -9, an OOM kill) leaves an open multipart
// upload that is billed until someone aborts it. `prune` and the dumper abort
// those under the workload's prefix once they are older than a safe age; a
// younger one (a backup still running) and other prefixes are left alone.
// Against the real S3 server: the uploads are really opened (with a part),
// and really age (a threshold of seconds instead of the default 24 h).
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createPgDatabase,
  listMultipartUploads,
  psql,
  s3Client,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { s3Env, snapkeeper } from './backup-support.js';
import { existsSync } from 'node:fs';

const pg = inject('postgres');
const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];

/** Opens a multipart upload at `key` and uploads one part, as a dumper killed mid-way leaves it. */
async function openUpload(key: string): Promise<string> {
  const client = s3Client(s3);
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
        Body: Buffer.alloc(5 * 1024 * 1024, 'x'),
      }),
    );
    return UploadId!;
  } finally {
    client.destroy();
  }
}

const openKeys = async (root: string) =>
  (await listMultipartUploads(s3, s3.bucket, `${root}/`))
    .map((u) => u.Key!.slice(root.length + 1))
    .sort();

/** An old upload of the workload, one of a neighbour whose name starts the same, one of another prefix; then, 3 s later, a young one. */
async function uploadsOfAllAges(root: string, workload: string) {
  const old = `${workload}/20261101T030000Z/app.sql.gz`;
  const neighbour = `${workload}x/20261101T030000Z/app.sql.gz`;
  const outside = uniqueName('other');
  await openUpload(`${root}/${old}`);
  await openUpload(`${root}/${neighbour}`);
  await openUpload(`${outside}/${old}`);
  await sleep(3000);
  const young = `${workload}/20261120T030000Z/app.sql.gz`;
  await openUpload(`${root}/${young}`);
  return { old, neighbour, young, outside };
}

describe('stale multipart uploads', () => {
  it('given uploads of all ages, when prune --abort-uploads-older-than 2s, then only the old one of the workload is aborted (a dry run first aborts nothing)', async () => {
    const root = uniqueName('stale');
    const u = await uploadsOfAllAges(root, 'shop/pg');
    const prune = (extra: string[]) =>
      snapkeeper(
        [
          'prune',
          '--from',
          `s3://${s3.bucket}/${root}`,
          ...s3Flags,
          '--workload',
          'shop/pg',
          '--retention',
          'keep-last=1',
          '--abort-uploads-older-than',
          '2s',
          ...extra,
        ],
        s3Env(s3),
      );

    const dry = await prune(['--dry-run', '--output', 'json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).abortedUploads.map((x: { key: string }) => x.key)).toEqual([
      u.old,
    ]);
    expect(await openKeys(root)).toEqual([u.old, u.young, u.neighbour].sort());

    const r = await prune([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`aborted 1 upload\\(s\\) left open for more than 2s: ${u.old} \\(started `),
    );
    expect(await openKeys(root)).toEqual([u.young, u.neighbour].sort());
    expect((await listMultipartUploads(s3, s3.bucket, `${u.outside}/`)).length).toBe(1);
  });

  it('given a bad age, then exit 2 with one line', async () => {
    const r = await snapkeeper([
      'prune',
      '--from',
      'x',
      '--workload',
      'a/b',
      '--retention',
      'keep-last=1',
      '--abort-uploads-older-than',
      'a day',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'snapkeeper: --abort-uploads-older-than: "a day" is not an age like 24h, 90m or 2d\n',
    );
  });

  it('given a temporary file a killed local backup left, when prune, then it goes with its directory once old enough', async () => {
    const dir = await scratchDir('stale');
    const tsDir = join(dir, 'shop', 'pg', '20261101T030000Z');
    await mkdir(tsDir, { recursive: true });
    const tmp = join(tsDir, '.snapkeeper-partial-0123456789ab');
    await writeFile(tmp, 'half a dump');
    const args = ['prune', '--from', dir, '--workload', 'shop/pg', '--retention', 'keep-last=1'];
    const young = await snapkeeper(args);
    expect(young.code).toBe(0);
    expect(existsSync(tmp)).toBe(true);
    // Its last write, two days ago: a local temporary file ages by its mtime.
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(tmp, twoDaysAgo, twoDaysAgo);
    const old = await snapkeeper(args);
    expect(old.code).toBe(0);
    expect(old.stderr).toMatch(
      /aborted 1 upload\(s\) left open for more than 24h: shop\/pg\/20261101T030000Z\/\.snapkeeper-partial-0123456789ab/,
    );
    expect(existsSync(tsDir)).toBe(false);
    expect(existsSync(join(dir, 'shop', 'pg'))).toBe(false);
  });
});

describe('the dumper aborts stale uploads after a successful backup', () => {
  let db: string;
  beforeAll(async () => {
    db = await createPgDatabase(pg, uniqueName('stale'));
    await psql(pg, db, 'CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g;');
  });

  it('given SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN=2s, then the old upload of its workload is aborted, the young one and other prefixes kept', async () => {
    const root = uniqueName('stale');
    const u = await uploadsOfAllAges(root, 'shop/postgres');
    const r = await snapkeeper(['dump'], {
      ...s3Env(s3),
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
      SNAPKEEPER_TYPE: 'postgresql',
      SNAPKEEPER_HOST: pg.host,
      SNAPKEEPER_PORT: String(pg.port),
      SNAPKEEPER_USERNAME: pg.user,
      SNAPKEEPER_PASSWORD: pg.password,
      SNAPKEEPER_DATABASES: db,
      SNAPKEEPER_STORAGE: `s3://${s3.bucket}/${root}`,
      SNAPKEEPER_WORKLOAD_NAMESPACE: 'shop',
      SNAPKEEPER_WORKLOAD_NAME: 'postgres',
      SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN: '2s',
      SNAPKEEPER_TERMINATION_MESSAGE_PATH: join(await scratchDir('stale'), 'result'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await openKeys(root)).toEqual([u.young, u.neighbour].sort());
    expect((await listMultipartUploads(s3, s3.bucket, `${u.outside}/`)).length).toBe(1);
    expect(r.logs.join('\n')).toMatch(
      /"msg":"aborted stale uploads".*20261101T030000Z\/app\.sql\.gz/,
    );
  });

  it('given a bad SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN, then the environment is refused (exit 2)', async () => {
    const r = await snapkeeper(['dump'], {
      SNAPKEEPER_TYPE: 'postgresql',
      SNAPKEEPER_HOST: 'h',
      SNAPKEEPER_DATABASES: 'd',
      SNAPKEEPER_STORAGE: 'x',
      SNAPKEEPER_WORKLOAD_NAMESPACE: 'n',
      SNAPKEEPER_WORKLOAD_NAME: 'w',
      SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN: 'soon',
      SNAPKEEPER_TERMINATION_MESSAGE_PATH: join(await scratchDir('stale'), 'result'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN: "soon" is not an age like 24h/);
  });
});
