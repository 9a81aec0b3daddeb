// An S3-compatible server: versitygw's posix backend over a temporary
// directory, metadata in a sidecar directory (so the filesystem needs no
// extended attributes), on 127.0.0.1 at a free port, with one bucket created.
// The root credentials go through the environment, not the command line.
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { binaries } from '../paths.js';
import {
  freePort,
  makeTempDir,
  removeDir,
  spawnServer,
  waitUntil,
  withCleanup,
} from './process.js';

export interface S3Info {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export function startS3(
  /** host: the address to listen on (the e2e node's IP, for pods), 127.0.0.1 by default */
  opts: { bucket?: string; host?: string } = {},
): Promise<S3Info & { stop(): Promise<void> }> {
  return withCleanup(async (onStop) => {
    const dir = await makeTempDir('s3');
    onStop(() => removeDir(dir));
    const data = join(dir, 'data');
    const meta = join(dir, 'meta');
    await mkdir(data);
    await mkdir(meta);
    const accessKeyId = 'snapkeeper' + randomBytes(4).toString('hex');
    const secretAccessKey = randomBytes(24).toString('base64url');
    const region = 'us-east-1';
    const bucket = opts.bucket ?? 'snapkeeper-test';

    const host = opts.host ?? '127.0.0.1';
    const port = await freePort();
    const proc = spawnServer(
      'versitygw',
      binaries.versitygw(),
      ['--port', `${host}:${port}`, '--region', region, 'posix', '--sidecar', meta, data],
      join(dir, 'versitygw.log'),
      { env: { ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey } },
    );
    onStop(() => proc.stop());

    const endpoint = `http://${host}:${port}`;
    const client = new S3Client({
      endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });
    try {
      await waitUntil(proc, `versitygw on ${endpoint}`, async () => {
        await client.send(new ListBucketsCommand({}));
        return true;
      });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }

    return { endpoint, region, accessKeyId, secretAccessKey, bucket };
  });
}
