import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through that counts bytes and, optionally, hashes them (sha256). */
export class Counter extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;
  private digest: string | undefined;

  constructor(options: { sha256?: boolean } = {}) {
    super();
    this.hash = options.sha256 ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash?.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.digest = this.hash?.digest('hex');
    done();
  }

  /** The sha256 (hex) of everything that passed; only after the stream ended. */
  sha256(): string {
    if (this.digest === undefined) throw new Error('sha256 read before the stream ended');
    return this.digest;
  }
}
