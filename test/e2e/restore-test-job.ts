// The scheduled restore test on the real node: a Job run to its end (its
// pod and the container's exit code and termination message), and a backup
// damaged on purpose (a table's rows cut out of its stream, then compressed,
// encrypted and signed again).
import {
  BatchV1Api,
  type V1ContainerStateTerminated,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { inject } from 'vitest';
import type { Manifest } from '../../src/manifest.js';
import { exec, s3Client } from '../env/helpers.js';
import { binaries } from '../env/paths.js';
import { core, eventually, kc } from './support.js';

export interface FinishedJob {
  job: V1Job;
  pod: V1Pod;
  terminated: V1ContainerStateTerminated;
}

/** Waits for the Job to succeed or fail; its pod and the container's end (exit code, termination message). */
export async function finishedJob(
  namespace: string,
  name: string,
  timeoutMs = 180_000,
): Promise<FinishedJob> {
  const batch = kc().makeApiClient(BatchV1Api);
  const job = await eventually(
    `Job ${namespace}/${name} to finish`,
    async () => {
      const j = await batch.readNamespacedJob({ name, namespace });
      const done = j.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      return done ? j : undefined;
    },
    timeoutMs,
    1000,
  );
  const pods = await core().listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
  const pod = pods.items[0];
  const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
  if (!pod || !terminated)
    throw new Error(`Job ${name} finished without a terminated pod: ${JSON.stringify(job.status)}`);
  return { job, pod, terminated };
}

async function getObject(key: string): Promise<Buffer> {
  const s3 = inject('s3');
  const client = s3Client(s3);
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

async function putObject(key: string, body: Buffer | string): Promise<void> {
  const s3 = inject('s3');
  const client = s3Client(s3);
  try {
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

async function age(args: string[], input: Buffer): Promise<Buffer> {
  const r = await exec(binaries.age(), args, { input });
  if (r.code !== 0) throw new Error(`age ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Damages a stored backup the way a broken pipeline could: its one dump
 * object decrypted, gunzipped, `cut` applied to the SQL, then gzipped,
 * encrypted to `recipient` and stored again, with the manifest's size and
 * sha256 signed again, so only a restore can tell. `root` is the storage
 * prefix in the bucket, `manifestKey` relative to it.
 */
export async function damageBackup(opts: {
  root: string;
  manifestKey: string;
  identityFile: string;
  recipient: string;
  cut: (sql: string) => string;
}): Promise<Manifest> {
  const manifest = JSON.parse(
    (await getObject(`${opts.root}/${opts.manifestKey}`)).toString(),
  ) as Manifest;
  if (manifest.objects.length !== 1)
    throw new Error(`expected one object in ${opts.manifestKey}, got ${manifest.objects.length}`);
  const obj = manifest.objects[0]!;
  const key = `${opts.root}/${obj.key}`;
  const sql = gunzipSync(await age(['-d', '-i', opts.identityFile], await getObject(key))).toString(
    'utf8',
  );
  const cut = opts.cut(sql);
  if (cut.length >= sql.length) throw new Error('the cut removed nothing from the dump');
  const stored = await age(['-r', opts.recipient], gzipSync(Buffer.from(cut)));
  await putObject(key, stored);
  const signed: Manifest = {
    ...manifest,
    objects: [
      {
        ...obj,
        bytes: stored.length,
        rawBytes: Buffer.byteLength(cut),
        sha256: createHash('sha256').update(stored).digest('hex'),
      },
    ],
  };
  await putObject(`${opts.root}/${opts.manifestKey}`, JSON.stringify(signed));
  return signed;
}
