/**
 * age encryption and decryption as node streams. The header (recipient
 * stanzas, MAC) is the `age-encryption` library's, so every recipient and
 * identity kind it knows works; the payload, age's STREAM of 64 KiB chunks,
 * is sealed and opened with node's native ChaCha20-Poly1305, so memory is
 * bounded whatever the size and the cipher costs little next to compression.
 * The output is a standard binary age file: `age -d -i key.txt file.age`
 * opens it, and what `age -r …` writes, decryptStream reads.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { UserError } from '../errors.js';
import { parseRecipients } from './age-keys.js';

/**
 * A Transform: plaintext in, age file out. The header (recipient stanzas and
 * MAC) comes from the library; the payload is age's STREAM (64 KiB chunks,
 * ChaCha20-Poly1305, a big-endian chunk counter and a last-chunk flag in the
 * nonce) sealed by node's native cipher, off the JavaScript hot path.
 */
export function encryptStream(recipients: readonly string[]): Transform {
  if (recipients.length === 0) throw new UserError('age encryption needs at least one recipient');
  const header = ageHeader(parseRecipients(recipients));
  header.catch(() => undefined); // awaited by the first write or the flush
  return new EncryptPayload(header);
}

/**
 * A Transform: age file in, plaintext out. The header is read and its file
 * key unwrapped by the library (any identity kind it knows); the payload is
 * opened with node's native cipher, each chunk released only after its tag
 * checks. Fails (stream error) when no identity matches, or on any tampering
 * (header MAC, chunk tags, truncation, trailing data).
 */
export function decryptStream(identities: readonly string[]): Transform {
  if (identities.length === 0) throw new UserError('age decryption needs at least one identity');
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  return new DecryptPayload(d);
}

const CHUNK = 64 * 1024;
const TAG = 16;
const NONCE = 16;
const VERSION_LINE = 'age-encryption.org/v1\n';
const ARMOR_LINE = '-----BEGIN AGE ENCRYPTED FILE-----';
/** Far above any header of real recipients (a post-quantum stanza is about 1.6 KiB). */
const MAX_HEADER = 1024 * 1024;

/**
 * The file key and the age header wrapping it for `recipients`. The library
 * writes the header; an extra recipient of our own, which adds no stanza,
 * sees the file key. The library's output for an empty file is the header,
 * the 16-byte nonce and one empty final chunk (its 16-byte tag).
 */
async function ageHeader(recipients: readonly string[]): Promise<{ header: Buffer; key: Buffer }> {
  let fileKey: Uint8Array | undefined;
  const e = new Encrypter();
  e.addRecipient({
    wrapFileKey(k: Uint8Array) {
      fileKey = Uint8Array.from(k);
      return [];
    },
  });
  for (const r of recipients) e.addRecipient(r);
  const empty = Buffer.from(await e.encrypt(new Uint8Array(0)));
  const header = empty.subarray(0, empty.length - NONCE - TAG);
  if (fileKey === undefined || !/\n--- [A-Za-z0-9+/]{43}\n$/.test(header.toString('latin1')))
    throw new Error('age: unexpected header from the age library');
  const nonce = randomBytes(NONCE);
  return { header: Buffer.concat([header, nonce]), key: payloadKey(fileKey, nonce) };
}

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

/** The 12-byte ChaCha20-Poly1305 nonce of chunk `counter`: 11 bytes of counter, 1 of last flag. */
function chunkNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6); // 2^48 chunks of 64 KiB: more than any dump
  n[11] = last ? 1 : 0;
  return n;
}

class EncryptPayload extends Transform {
  private key: Buffer | undefined;
  /** The chunk being filled; a full one is sealed only once more data shows it is not the last. */
  private readonly block = Buffer.allocUnsafe(CHUNK);
  private fill = 0;
  private counter = 0;

