// A server that does not implement conditional writes (501 Not Implemented
// to If-None-Match) is faked with nock for the conditional PUT only:
// versitygw honours the header, so it cannot produce this. Everything else
// reaches the real server. In a file of its own, so that no other test's
// nock activation and restore come before it.
import { S3Client } from '@aws-sdk/client-s3';
import nock from 'nock';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AlreadyExistsError } from '../../src/storage/errors.js';
import { S3Storage } from '../../src/storage/s3.js';
import { rcloneCat, uniqueName } from '../env/helpers.js';

const s3 = inject('s3');

afterAll(() => {
  nock.cleanAll();
  nock.restore();
});

describe('exclusive puts on a server without conditional writes', () => {
  it('given a server that answers 501 to If-None-Match, when a manifest is put exclusively, then a HEAD guards the plain PUT: a new key is written, an existing one is not replaced', async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const prefix = uniqueName('inm501');
    const st = new S3Storage({
      bucket: s3.bucket,
      prefix,
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      client,
    });
    await st.put('shop/pg/old/manifest.json', 'first');
    // Only conditional PUTs are faked (versitygw honours them); the HEAD and
    // the plain PUT reach the real server.
    if (!nock.isActive()) nock.activate();
    const conditional = nock(s3.endpoint, {
      allowUnmocked: true,
      reqheaders: { 'if-none-match': '*' },
    })
      .put((path) => path.endsWith('/manifest.json'))
      .query(true)
      .reply(501, '<Error><Code>NotImplemented</Code><Message>If-None-Match</Message></Error>')
      .persist();
    await st.put('shop/pg/new/manifest.json', 'new', { exclusive: true });
    await expect(
      st.put('shop/pg/old/manifest.json', 'second', { exclusive: true }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(conditional.isDone()).toBe(true);
    nock.cleanAll();
    nock.restore();
    expect((await rcloneCat(s3, `${prefix}/shop/pg/new/manifest.json`)).toString()).toBe('new');
    expect((await rcloneCat(s3, `${prefix}/shop/pg/old/manifest.json`)).toString()).toBe('first');
  });
});
