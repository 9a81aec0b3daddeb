import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  GUNZIP_CHUNK_BYTES,
  compressStream,
  decompressStream,
  formatCompression,
  parseCompression,
} from '../../src/pipeline/compression.js';
import { availableCores, cgroupQuota } from '../../src/pipeline/cores.js';

/** Text that compresses like a dump: repeated words with varying numbers. */
function dumpLike(bytes: number): Buffer {
  const words = ['INSERT', 'INTO', 'orders', 'VALUES', 'paid', 'shipped', 'gift', 'wrap'];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const line = `${words[i % 8]} ${i * 7919} ${words[(i * 3) % 8]} ${(i * 31) % 1000}.${i % 100}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

async function through(input: Buffer, ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _enc, done) {
      chunks.push(c);
      done();
    },
  });
  await pipeline([Readable.from(input.length > 0 ? [input] : []), ...stages, sink]);
  return Buffer.concat(chunks);
}

describe('parseCompression', () => {
  it.each([
    ['gzip', 'gzip:6'],
    ['gzip:1', 'gzip:1'],
    ['gzip:9', 'gzip:9'],
    ['zstd', 'zstd:3'],
    ['zstd:1', 'zstd:1'],
    [' Zstd:19 ', 'zstd:19'],
  ])('given %j, when parsed, then it is %s', (value, expected) => {
    const r = parseCompression(value);
    expect(r.ok && formatCompression(r.compression)).toBe(expected);
  });

  it.each([
    ['', 'not a compression'],
    ['xz', 'not a compression'],
    ['gzip:', 'not a compression'],
    ['gzip:0', 'gzip levels are 1 to 9'],
    ['gzip:10', 'gzip levels are 1 to 9'],
    ['zstd:20', 'zstd levels are 1 to 19'],
    ['zstd:-1', 'not a compression'],
    ['zstd:123', 'not a compression'],
  ])('given %j, when parsed, then it is refused: %s', (value, reason) => {
    expect(parseCompression(value)).toEqual({ ok: false, reason });
  });
});

describe('availableCores', () => {
  const files =
    (f: Record<string, string>) =>
    (p: string): string | undefined =>
      f[p];
  it.each([
    ['no cgroup file', {}, 8, 8],
    ['cgroup v2 without a limit', { '/sys/fs/cgroup/cpu.max': 'max 100000\n' }, 8, 8],
    ['cgroup v2, 1.5 cores', { '/sys/fs/cgroup/cpu.max': '150000 100000\n' }, 8, 2],
    ['cgroup v2, 100m', { '/sys/fs/cgroup/cpu.max': '10000 100000' }, 8, 1],
    ['cgroup v2, more than the machine', { '/sys/fs/cgroup/cpu.max': '1600000 100000' }, 4, 4],
    [
      'cgroup v1, 3 cores',
      {
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n',
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
      },
      8,
      3,
    ],
    [
      'cgroup v1 without a limit',
      {
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
      },
      8,
      8,
    ],
  ])('given %s, when counted, then the cores are as expected', (_n, f, machine, expected) => {
    expect(availableCores(files(f), machine)).toBe(expected);
  });

  it('given this machine, when counted, then at least one core', () => {
    expect(availableCores()).toBeGreaterThanOrEqual(1);
    expect(cgroupQuota(() => undefined)).toBeUndefined();
  });
});

// The zstd program is a test-environment package (test/env/provision.sh).
describe('zstd through the zstd program', () => {
  it.each([0, 1, 1000, 3 * 1024 * 1024 + 17])(
    'given %i bytes, when compressed, then the real zstd -d gives them back, and so does decompressStream',
    async (size) => {
      const input = dumpLike(size);
      const packed = await through(input, compressStream({ type: 'zstd', level: 3 }, 2));
      // A zstd frame: magic 28 b5 2f fd.
      expect(packed.subarray(0, 4).toString('hex')).toBe('28b52ffd');
      const unpacked = execFileSync('zstd', ['-d', '-q', '-c'], {
        input: packed,
        maxBuffer: 64 << 20,
      });
      expect(unpacked.equals(input)).toBe(true);
      expect((await through(packed, decompressStream('zstd'))).equals(input)).toBe(true);
    },
  );

  it.each([1, 3, 15])(
    'given level %i, when compressed, then the bytes are those of zstd -<level> itself',
    async (level) => {
      const input = dumpLike(256 * 1024);
      const ours = await through(input, compressStream({ type: 'zstd', level }, 1));
      const theirs = execFileSync('zstd', [`-${level}`, '-T1', '-q', '-c'], { input });
      expect(ours.equals(theirs)).toBe(true);
    },
  );

  it('given damaged zstd input, when decompressed, then the stream fails with zstd -d and its message', async () => {
    const packed = await through(dumpLike(100_000), compressStream({ type: 'zstd', level: 3 }));
    packed[packed.length >> 1]! ^= 0xff;
    await expect(through(packed, decompressStream('zstd'))).rejects.toThrow(/^zstd -d failed/);
    await expect(through(randomBytes(1000), decompressStream('zstd'))).rejects.toThrow(
      /zstd -d failed \(exit 1\)/,
    );
  });

  it('given a consumer that stops, when the stream is destroyed, then the program is gone', async () => {
    const z = compressStream({ type: 'zstd', level: 3 });
    z.write(dumpLike(1000));
    z.destroy();
    await new Promise((r) => z.once('close', r));
    expect(z.destroyed).toBe(true);
    // buffer() of a destroyed stream rejects rather than hanging.
    await expect(buffer(z)).rejects.toThrow();
  });

  it('given a large gzip, when decompressed, then it comes out in 64 KiB pieces (a quarter of the writes a restore makes)', async () => {
    const input = dumpLike(2 * 2 ** 20);
    const packed = gzipSync(input);
    const sizes: number[] = [];
    const sink = new Writable({
      write(c: Buffer, _enc, done) {
        sizes.push(c.length);
        done();
      },
    });
    await pipeline([Readable.from([packed]), decompressStream('gzip'), sink]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(input.length);
    expect(GUNZIP_CHUNK_BYTES).toBe(65536);
    expect(sizes.slice(0, -1).every((n) => n === GUNZIP_CHUNK_BYTES)).toBe(true);
  });
});
