// Parallel gzip (src/pipeline/gzip.ts): whatever the input's size and however
// it is cut into writes, the output is one gzip file that the real gunzip,
// gzip -t and node's createGunzip all turn back into the input.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createParallelGzip, GZIP_BLOCK_BYTES } from '../../src/pipeline/gzip.js';

/** Compressible text, like a dump: lines of words and numbers. */
function text(bytes: number, seed = 1): Buffer {
  const words = ['INSERT', 'orders', 'paid', 'shipped', 'gift', 'wrap', 'noon', 'door'];
  const out = Buffer.alloc(bytes);
  let off = 0;
  for (let i = seed; off < bytes; i++) {
    off += out.write(`${words[i % 8]}\t${(i * 7919) % 100003}\t${words[(i * 5) % 8]}\n`, off);
  }
  return out;
}

/** Feeds `input` in writes of `write` bytes (the last one shorter). */
async function gz(
  input: Buffer,
  o: { threads: number; blockBytes?: number; write?: number; level?: number },
): Promise<Buffer> {
  const step = o.write ?? 65536;
  const writes: Buffer[] = [];
  for (let i = 0; i < input.length; i += step) writes.push(input.subarray(i, i + step));
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from(writes),
    createParallelGzip({ level: o.level ?? 6, threads: o.threads, blockBytes: o.blockBytes }),
    new Writable({
      write(c: Buffer, _e, done) {
        chunks.push(c);
        done();
      },
    }),
  );
  return Buffer.concat(chunks);
}

async function nodeGunzip(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from([data]),
    createGunzip(),
    new Writable({
      write(c: Buffer, _e, done) {
        chunks.push(c);
        done();
      },
    }),
  );
  return Buffer.concat(chunks);
}

const gunzip = (data: Buffer) =>
  execFileSync('gunzip', ['-c'], { input: data, maxBuffer: 1 << 28 });

describe('parallel gzip', () => {
  const block = 4096;
  it.each([
    0,
    1,
    block - 1,
    block,
    block + 1,
    2 * block,
    3 * block - 1,
    7 * block + 123,
    100 * block,
  ])(
    'given %i bytes in 4 KiB blocks on 3 threads, when compressed, then gunzip, gzip -t and createGunzip give the input back',
    async (size) => {
      const input = text(size);
      for (const write of [1000, block, 3 * block + 7]) {
        const out = await gz(input, { threads: 3, blockBytes: block, write });
        expect(out.subarray(0, 2).toString('hex')).toBe('1f8b');
        expect(gunzip(out).equals(input)).toBe(true);
        execFileSync('gzip', ['-t'], { input: out });
        expect((await nodeGunzip(out)).equals(input)).toBe(true);
      }
    },
  );

  it('given random (incompressible) bytes across many blocks, when compressed, then gunzip gives them back', async () => {
    const input = randomBytes(50 * block + 17);
    const out = await gz(input, { threads: 2, blockBytes: block, write: 5000 });
    expect(gunzip(out).equals(input)).toBe(true);
  });

  it('given one write much larger than a block, when compressed, then it is cut into members in order', async () => {
    const input = text(3 * GZIP_BLOCK_BYTES + 5, 7);
    const out = await gz(input, { threads: 2, write: input.length });
    expect(gunzip(out).equals(input)).toBe(true);
    // One gzip member per block: the header bytes 1f 8b 08 start four members.
    expect(countMembers(out)).toBe(4);
  });

  it('given 40 blocks on 2 threads, when compressed, then at most 3 block buffers are ever allocated', async () => {
    // Reused buffers: a dump's worth of fresh 1 MiB buffers would each count
    // towards V8's next full collection (bench: 78 -> 33 of them per backup to S3).
    const blockBytes = 64 * 1024;
    const input = text(40 * blockBytes + 123);
    let allocated = 0;
    const writes: Buffer[] = [];
    for (let i = 0; i < input.length; i += 10_000) writes.push(input.subarray(i, i + 10_000));
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from(writes),
      createParallelGzip({
        level: 6,
        threads: 2,
        blockBytes,
        allocate: (n) => {
          allocated++;
          return Buffer.allocUnsafe(n);
        },
      }),
      new Writable({
        write(c: Buffer, _e, done) {
          chunks.push(c);
          done();
        },
      }),
    );
    const out = Buffer.concat(chunks);
    expect(execFileSync('gunzip', ['-c'], { input: out, maxBuffer: 1 << 26 }).equals(input)).toBe(
      true,
    );
    expect(allocated).toBeGreaterThan(0);
    expect(allocated).toBeLessThanOrEqual(3);
  });

  it('given one thread, when compressed, then the output is plain gzip, byte for byte', async () => {
    const input = text(300_000);
    const out = await gz(input, { threads: 1, write: 10_000 });
    expect(out.equals(gzipSync(input, { level: 6 }))).toBe(true);
  });

  it('given dump-like text of 8 MiB, when compressed on 2 threads, then it is within 2 % of gzip -6', async () => {
    const input = text(8 * GZIP_BLOCK_BYTES, 3);
    const ours = await gz(input, { threads: 2 });
    const reference = execFileSync('gzip', ['-6', '-c'], { input, maxBuffer: 1 << 28 });
    expect(ours.length / reference.length).toBeLessThan(1.02);
    expect(gunzip(ours).equals(input)).toBe(true);
  });

  it('given levels 1 and 9, when compressed, then the level reaches every block', async () => {
    const input = text(4 * GZIP_BLOCK_BYTES, 5);
    const fast = await gz(input, { threads: 2, level: 1 });
    const small = await gz(input, { threads: 2, level: 9 });
    expect(small.length).toBeLessThan(fast.length);
    expect(gunzip(fast).equals(input)).toBe(true);
    expect(gunzip(small).equals(input)).toBe(true);
  });

  it('given a stream destroyed while blocks are in flight, then it closes without output or error events after', async () => {
    const z = createParallelGzip({ level: 6, threads: 2, blockBytes: block });
    const errors: unknown[] = [];
    z.on('error', (e) => errors.push(e));
    z.write(text(10 * block));
    z.destroy();
    await new Promise((r) => z.once('close', r));
    expect(errors).toEqual([]);
  });
});

/** Members of a multi-member gzip file: each is a 10-byte header, a raw deflate stream, an 8-byte trailer. */
function countMembers(data: Buffer): number {
  let n = 0;
  let rest = data;
  while (rest.length > 0) {
    expect(rest.subarray(0, 4).toString('hex')).toBe('1f8b0800'); // no optional header fields
    const body = rest.subarray(10);
    const { engine } = inflateRawSync(body, { info: true }) as unknown as {
      engine: { bytesWritten: number };
    };
    rest = body.subarray(engine.bytesWritten + 8);
    n++;
  }
  return n;
}
