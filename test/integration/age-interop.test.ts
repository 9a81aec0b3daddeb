// The age payload is sealed and opened by node's native ChaCha20-Poly1305
// (src/crypto/age.ts). These tests hold it to the real `age` binary in both
// directions, at every size where STREAM's chunking has an edge (empty, one
// byte, one byte short of a chunk, exactly one and two chunks, one byte
// over), fed in pieces that cut the header, the nonce and the chunks
// anywhere; and they check that damage anywhere is refused, with no
// plaintext of a failed chunk released.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { decryptStream, encryptStream } from '../../src/crypto/age.js';
import { exec } from '../env/exec.js';
import { ageKeypair, scratchDir } from '../env/helpers.js';
import { binaries } from '../env/paths.js';

const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 7, 1_000_003];

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function* pieces(b: Buffer, size: number) {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function encrypt(plain: Buffer, recipient: string, piece = 9_973): Promise<Buffer> {
  return collect(Readable.from(pieces(plain, piece)).pipe(encryptStream([recipient])));
}

async function decrypt(sealed: Buffer, identity: string, piece = 7_001): Promise<Buffer> {
  const out = new PassThrough();
  const [, plain] = await Promise.all([
    pipeline(Readable.from(pieces(sealed, piece)), decryptStream([identity]), out),
    collect(out),
  ]);
  return plain;
}

async function keys() {
  const { identityFile, recipient } = await ageKeypair();
  const identity = (await readFile(identityFile, 'utf8'))
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  return { identityFile, recipient, identity };
}

describe('age payload: snapkeeper and the age binary open each other', () => {
  it.each(SIZES)(
    'given %i bytes encrypted by snapkeeper, then age -d gives them back, byte for byte',
    async (size) => {
      const { identityFile, recipient } = await keys();
      const plain = randomBytes(size);
      const sealed = await encrypt(plain, recipient);
      // STREAM's size: header, 16-byte nonce, one 16-byte tag per chunk (at least one).
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      const headerEnd = sealed.indexOf('\n--- ') + 1 + 4 + 43 + 1;
      expect(sealed.length).toBe(headerEnd + 16 + size + 16 * chunks);
      const back = await exec(binaries.age(), ['-d', '-i', identityFile], { input: sealed });
      expect(back.stderr).toBe('');
      expect(back.code).toBe(0);
      expect(back.stdout.equals(plain)).toBe(true);
    },
  );

  it.each(SIZES)(
    'given %i bytes encrypted by age -r, then snapkeeper decrypts them, whatever the pieces',
    async (size) => {
      const { recipient, identity } = await keys();
      const dir = await scratchDir('age-interop');
      const plainFile = join(dir, 'plain');
      const plain = randomBytes(size);
      await writeFile(plainFile, plain);
      const sealed = await exec(binaries.age(), ['-r', recipient, plainFile]);
      expect(sealed.code).toBe(0);
      for (const piece of [1, 17, CHUNK + 16, 1 << 20]) {
        if (piece === 1 && size > CHUNK + 1) continue; // byte by byte: only the small files
        expect((await decrypt(sealed.stdout, identity, piece)).equals(plain)).toBe(true);
      }
    },
  );

  it('given two recipients, then age -d opens the file with either key', async () => {
    const a = await keys();
    const b = await keys();
    const plain = randomBytes(150_000);
    const sealed = await collect(
      Readable.from([plain]).pipe(encryptStream([a.recipient, b.recipient])),
    );
    for (const k of [a, b]) {
      const back = await exec(binaries.age(), ['-d', '-i', k.identityFile], { input: sealed });
      expect(back.code).toBe(0);
      expect(back.stdout.equals(plain)).toBe(true);
    }
  });

  it('given the same plaintext twice, then the two files differ (a fresh file key and nonce each time)', async () => {
    const { recipient } = await keys();
    const plain = randomBytes(1000);
    const [x, y] = [await encrypt(plain, recipient), await encrypt(plain, recipient)];
    expect(x.equals(y)).toBe(false);
    expect(x.subarray(x.length - 1016).equals(y.subarray(y.length - 1016))).toBe(false);
  });
});

describe('age payload: damage is refused', () => {
  async function sealedOf(size: number) {
    const k = await keys();
    const plain = randomBytes(size);
    return { ...k, plain, sealed: await encrypt(plain, k.recipient) };
  }

  /** Decrypts a damaged file: its error, and the plaintext released before it. */
  async function refused(sealed: Buffer, identity: string): Promise<{ error: Error; out: Buffer }> {
    const out = new PassThrough();
    const released: Buffer[] = [];
    out.on('data', (c: Buffer) => released.push(c));
    out.on('error', () => undefined);
    const error = await pipeline(Readable.from([sealed]), decryptStream([identity]), out).then(
      () => {
        throw new Error('decryption of a damaged file succeeded');
      },
      (e: Error) => e,
    );
    return { error, out: Buffer.concat(released) };
  }

  it('given one flipped byte in the second chunk, then the error names that chunk and only the first chunk was released', async () => {
    const { sealed, identity, identityFile, plain } = await sealedOf(3 * CHUNK);
    const at = sealed.length - 16 * 3 - 3 * CHUNK + (CHUNK + 16) + 100;
    const bad = Buffer.from(sealed);
    bad[at]! ^= 1;
    const { error, out } = await refused(bad, identity);
    expect(error.message).toMatch(/chunk 1 of the payload failed authentication/);
    expect(out.length).toBe(CHUNK);
    expect(out.equals(plain.subarray(0, CHUNK))).toBe(true);
    // The age binary agrees the file is damaged.
    expect((await exec(binaries.age(), ['-d', '-i', identityFile], { input: bad })).code).not.toBe(
      0,
    );
  });

  it.each([
    ['cut at a chunk boundary', (s: Buffer) => s.subarray(0, s.length - (CHUNK + 16))],
    ['cut inside the last chunk', (s: Buffer) => s.subarray(0, s.length - 5)],
    ['cut inside the second chunk', (s: Buffer) => s.subarray(0, s.length - 15 - CHUNK)],
    ['with a byte appended', (s: Buffer) => Buffer.concat([s, Buffer.from([0])])],
    [
      'with a whole chunk appended',
      (s: Buffer) => Buffer.concat([s, s.subarray(s.length - CHUNK - 16)]),
    ],
    ['cut after the nonce', (s: Buffer) => s.subarray(0, s.indexOf('\n--- ') + 49 + 16)],
    ['cut inside the header', (s: Buffer) => s.subarray(0, s.indexOf('\n--- ') + 10)],
  ])('given a file %s, then decryption fails', async (_name, damage) => {
    const { sealed, identity } = await sealedOf(2 * CHUNK + 100);
    const { error } = await refused(damage(sealed), identity);
    expect(error.message).toMatch(/age|invalid|truncated|authentication/);
  });

  it('given the two full chunks swapped, then decryption fails', async () => {
    const { sealed, identity } = await sealedOf(3 * CHUNK);
    const start = sealed.length - 3 * (CHUNK + 16);
    const c0 = sealed.subarray(start, start + CHUNK + 16);
    const c1 = sealed.subarray(start + CHUNK + 16, start + 2 * (CHUNK + 16));
    const swapped = Buffer.concat([
      sealed.subarray(0, start),
      c1,
      c0,
      sealed.subarray(start + 2 * (CHUNK + 16)),
    ]);
    expect((await refused(swapped, identity)).error.message).toMatch(
      /chunk 0 .*failed authentication/,
    );
  });

  it('given a changed header MAC, then the header is refused before any payload', async () => {
    const { sealed, identity } = await sealedOf(1000);
    const bad = Buffer.from(sealed);
    const mac = bad.indexOf('\n--- ') + 5;
    bad[mac] = bad[mac] === 0x41 ? 0x42 : 0x41;
    const { error, out } = await refused(bad, identity);
    expect(error.message).toMatch(/header HMAC|invalid/);
    expect(out.length).toBe(0);
  });

  it('given a file that is not age, then the error says so', async () => {
    const { identity } = await keys();
    const { error } = await refused(Buffer.from('\x1f\x8b gzip, not age\n'.repeat(10)), identity);
    expect(error.message).toBe(
      'age: not an age file (it does not start with "age-encryption.org/v1")',
    );
  });

  it('given an armored file from age -a, then the error says it is armored', async () => {
    const { recipient, identity } = await keys();
    const armored = await exec(binaries.age(), ['-a', '-r', recipient], { input: 'x' });
    expect(armored.code).toBe(0);
    const { error } = await refused(armored.stdout, identity);
    expect(error.message).toMatch(/^age: an armored \(PEM\) age file/);
  });

  it('given a file for someone else, then no identity matches', async () => {
    const { sealed } = await sealedOf(1000);
    const other = await keys();
    expect((await refused(sealed, other.identity)).error.message).toMatch(/no identity matched/);
  });
});
