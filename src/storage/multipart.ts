/**
 * A streamed S3 upload whose part size grows with the object, so a dump of
 * any size fits in S3's 10,000 parts: `partSize` (8 MiB) for the first
 * `growEvery` (1,000) parts, then twice that for the next 1,000, and so on,
 * never more than S3's 5 GiB part. With the defaults, 10,000 parts hold
 * more than S3's largest object (5 TiB); fixed 16 MiB parts stopped at
 * 156 GiB.
 *
 * Memory: S3 needs each part's length before it is sent (and the SDK must
 * be able to resend a part it retries), so a part is held in memory. Parts
 * in flight share a budget (`queueBytes`, 16 MiB): two 8 MiB parts, then
 * one part at a time. Part buffers (those in flight and the one being
 * filled) stay at 24 MiB for dumps up to 7.8 GiB of stored data, 32 MiB up
 * to 23 GiB and 64 MiB up to 54 GiB; past that they are two parts' worth,
 * the least a multipart upload of such parts can hold. (16 MiB parts, the
 * earlier default, held 48 MiB from the start: a backup to S3 peaked 25-30
 * MiB higher, bench/RESULTS.md.)
 *
 * A body shorter than the first part is one PutObject. Exclusive uploads
 * send `If-None-Match: *` on the PutObject or the CompleteMultipartUpload.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { OperationError } from '../errors.js';

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
export const MAX_PARTS = 10_000;

export interface PartPlan {
  /** First part size. */
  partSize: number;
  /** Parts per size step: after each `growEvery` parts, the size doubles. */
  growEvery: number;
  /** Bytes of parts in flight at once (at least one part, whatever its size). */
  queueBytes: number;
  /** S3's limit; tests lower it. */
  maxParts: number;
}

export const DEFAULT_PART_PLAN: PartPlan = {
  partSize: 8 * 1024 * 1024,
  growEvery: 1000,
  queueBytes: 16 * 1024 * 1024,
  maxParts: MAX_PARTS,
};

/** The size of part `index` (0-based). */
export function partSizeAt(plan: PartPlan, index: number): number {
  const steps = Math.floor(index / plan.growEvery);
  return Math.min(MAX_PART_BYTES, plan.partSize * 2 ** Math.min(steps, 30));
}

/** How many parts of this size may be in flight at once. */
export function partsInFlight(plan: PartPlan, size: number): number {
  return Math.max(1, Math.floor(plan.queueBytes / size));
}

/** The largest object the plan can store. */
export function planCapacity(plan: PartPlan): number {
  let total = 0;
  for (let i = 0; i < plan.maxParts; i++) total += partSizeAt(plan, i);
  return total;
}

export interface MultipartTarget {
  client: S3Client;
  bucket: string;
  key: string;
  contentType?: string;
  exclusive?: boolean;
  /** Called with the UploadId as soon as it exists, so a failure can abort it. */
  onUploadId: (id: string) => void;
}

/**
 * Streams `body` to the object. Rejects on the first failure (of the body,
 * a part, or the completion), once the parts in flight have settled;
 * aborting the multipart upload is the caller's (it knows the UploadId
 * through `onUploadId`).
 */
export async function uploadGrowing(
  t: MultipartTarget,
  body: Readable,
  plan: PartPlan = DEFAULT_PART_PLAN,
): Promise<{ parts: number[] }> {
  const inFlight = new Set<Promise<void>>();
  try {
    return await upload(t, body, plan, inFlight);
  } catch (err) {
    // Parts still being sent settle first, so the caller's abort comes after
    // the last of them and no part lands in an upload already aborted.
    await Promise.allSettled(inFlight);
    throw err;
  }
}

async function upload(
  t: MultipartTarget,
  body: Readable,
  plan: PartPlan,
  inFlight: Set<Promise<void>>,
): Promise<{ parts: number[] }> {
  // The part being filled, allocated at its full size: no concatenation,
  // so no second copy of a part in memory.
  let part: Buffer | undefined;
  let filled = 0;
  let uploadId: string | undefined;
  const done: CompletedPart[] = [];
  const sizes: number[] = [];
  let failed: unknown;

  const sendPart = async (data: Buffer): Promise<void> => {
    if (failed !== undefined) throw failed;
    const index = sizes.length;
    if (index >= plan.maxParts)
      throw new OperationError(
        `the object is larger than ${plan.maxParts} parts can hold (${planCapacity(plan)} bytes)`,
      );
    if (uploadId === undefined) {
      const created = await t.client.send(
        new CreateMultipartUploadCommand({
          Bucket: t.bucket,
          Key: t.key,
          ContentType: t.contentType,
        }),
      );
      if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      uploadId = created.UploadId;
      t.onUploadId(uploadId);
    }
    sizes.push(data.length);
    const PartNumber = index + 1;
    const id = uploadId;
    // Wait for room: parts of this size in flight share the budget.
    while (inFlight.size >= partsInFlight(plan, data.length)) await Promise.race(inFlight);
    if (failed !== undefined) throw failed;
    const p = (async () => {
      const out = await t.client.send(
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: t.key,
          UploadId: id,
          PartNumber,
          Body: data,
          ContentLength: data.length,
        }),
      );
      done.push({ ETag: out.ETag, PartNumber });
    })().catch((err: unknown) => {
      failed ??= err;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  for await (const chunk of body as AsyncIterable<Buffer>) {
    let off = 0;
    while (off < chunk.length) {
      part ??= Buffer.allocUnsafe(partSizeAt(plan, sizes.length));
      const n = chunk.copy(part, filled, off);
      filled += n;
      off += n;
      if (filled === part.length) {
        const full = part;
        part = undefined;
        filled = 0;
        await sendPart(full);
      }
    }
  }

  if (uploadId === undefined) {
    // Shorter than one part: one request.
    await t.client.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: t.key,
        Body: part?.subarray(0, filled) ?? Buffer.alloc(0),
        ContentType: t.contentType,
        ...(t.exclusive ? { IfNoneMatch: '*' } : {}),
      }),
    );
    return { parts: [] };
  }
  if (part && filled > 0) await sendPart(part.subarray(0, filled));
  await Promise.all(inFlight);
  if (failed !== undefined) throw failed;
  done.sort((a, b) => a.PartNumber! - b.PartNumber!);
  await t.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: t.bucket,
      Key: t.key,
      UploadId: uploadId,
      MultipartUpload: { Parts: done },
      ...(t.exclusive ? { IfNoneMatch: '*' } : {}),
    }),
  );
  return { parts: sizes };
}
