/**
 * The stream: dump tool stdout → gzip or zstd → [age] → sha256 + byte counters →
 * storage.upload, one pipeline with backpressure and no temporary file.
 *
 * The upload must never complete for a dump that failed. A tool killed
 * mid-COPY closes its stdout cleanly and only its exit status says it
 * failed, so the last chunk is held back until the tool has exited: the
 * `gate` below finishes the stream only when `dump.done` resolves, and fails
 * it (which aborts the upload) when it rejects. An empty dump fails too.
 */
import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DumpHandle } from '../../dumpers/types.js';
import { encryptStream } from '../crypto/age.js';
import { OperationError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';
import {
  DEFAULT_COMPRESSION,
  compressStream,
  compressionContentType,
  type Compression,
} from './compression.js';
import { availableCores } from './cores.js';
import { Counter } from './counter.js';
import { logProgress, type Progress } from './progress.js';

export interface StoreDumpOptions {
  dump: DumpHandle;
  /** The tool's name, for messages ("pg_dump produced an empty dump"). */
  tool: string;
  storage: Storage;
  key: string;
  /** age recipients; empty means no encryption. */
  recipients: readonly string[];
  log: Logger;
  signal?: AbortSignal;
  /** Default gzip:6. */
  compression?: Compression;
  /** Cores the compressor may use; default: the cores this process is given. */
  threads?: number;
  progressIntervalMs?: number;
  /** Where progress goes (a terminal line, log lines); default: log lines every progressIntervalMs. */
  progress?: Progress;
  /** First words of the progress line (default: the tool's name). */
  progressLabel?: string;
  /** What the dump will weigh, if known (the database's size on the server: an estimate). */
  estimatedBytes?: number;
}

export interface StoredDump {
  key: string;
  /** Bytes out of the dump tool. */
  rawBytes: number;
  /** Bytes stored. */
  bytes: number;
  /** sha256 (hex) of the stored bytes. */
  sha256: string;
}

export class EmptyDumpError extends OperationError {
  constructor(tool: string) {
    super(`${tool} produced an empty dump (0 bytes): nothing was stored`);
  }
}

/** Passes data through; finishes only when the dump tool has succeeded. */
function gate(
  dump: DumpHandle,
  raw: Counter,
  tool: string,
  failed: (err: Error) => void,
): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      dump.done.then(
        () => {
          if (raw.bytes > 0) return done();
          const err = new EmptyDumpError(tool);
          failed(err);
          done(err);
        },
        (err: Error) => {
          failed(err);
          done(err);
        },
      );
    },
  });
}

export async function storeDump(o: StoreDumpOptions): Promise<StoredDump> {
  const compression = o.compression ?? DEFAULT_COMPRESSION;
  const raw = new Counter();
  const stored = new Counter({ sha256: true });
  // The gate's verdict is the cause of any failure that follows it.
  let gateError: Error | undefined;
  const stages: Duplex[] = [
    raw,
    gate(o.dump, raw, o.tool, (err) => (gateError = err)),
    compressStream(compression, o.threads ?? availableCores()),
  ];
  if (o.recipients.length > 0) stages.push(encryptStream(o.recipients));
  stages.push(stored);

  // Which failure is the cause: a dump that failed while the stream was
  // healthy, or a stream / upload failure that then broke the tool's pipe.
  let downstreamFailed = false;
  let dumpFailedFirst = false;
  for (const s of stages.slice(2)) s.once('error', () => (downstreamFailed = true));
  o.dump.done.catch(() => {
    if (!downstreamFailed) dumpFailedFirst = true;
  });

  const stopProgress = (o.progress ?? logProgress(o.log, o.progressIntervalMs)).start({
    label: o.progressLabel ?? o.tool,
    message: 'dump in progress',
    main: { name: 'read', bytes: () => raw.bytes },
    second: { name: 'stored', bytes: () => stored.bytes },
    total: o.estimatedBytes,
    approximate: true,
  });
  const uploading = o.storage.upload(o.key, stored, {
    signal: o.signal,
    // A backup's objects are new keys: never replace one (another run's).
    exclusive: true,
    contentType:
      o.recipients.length > 0
        ? 'application/octet-stream'
        : compressionContentType(compression.type),
  });
  const streaming = pipeline([o.dump.stdout, ...stages], { signal: o.signal });
  try {
    const [s, u] = await Promise.allSettled([streaming, uploading]);
    if (s.status === 'rejected' || u.status === 'rejected') {
      downstreamFailed ||= u.status === 'rejected';
      o.dump.kill();
      // The tool's verdict, when it has one to give, settles the question.
      const d = await o.dump.done.then(
        () => undefined,
        (err: unknown) => err,
      );
      if (gateError) throw gateError;
      if (dumpFailedFirst && d) throw d;
      if (u.status === 'rejected') throw u.reason;
      if (s.status === 'rejected') throw asOperationError(s.reason, o.signal);
    }
    return { key: o.key, rawBytes: raw.bytes, bytes: stored.bytes, sha256: stored.sha256() };
  } finally {
    stopProgress();
  }
}

function asOperationError(err: unknown, signal?: AbortSignal): Error {
  if (err instanceof OperationError) return err;
  if (signal?.aborted) return new OperationError('interrupted: the upload was aborted');
  return new OperationError(`dump stream failed: ${describeError(err)}`, { cause: err });
}
