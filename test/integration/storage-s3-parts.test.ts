// Growing multipart parts against the real S3 server, with a tiny part
// limit forced: an object larger than the limit's fixed-size parts can hold
// uploads once the parts grow, in the planned number of parts; without
// growth the same object fails cleanly, leaving nothing behind.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { S3Storage } from '../../src/storage/s3.js';
import {
  listAllObjects,
  listMultipartUploads,
  rcloneCat,
  s3Client,
  uniqueName,
} from '../env/helpers.js';

const s3 = inject('s3');
const MiB = 1024 * 1024;

function storage(extra: Partial<ConstructorParameters<typeof S3Storage>[0]>) {
  const prefix = uniqueName('parts');
  const st = new S3Storage({
    bucket: s3.bucket,
    prefix,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    partSize: 5 * MiB, // S3's minimum
    queueSize: 2,
    ...extra,
  });
  return { st, prefix };
}

function body(total: number): { stream: Readable; data: () => Buffer } {
  const all = randomBytes(total);
  let off = 0;
  const stream = new Readable({
    read() {
      if (off >= all.length) return void this.push(null);
      const n = Math.min(256 * 1024, all.length - off);
      this.push(all.subarray(off, off + n));
      off += n;
    },
  });
  return { stream, data: () => all };
}

describe('S3Storage: parts that grow', () => {
  it('given 5 MiB parts doubling every 2 parts and a limit of 5 parts, when 45 MiB is uploaded, then it is stored in 5 parts (5+5+10+10+15)', async () => {
    const { st, prefix } = storage({ partGrowEvery: 2, maxParts: 5 });
    const b = body(45 * MiB);
    expect((await st.upload('w/big.sql.gz', b.stream, { exclusive: true })).bytes).toBe(45 * MiB);
    const back = await rcloneCat(s3, `${prefix}/w/big.sql.gz`);
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(b.data()).digest('hex'),
    );
    // A multipart ETag ends in -<number of parts>.
    const head = await s3Client(s3).send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/w/big.sql.gz` }),
    );
    expect(head.ETag).toMatch(/-5"?$/);
    expect(await listMultipartUploads(s3, s3.bucket, prefix)).toEqual([]);
  });

  it('given the same limit without growth, when 45 MiB is uploaded, then it fails naming the limit and leaves no object or open upload', async () => {
    const { st, prefix } = storage({ partGrowEvery: 1_000_000, maxParts: 5 });
    await expect(st.upload('w/big.sql.gz', body(45 * MiB).stream)).rejects.toThrow(
      /larger than 5 parts can hold \(26214400 bytes\)/,
    );
    expect(await listAllObjects(s3, prefix)).toEqual([]);
    expect(await listMultipartUploads(s3, s3.bucket, prefix)).toEqual([]);
  });
});