  constructor(private readonly header: Promise<{ header: Buffer; key: Buffer }>) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.key === undefined) {
      this.start().then(() => this._transform(chunk, _enc, done), done);
      return;
    }
    try {
      for (let off = 0; off < chunk.length;) {
        if (this.fill === CHUNK) this.seal(this.block, false);
        const n = chunk.copy(this.block, this.fill, off);
        this.fill += n;
        off += n;
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      if (this.key === undefined) await this.start();
      this.seal(this.block.subarray(0, this.fill), true);
    })().then(() => done(), done);
  }

  private async start(): Promise<void> {
    const { header, key } = await this.header;
    this.key = key;
    this.push(header);
  }

  private seal(plain: Buffer, last: boolean): void {
    const c = createCipheriv('chacha20-poly1305', this.key!, chunkNonce(this.counter++, last), {
      authTagLength: TAG,
    });
    const body = c.update(plain);
    c.final();
    this.push(Buffer.concat([body, c.getAuthTag()]));
    this.fill = 0;
  }
}

class DecryptPayload extends Transform {
  /** Bytes before the payload key is known: the header, then the nonce. */
  private head: Buffer[] = [];
  private headBytes = 0;
  private headerEnd = -1;
  private key: Buffer | undefined;
  /** The ciphertext chunk being filled; a full one is opened once more data shows it is not the last. */
  private readonly block = Buffer.allocUnsafe(CHUNK + TAG);
  private fill = 0;
  private counter = 0;

  constructor(private readonly decrypter: Decrypter) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.key !== undefined) {
      try {
        this.payload(chunk);
        done();
      } catch (err) {
        done(err as Error);
      }
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    this.readHead(false)
      .then((rest) => {
        if (rest !== undefined) this.payload(rest);
      })
      .then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      if (this.key === undefined) {
        const rest = await this.readHead(true);
        if (rest === undefined) throw new Error('age: the file ends inside its header');
        this.payload(rest);
      }
      if (this.fill < TAG || (this.fill === TAG && this.counter > 0))
        throw new Error('age: the file is truncated (its last chunk is missing)');
      this.open(true);
    })().then(() => done(), done);
  }

  /**
   * Once the header and the nonce are in, unwraps the file key and returns
   * the payload bytes that came with them; undefined while more are needed.
   */
  private async readHead(ended: boolean): Promise<Buffer | undefined> {
    const buf = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [buf];
    const prefix = buf.subarray(0, VERSION_LINE.length).toString('latin1');
    if (!VERSION_LINE.startsWith(prefix))
      throw new Error(
        buf.subarray(0, ARMOR_LINE.length).toString('latin1') === ARMOR_LINE
          ? 'age: an armored (PEM) age file; snapkeeper reads binary age files: decrypt it with `age -d`'
          : `age: not an age file (it does not start with "age-encryption.org/v1")`,
      );
    if (ended && this.headerEnd < 0) throw new Error('age: the file ends inside its header');
    if (this.headerEnd < 0) {
      const mac = buf.indexOf('\n--- ');
      const eol = mac < 0 ? -1 : buf.indexOf('\n', mac + 1);
      if (eol < 0) {
        if (buf.length > MAX_HEADER) throw new Error('age: header too long: not an age file?');
        return undefined;
      }
      this.headerEnd = eol + 1;
    }
    if (buf.length < this.headerEnd + NONCE) {
      if (ended) throw new Error('age: the file is truncated (no payload)');
      return undefined;
    }
    const fileKey = await this.decrypter.decryptHeader(buf.subarray(0, this.headerEnd));
    this.key = payloadKey(fileKey, buf.subarray(this.headerEnd, this.headerEnd + NONCE));
    this.head = [];
    return buf.subarray(this.headerEnd + NONCE);
  }

  private payload(chunk: Buffer): void {
    for (let off = 0; off < chunk.length;) {
      if (this.fill === CHUNK + TAG) this.open(false);
      const n = chunk.copy(this.block, this.fill, off);
      this.fill += n;
      off += n;
    }
  }

  private open(last: boolean): void {
    const n = this.fill - TAG;
    const d = createDecipheriv('chacha20-poly1305', this.key!, chunkNonce(this.counter, last), {
      authTagLength: TAG,
    });
    d.setAuthTag(this.block.subarray(n, this.fill));
    const plain = d.update(this.block.subarray(0, n));
    try {
      d.final();
    } catch {
      throw new Error(
        `age: chunk ${this.counter} of the payload failed authentication: the file is damaged, truncated or was altered`,
      );
    }
    this.counter++;
    this.fill = 0;
    if (plain.length > 0) this.push(plain);
  }
}
