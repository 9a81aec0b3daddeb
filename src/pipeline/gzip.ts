/**
 * gzip on every core. The input is cut into blocks (1 MiB); each block is
 * compressed on its own, on libuv's thread pool (zlib.gzip runs there, off
 * the main thread), as a complete gzip member; the members are written in
 * input order. Concatenated gzip members are one gzip file by the format's
 * definition (RFC 1952 §2.2): `gunzip`, `zcat`, `gzip -t`, `pigz -d`,
 * node's createGunzip and every zlib reader decompress it to the whole
 * input. The price of independent blocks is a fresh 32 KiB window at each
 * block's start plus 18 bytes of header and trailer: about 0.5 % on dumps
 * at 1 MiB blocks (pigz, which primes each block with the previous one's
 * last 32 KiB, loses less, but needs its own binary in every image).
 *
 * At most `threads` blocks are in flight, and block buffers are reused, so
 * memory stays near (threads + 1) × 1 MiB of input plus the members being
 * written, whatever the dump's size; with one thread this is plain
 * createGzip (one member, byte for byte today's output).
 *
 * libuv's pool has UV_THREADPOOL_SIZE threads (4 unless set; src/main.ts
 * sizes it to the cores): more blocks in flight than that would only queue,
 * and would queue the pool's other users (file writes, DNS) behind them.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createGzip, gzip, type ZlibOptions } from 'node:zlib';

export const GZIP_BLOCK_BYTES = 1024 * 1024;

export interface ParallelGzipOptions {
  level: number;
  /** Blocks compressed at once; 1: plain single-stream gzip. */
  threads: number;
  /** Tests use small blocks to cross many block boundaries. */
  blockBytes?: number;
  /** Where block buffers come from (tests count them); default Buffer.allocUnsafe. */
  allocate?: (bytes: number) => Buffer;
}

/** How many blocks may really run at once: the pool keeps one thread for its other users. */
export function poolThreads(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

export function createParallelGzip(o: ParallelGzipOptions): Transform {
  const threads = Math.min(o.threads, Math.max(1, poolThreads() - 1));
  if (threads <= 1) return createGzip({ level: o.level });
  return new ParallelGzip(
    o.level,
    threads,
    o.blockBytes ?? GZIP_BLOCK_BYTES,
    o.allocate ?? ((n) => Buffer.allocUnsafe(n)),
  );
}

function gzipBlock(block: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    gzip(block, options, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

class ParallelGzip extends Transform {
  /** The block being filled; its buffer comes from `free`. */
  private block: Buffer | undefined;
  private filled = 0;
  /**
   * Block buffers not in use: a block's buffer comes back when its member is
   * written. Reusing them (threads + 1 at most) rather than allocating each
   * block keeps the process from churning through a dump's size in fresh
   * buffers, each of which counts towards V8's next full collection.
   */
  private readonly free: Buffer[] = [];
  /** Blocks being compressed, oldest first: written in this order. */
  private readonly inFlight: { input: Buffer; member: Promise<Buffer> }[] = [];
  private members = 0;
  private readonly zlibOptions: ZlibOptions;

  constructor(
    level: number,
    private readonly threads: number,
    private readonly blockBytes: number,
    private readonly allocate: (bytes: number) => Buffer,
  ) {
    super();
    // zlib's output buffer for one block: a dump's block deflates to a fifth
    // or less, so a quarter of the block holds a member in one piece; an
    // incompressible block takes a few pieces, which zlib joins.
    this.zlibOptions = { level, chunkSize: Math.max(16 * 1024, blockBytes >> 2) };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.fill(chunk).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      // The rest, and for an empty input one empty member: a valid gzip file.
      if (this.filled > 0 || this.members === 0) {
        const block = this.block ?? Buffer.alloc(0);
        this.startBlock(block, this.filled);
        this.block = undefined;
        this.filled = 0;
      }
      while (this.inFlight.length > 0) await this.writeOldest();
    })().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    // Blocks still on the pool finish there; their results are dropped.
    for (const b of this.inFlight) b.member.catch(() => undefined);
    this.inFlight.length = 0;
    this.free.length = 0;
    this.block = undefined;
    done(err);
  }

  /** Copies `chunk` into blocks, starting each full one (waiting for the oldest when `threads` are busy). */
  private async fill(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      this.block ??= this.free.pop() ?? this.allocate(this.blockBytes);
      const n = chunk.copy(this.block, this.filled, off);
      this.filled += n;
      off += n;
      if (this.filled === this.blockBytes) {
        while (this.inFlight.length >= this.threads) await this.writeOldest();
        this.startBlock(this.block, this.filled);
        this.block = undefined;
        this.filled = 0;
      }
    }
  }

  private startBlock(input: Buffer, length: number): void {
    const member = gzipBlock(input.subarray(0, length), this.zlibOptions);
    member.catch(() => undefined); // awaited in order; an early rejection is not unhandled
    this.inFlight.push({ input, member });
    this.members++;
  }

  /** Waits for the oldest block's member, writes it, and frees its buffer for reuse. */
  private async writeOldest(): Promise<void> {
    const oldest = this.inFlight.shift()!;
    this.push(await oldest.member);
    if (oldest.input.length === this.blockBytes) this.free.push(oldest.input);
  }
}
