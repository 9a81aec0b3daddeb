/**
 * The `Storage` interface over S3 (AWS, MinIO, R2, Ceph, versitygw): one
 * class, each method one S3 operation with its paging, its exclusive-write
 * rule and its error mapping (the errors in words are ./s3-errors.ts, the
 * growing multipart parts ./multipart.ts). It is over 300 lines because
 * the interface has eight operations, each with its S3 particulars, not
 * because it holds a second idea.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OperationError, describeError } from '../errors.js';
import { trace } from '../log.js';
import { AlreadyExistsError, NotFoundError, checkKey } from './errors.js';
import { explainS3Error, isAlreadyThere, isNotImplemented } from './s3-errors.js';
import { DEFAULT_PART_PLAN, uploadGrowing, type PartPlan } from './multipart.js';
import type { IncompleteUpload, ObjectInfo, PutOptions, Storage, UploadOptions } from './types.js';

const debug = trace('storage:s3');

/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/` (may be empty). */
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Absent: the SDK's default chain (IRSA / Workload Identity, profiles, IMDS). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Multipart parts (./multipart.ts): the first part size (8 MiB), doubled
   * after every `partGrowEvery` parts (1,000); parts in flight share a
   * budget of `queueSize` first parts (2 × 8 MiB). `maxParts` is S3's
   * 10,000; tests lower it.
   */
  partSize?: number;
  queueSize?: number;
  partGrowEvery?: number;
  maxParts?: number;
  /** ListObjectsV2 page size (MaxKeys); the server's default (1000) when absent. */
  pageSize?: number;
  /** Tests pass their own client (e.g. with a short retry policy). */
  client?: S3Client;
}

