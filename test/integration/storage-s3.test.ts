import { S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import nock from 'nock';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { NotFoundError } from '../../src/storage/errors.js';
import { openStorage } from '../../src/storage/open.js';
import { S3Storage } from '../../src/storage/s3.js';
import {
  awsEnv,
  listAllObjects,
  listMultipartUploads,
  rcloneCat,
  rcloneList,
  uniqueName,
} from '../env/helpers.js';

const s3 = inject('s3');
const MiB = 1024 * 1024;

/** S3 storage under a fresh prefix, with the minimum part size so small bodies go multipart. */
function storage(extra: Partial<ConstructorParameters<typeof S3Storage>[0]> = {}) {
  const prefix = uniqueName('st');
  const st = new S3Storage({
    bucket: s3.bucket,
    prefix,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    partSize: 5 * MiB,
    queueSize: 2,
    ...extra,
  });
  return { st, prefix };
}

/** `total` random bytes in 64 KiB chunks; fails with `error` after `failAfter` bytes if given. */
function body(total: number, failAfter?: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) {
        this.destroy(new Error('pg_dump exited with code 1'));
        return;
      }
      if (sent >= total) return void this.push(null);
      const chunk = randomBytes(Math.min(64 * 1024, total - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

async function nothingLeft(prefix: string) {
  expect(await listAllObjects(s3, prefix)).toEqual([]);
  expect(await listMultipartUploads(s3, s3.bucket, prefix)).toEqual([]);
}

afterEach(() => {
  nock.cleanAll();
  nock.restore();
});
afterAll(() => nock.restore());

describe('S3Storage against the S3 server', () => {
  it('given a 12 MiB body, when uploaded, then rclone reads back the same bytes (multipart, no open uploads)', async () => {
    const { st, prefix } = storage();
    const b = body(12 * MiB + 123);
    const { bytes } = await st.upload('ns/db/t/app.sql.gz', b.stream);
    expect(bytes).toBe(12 * MiB + 123);
    const back = await rcloneCat(s3, `${prefix}/ns/db/t/app.sql.gz`);
    expect(createHash('sha256').update(back).digest('hex')).toBe(b.sha256());
    expect(await listMultipartUploads(s3, s3.bucket, prefix)).toEqual([]);
    // and our own get streams the same bytes
    const mine = await buffer(await st.get('ns/db/t/app.sql.gz'));
    expect(mine.equals(back)).toBe(true);
  });

  it('given an empty or a small body, when uploaded, then a single PutObject stores it', async () => {
    const { st, prefix } = storage();
    await st.upload('a/empty', Readable.from([]));
    await st.upload('a/small', Readable.from([Buffer.from('hello')]));
    await st.put('a/manifest.json', '{"x":1}', { contentType: 'application/json' });
    expect((await rcloneList(s3, prefix)).sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'a/empty', size: 0 },
      { path: 'a/manifest.json', size: 7 },
      { path: 'a/small', size: 5 },
    ]);
  });

  it('given a body that fails after two parts, when uploaded, then it rejects and no object or multipart upload remains', async () => {
    const { st, prefix } = storage();
    const b = body(50 * MiB, 11 * MiB);
    await expect(st.upload('ns/db/t/app.sql.gz', b.stream)).rejects.toThrow(
      /pg_dump exited with code 1/,
    );
    await nothingLeft(prefix);
  });

  it('given an abort signal mid-upload, then it rejects and no object or multipart upload remains', async () => {
    const { st, prefix } = storage();
    const ac = new AbortController();
    const b = body(50 * MiB);
    let seen = 0;
    b.stream.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen > 12 * MiB && !ac.signal.aborted) ac.abort(new Error('SIGTERM'));
    });
    await expect(st.upload('ns/db/t/app.sql.gz', b.stream, { signal: ac.signal })).rejects.toThrow(
      OperationError,
    );
    await nothingLeft(prefix);
  });

  it('given the server answers 500 to one part, when uploaded, then the multipart upload is aborted', async () => {
    // One attempt, so the 500 is final instead of retried with backoff.
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const { st, prefix } = storage({ client });
    // Only part 2's request is faked; everything else reaches the real server.
    if (!nock.isActive()) nock.activate();
    nock(s3.endpoint, { allowUnmocked: true })
      .put((path) => path.endsWith('/ns/db/t/app.sql.gz'))
      .query((q) => q.partNumber === '2')
      .reply(500, '<Error><Code>InternalError</Code><Message>boom</Message></Error>')
      .persist();
    const b = body(16 * MiB);
    await expect(st.upload('ns/db/t/app.sql.gz', b.stream)).rejects.toThrow(
      /upload s3:\/\/.*InternalError|boom|500/,
    );
    nock.cleanAll();
    nock.restore();
    await nothingLeft(prefix);
  });

  it('given more than a page of objects, when listed and deleted, then every page is seen and every batch deleted', async () => {
    const { st, prefix } = storage({ pageSize: 250 });
    const keys = Array.from({ length: 1003 }, (_, i) => `w/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 32) {
      await Promise.all(keys.slice(i, i + 32).map((k) => st.put(k, k)));
    }
    const listed: string[] = [];
    for await (const o of st.list('w/')) listed.push(o.key);
    expect(listed.sort()).toEqual(keys);
    await st.delete([...keys.slice(0, 1002), 'w/never-existed']);
    expect((await listAllObjects(s3, prefix)).map((o) => o.Key)).toEqual([`${prefix}/w/1002`]);
  });

  it('given a missing key, then NotFoundError', async () => {
    const { st } = storage();
    await expect(st.get('no/such/key')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('given a bucket that does not exist, then a clear OperationError', async () => {
    const st = openStorage(`s3://${uniqueName('nobucket').replace(/_/g, '-')}/p`, {
      env: awsEnv(s3),
    });
    const err = await st.upload('x/y', Readable.from([Buffer.from('x')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/bucket nobucket-[0-9a-f]+ does not exist/);
  });

  it('given an endpoint nobody listens on, then "cannot reach S3 endpoint"', async () => {
    const st = openStorage(`s3://${s3.bucket}/p`, {
      env: { ...awsEnv(s3), AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' },
    }) as S3Storage;
    st.client.config.maxAttempts = async () => 1;
    const err = await (async () => {
      for await (const _ of st.list('')) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(
      /cannot reach S3 endpoint http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
    );
  });
});
