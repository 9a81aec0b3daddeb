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
 * At most `threads` blocks are in flight, so memory stays near
 * 2 × threads × 1 MiB whatever the dump's size; with one thread this is
 * plain createGzip (one member, byte for byte today's output).
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
}

/** How many blocks may really run at once: the pool keeps one thread for its other users. */
export function poolThreads(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

export function createParallelGzip(o: ParallelGzipOptions): Transform {
  const threads = Math.min(o.threads, Math.max(1, poolThreads() - 1));
  if (threads <= 1) return createGzip({ level: o.level });
  return new ParallelGzip(o.level, threads, o.blockBytes ?? GZIP_BLOCK_BYTES);
}

function gzipBlock(block: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    gzip(block, options, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Blocks being compressed, oldest first: written in this order. */
  private readonly inFlight: Promise<Buffer>[] = [];
  private members = 0;
  private readonly zlibOptions: ZlibOptions;

  constructor(
    level: number,
    private readonly threads: number,
    private readonly blockBytes: number,
  ) {
    super();
    // One pool job per block: an output buffer that holds any block's
    // member (deflate's worst case is a few bytes per 16 KiB over the input).
    this.zlibOptions = { level, chunkSize: blockBytes + (blockBytes >> 4) + 1024 };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.startFullBlocks().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      await this.startFullBlocks();
      // The rest, and for an empty input one empty member: a valid gzip file.
      if (this.pendingBytes > 0 || this.members === 0)
        this.startBlock(this.takeBytes(this.pendingBytes));
      while (this.inFlight.length > 0) this.push(await this.inFlight.shift()!);
    })().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    // Blocks still on the pool finish there; their results are dropped.
    for (const p of this.inFlight) p.catch(() => undefined);
    this.inFlight.length = 0;
    this.pending = [];
    done(err);
  }

  /** Starts every full block, waiting for the oldest when `threads` are busy. */
  private async startFullBlocks(): Promise<void> {
    while (this.pendingBytes >= this.blockBytes) {
      while (this.inFlight.length >= this.threads) this.push(await this.inFlight.shift()!);
      this.startBlock(this.takeBytes(this.blockBytes));
    }
  }

  private startBlock(block: Buffer): void {
    const p = gzipBlock(block, this.zlibOptions);
    p.catch(() => undefined); // awaited in order; an early rejection is not unhandled
    this.inFlight.push(p);
    this.members++;
  }

  /** The first `n` pending bytes as one buffer. */
  private takeBytes(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const block = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return block;
  }
}
