import type { Readable } from 'node:stream';

/** One stored object, as a listing shows it. */
export interface ObjectInfo {
  /** Full key relative to the storage root (the `s3://bucket/prefix` or the directory). */
  key: string;
  size: number;
  lastModified: Date;
}

/** An upload that was started and never completed nor aborted. */
export interface IncompleteUpload {
  /** The key it was meant for (relative to the storage root). */
  key: string;
  /** The S3 UploadId, or the temporary file's path. */
  id: string;
  /** When it was started (S3 `Initiated`), or last written (a local temporary file). */
  started: Date;
}

export interface UploadOptions {
  /** Aborting it aborts the upload; nothing remains at the key afterwards. */
  signal?: AbortSignal;
  contentType?: string;
  /**
   * Write only if nothing exists at the key: otherwise reject with
   * AlreadyExistsError and leave what is there untouched (S3: a conditional
   * write, `If-None-Match: *`; a directory: an exclusive link).
   */
  exclusive?: boolean;
}

export type PutOptions = Omit<UploadOptions, 'signal'>;

/**
 * Where backups live. Two implementations: a local directory (the default,
 * `./backups`) and S3-compatible storage (multipart, src/storage/multipart.ts).
 *
 * Keys are `/`-separated and relative to the root; the root's own prefix
 * (`s3://bucket/<prefix>`) is applied by the implementation.
 */
export interface Storage {
  /** Human form of the root, safe to print (no credentials). */
  readonly description: string;

  /**
   * Streams `body` to `key`. Resolves once the object is complete and
   * visible. On any failure — the body stream errors, the signal aborts, the
   * server refuses — it rejects and leaves nothing at `key` (the multipart
   * upload is aborted, the partial file removed).
   */
  upload(key: string, body: Readable, options?: UploadOptions): Promise<{ bytes: number }>;

  /** Small objects written in one request (the manifest). */
  put(key: string, data: string | Uint8Array, options?: PutOptions): Promise<void>;

  /** Reads an object as a stream; rejects (NotFoundError) if it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<Readable>;

  /** Every object under `prefix` (recursively), in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /** Deletes keys, in batches where the backend allows; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;

  /**
   * Uploads under `prefix` that were started and never completed: what a
   * process killed mid-upload (`kill -9`, an OOM kill) leaves behind — an
   * open S3 multipart upload (billed until aborted), a local temporary file.
   * Both built-in storages have it; test doubles may leave it out.
   */
  listIncomplete?(prefix: string): AsyncIterable<IncompleteUpload>;

  /** Aborts one of them (a no-op if it is already gone). */
  abortIncomplete?(upload: IncompleteUpload): Promise<void>;
}
