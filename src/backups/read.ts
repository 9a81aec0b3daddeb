import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream } from '../crypto/age.js';
import { OperationError, UserError, describeError } from '../errors.js';
import { objectCompression, type Manifest } from '../manifest.js';
import { ProgramStreamError, decompressStream } from '../pipeline/compression.js';
import type { Storage } from '../storage/types.js';

export type StoredObject = Manifest['objects'][number];

/** The sha256 of the stored bytes does not match the manifest: the object is damaged. */
export class ChecksumError extends OperationError {
  constructor(
    readonly key: string,
    readonly expected: string,
    readonly actual: string,
    readonly bytes: number,
    readonly expectedBytes: number,
  ) {
    super(
      `${key}: sha256 mismatch: the manifest says ${expected.slice(0, 12)}… (${expectedBytes} bytes), ` +
        `the stored object is ${actual.slice(0, 12)}… (${bytes} bytes)`,
    );
  }
}

/**
 * A pass-through that hashes what crosses it and, at the end, fails the
 * stream (instead of ending it) when the sha256 or the size differs from
 * the manifest. Placed right after the download, so the check covers exactly
 * the stored bytes.
 */
export function checksumTap(obj: StoredObject): Transform & { bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      if (actual !== obj.sha256 || bytes !== obj.bytes)
        done(new ChecksumError(obj.key, obj.sha256, actual, bytes, obj.bytes));
      else done();
    },
  });
  return Object.assign(t, { bytes: () => bytes });
}

/** Identities are needed exactly when the backup is encrypted. */
export function checkIdentities(manifest: Manifest, identities: readonly string[]): void {
  if (manifest.encryption && identities.length === 0)
    throw new UserError(
      `the backup is encrypted with age (recipients ${manifest.encryption.recipients.join(', ')}): ` +
        'pass --identity <age key file>',
    );
}

/**
 * The stages after the download: sha256 check → [age decrypt] → gunzip or
 * zstd -d (the object's own compression, gzip for older manifests).
 * Order matters: the checksum sees the stored bytes; age authenticates each
 * 64 KiB chunk, so a tampered or truncated file fails early; gzip's CRC and
 * zstd's frame checksum cover the plain dump.
 */
export function plainStages(
  manifest: Manifest,
  obj: StoredObject,
  identities: readonly string[],
): { stages: NodeJS.ReadWriteStream[]; tap: ReturnType<typeof checksumTap> } {
  checkIdentities(manifest, identities);
  const tap = checksumTap(obj);
  const stages: NodeJS.ReadWriteStream[] = [tap];
  if (manifest.encryption) stages.push(decryptStream(identities));
  stages.push(decompressStream(objectCompression(obj)));
  return { stages, tap };
}

/**
 * Streams one stored object, as plain dump bytes, into `sink`. Rejects with
 * ChecksumError on a sha256 mismatch (after `sink` received what came
 * through: callers that must not act on damaged data check first, see
 * `checkObject`), with a clear OperationError on a decryption or gzip error.
 */
export async function streamPlain(
  storage: Storage,
  manifest: Manifest,
  obj: StoredObject,
  identities: readonly string[],
  sink: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<{ storedBytes: number; plainBytes: number }> {
  const { stages, tap } = plainStages(manifest, obj, identities);
  let plainBytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      plainBytes += chunk.length;
      done(null, chunk);
    },
  });
  const source = await openObject(storage, obj, stages, signal);
  try {
    await pipeline([source, ...stages, count, sink] as unknown as [Readable, Writable], { signal });
  } catch (err) {
    throw explainReadError(err, obj.key);
  }
  return { storedBytes: tap.bytes(), plainBytes };
}

/**
 * The object's download. When it cannot be opened, the stages made for it
 * are destroyed (a decompressor may be a running program).
 */
export async function openObject(
  storage: Storage,
  obj: StoredObject,
  stages: readonly NodeJS.ReadWriteStream[],
  signal?: AbortSignal,
): Promise<Readable> {
  try {
    return await storage.get(obj.key, signal);
  } catch (err) {
    for (const s of stages) (s as unknown as Writable).destroy();
    throw err;
  }
}

/** Downloads the object and checks its sha256 and size, keeping nothing. */
export async function checkObject(
  storage: Storage,
  obj: StoredObject,
  signal?: AbortSignal,
): Promise<void> {
  const source = await storage.get(obj.key, signal);
  try {
    await pipeline(source, checksumTap(obj), devNull(), { signal });
  } catch (err) {
    throw explainReadError(err, obj.key);
  }
}

export function devNull(): Writable {
  return new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });
}

/** Turns the errors of the read stages into one line that names the object and the stage. */
export function explainReadError(err: unknown, key: string): Error {
  if (err instanceof OperationError || err instanceof UserError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const msg = describeError(err);
  if (e.name === 'AbortError') return new OperationError(`${key}: aborted`, { cause: err });
  if (err instanceof ProgramStreamError)
    return new OperationError(`${key}: not a valid zstd stream (${msg})`, { cause: err });
  if (typeof e.code === 'string' && e.code.startsWith('Z_'))
    return new OperationError(`${key}: not a valid gzip stream (${msg})`, { cause: err });
  if (/no identity matched|incorrect|decrypt|header|age/i.test(msg))
    return new OperationError(`${key}: age decryption failed: ${msg}`, { cause: err });
  return new OperationError(`${key}: ${msg}`, { cause: err });
}