export class S3Storage implements Storage {
  readonly description: string;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly root: string;
  private readonly endpoint: string;
  private readonly plan: PartPlan;
  private readonly pageSize: number | undefined;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.root = options.prefix ? options.prefix.replace(/^\/+|\/+$/g, '') + '/' : '';
    this.endpoint = options.endpoint ?? `the AWS S3 endpoint of ${options.region}`;
    this.description = `s3://${this.bucket}/${this.root}`;
    const partSize = options.partSize ?? DEFAULT_PART_PLAN.partSize;
    this.plan = {
      partSize,
      growEvery: options.partGrowEvery ?? DEFAULT_PART_PLAN.growEvery,
      queueBytes: partSize * (options.queueSize ?? 2),
      maxParts: options.maxParts ?? DEFAULT_PART_PLAN.maxParts,
    };
    this.pageSize = options.pageSize;
    const config: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      followRegionRedirects: true,
      // Recent SDKs add CRC32 trailing checksums to every upload by default;
      // several S3-compatible servers reject or mis-store those. Send a
      // checksum only where the API requires one (DeleteObjects); integrity is
      // ours anyway: the manifest carries the sha256 of the stored bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    this.client = options.client ?? new S3Client(config);
  }

  private fullKey(key: string): string {
    return this.root + checkKey(key);
  }

  /**
   * Multipart upload with growing parts (./multipart.ts). On any failure the
   * multipart upload is aborted before this rejects. The caller's signal
   * destroys the body, which fails the upload through its normal error path.
   * Exclusive: `If-None-Match: *` goes on the PutObject (small bodies) or the
   * CompleteMultipartUpload, so the server refuses to replace an object.
   */
  async upload(
    key: string,
    body: Readable,
    options: UploadOptions = {},
  ): Promise<{ bytes: number }> {
    const Key = this.fullKey(key);
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const feeding = pipeline(body, counted).catch(() => {
      /* the error reaches the upload through `counted` */
    });
    const onAbort = () => {
      const reason = options.signal?.reason;
      counted.destroy(reason instanceof Error ? reason : new Error('upload aborted'));
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    let uploadId: string | undefined;
    try {
      const { parts } = await uploadGrowing(
        {
          client: this.client,
          bucket: this.bucket,
          key: Key,
          contentType: options.contentType,
          exclusive: options.exclusive,
          onUploadId: (id) => (uploadId = id),
        },
        counted,
        this.plan,
      );
      if (options.signal?.aborted) throw new Error('upload aborted');
      debug('uploaded %s (%d bytes, %d parts)', Key, bytes, parts.length);
      return { bytes };
    } catch (err) {
      await this.abortMultipart(Key, uploadId);
      // An object may exist if the failure came after completion (the
      // signal fired too late): remove it so nothing remains at the key.
      if (options.signal?.aborted) await this.delete([key]).catch(() => undefined);
      if (options.exclusive && isAlreadyThere(err))
        throw new AlreadyExistsError(key, this.description);
      throw this.mapError(err, `upload ${this.description}${key}`);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      counted.destroy();
      await feeding;
    }
  }

  private async abortMultipart(Key: string, UploadId: string | undefined): Promise<void> {
    if (!UploadId) return;
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }),
      );
      debug('aborted multipart upload %s of %s', UploadId, Key);
    } catch (err) {
      // NoSuchUpload: already gone. Anything else is worth a trace.
      if ((err as Error).name !== 'NoSuchUpload')
        debug('abort %s: %s', UploadId, describeError(err));
    }
  }

  /**
   * One PutObject. Exclusive: `If-None-Match: *`, which AWS S3, MinIO, R2,
   * Ceph and versitygw honour atomically. A server that answers it with 501
   * Not Implemented gets a HEAD first instead: still never an overwrite of
   * what was there before, though no longer atomic against a writer at the
   * same instant.
   */
  async put(key: string, data: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    const send = (conditional: boolean) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: data,
          ContentType: options.contentType,
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
    try {
      if (!options.exclusive) {
        await send(false);
        return;
      }
      try {
        await send(true);
      } catch (err) {
        if (isAlreadyThere(err)) throw new AlreadyExistsError(key, this.description);
        if (!isNotImplemented(err)) throw err;
        debug('conditional PutObject not implemented by the server: HEAD, then PUT %s', key);
        if (await this.exists(key)) throw new AlreadyExistsError(key, this.description);
        await send(false);
      }
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw err;
      throw this.mapError(err, `write ${this.description}${key}`);
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
        return false;
      throw err;
    }
  }

  async get(key: string, signal?: AbortSignal): Promise<Readable> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
        { abortSignal: signal },
      );
      if (!(out.Body instanceof Readable)) throw new Error('response has no readable body');
      return out.Body;
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'NoSuchKey' || name === 'NotFound')
        throw new NotFoundError(key, this.description);
      throw this.mapError(err, `read ${this.description}${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.root + prefix,
            ContinuationToken,
            MaxKeys: this.pageSize,
          }),
        );
      } catch (err) {
        throw this.mapError(err, `list ${this.description}${prefix}`);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key?.startsWith(this.root)) continue;
        yield {
          key: o.Key.slice(this.root.length),
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
        };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH).map((k) => ({ Key: this.fullKey(k) }));
      let out;
      try {
        out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch, Quiet: true },
          }),
        );
      } catch (err) {
        throw this.mapError(err, `delete from ${this.description}`);
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new OperationError(
          `delete from ${this.description}: ${failed.length} object(s) not deleted, ` +
            `first ${first.Key}: ${first.Code ?? 'error'} ${first.Message ?? ''}`.trim(),
        );
      }
    }
  }

  async *listIncomplete(prefix: string): AsyncIterable<IncompleteUpload> {
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.root + prefix,
            KeyMarker,
            UploadIdMarker,
          }),
        );
      } catch (err) {
        throw this.mapError(err, `list multipart uploads of ${this.description}${prefix}`);
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key?.startsWith(this.root) || !u.UploadId) continue;
        yield {
          key: u.Key.slice(this.root.length),
          id: u.UploadId,
          started: u.Initiated ?? new Date(0),
        };
      }
      if (!page.IsTruncated) return;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async abortIncomplete(upload: IncompleteUpload): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.fullKey(upload.key),
          UploadId: upload.id,
        }),
      );
    } catch (err) {
      if ((err as Error).name === 'NoSuchUpload') return;
      throw this.mapError(err, `abort multipart upload of ${this.description}${upload.key}`);
    }
  }

  /** SDK and network errors as one clear line about what was being done. */
  mapError(err: unknown, what: string): OperationError {
    if (err instanceof OperationError) return err;
    return new OperationError(`${what}: ${explainS3Error(err, this.bucket, this.endpoint)}`, {
      cause: err,
    });
  }
}
