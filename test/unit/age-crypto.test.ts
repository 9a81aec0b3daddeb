import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import {
  isAgeRecipient,
  parseIdentityFile,
  parseRecipients,
  parseRecipientsFile,
  showNotRecipient,
} from '../../src/crypto/age-keys.js';
import { decryptStream, encryptStream } from '../../src/crypto/age.js';
import { UserError } from '../../src/errors.js';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

async function roundTrip(plain: Buffer, recipients: string[], identities: string[]) {
  const enc = await collect(Readable.from([plain]).pipe(encryptStream(recipients)));
  const out = new PassThrough();
  const [, dec] = await Promise.all([
    pipeline(Readable.from(chunked(enc, 7_001)), decryptStream(identities), out),
    collect(out),
  ]);
  return { enc, dec };
}

function* chunked(b: Buffer, size: number) {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

describe('age recipients', () => {
  it('given a generated key, when checked, then its recipient is accepted', async () => {
    const id = await generateIdentity();
    const r = await identityToRecipient(id);
    expect(isAgeRecipient(r)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a secret key', 'AGE-SECRET-KEY-1QQQQ'],
    ['an ssh key', 'ssh-ed25519 AAAAC3Nza'],
    [
      'a typo in the checksum',
      'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'.slice(0, -1) + 'q',
    ],
    ['truncated', 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9a'],
  ])('given %s, when checked, then it is rejected', (_name, value) => {
    expect(isAgeRecipient(value)).toBe(false);
  });

  it('given a comma list with a bad entry, when parsed, then the UserError names it', async () => {
    const good = await identityToRecipient(await generateIdentity());
    expect(() => parseRecipients(`${good}, age1nope`)).toThrow(UserError);
    expect(() => parseRecipients(`${good}, age1nope`)).toThrow(/age1nope/);
  });

  it('given repeated and spaced recipients, when parsed, then each appears once', async () => {
    const a = await identityToRecipient(await generateIdentity());
    const b = await identityToRecipient(await generateIdentity());
    expect(parseRecipients([`${a},${b}`, ` ${a} `])).toEqual([a, b]);
  });
});

describe('age identity file', () => {
  it('given age-keygen output with comments, when parsed, then the keys come back', async () => {
    const id = await generateIdentity();
    const text = `# created: 2026-01-01T00:00:00Z\n# public key: x\n${id}\n\n`;
    expect(parseIdentityFile(text)).toEqual([id]);
  });

  it('given a file with a garbage line, when parsed, then the line number is named and no key echoed', () => {
    const err = (() => {
      try {
        parseIdentityFile('# c\nAGE-SECRET-KEY-1BROKENSECRET\n');
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/line 2/);
    expect(err.message).not.toMatch(/BROKENSECRET/);
  });

  it('given only comments, when parsed, then it is an error', () => {
    expect(() => parseIdentityFile('# nothing\n')).toThrow(/no age identity/);
  });
});

describe('age streams', () => {
  it.each([0, 1, 65_536, 65_537, 1_000_003])(
    'given %i random bytes, when encrypted to two recipients, then each identity decrypts them',
    async (size) => {
      const plain = randomBytes(size);
      const [a, b] = [await generateIdentity(), await generateIdentity()];
      const recipients = [await identityToRecipient(a), await identityToRecipient(b)];
      for (const id of [a, b]) {
        const { enc, dec } = await roundTrip(plain, recipients, [id]);
        expect(enc.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
        expect(dec.equals(plain)).toBe(true);
      }
    },
  );

  it('given a file for someone else, when decrypted, then the stream fails', async () => {
    const other = await identityToRecipient(await generateIdentity());
    await expect(roundTrip(randomBytes(100), [other], [await generateIdentity()])).rejects.toThrow(
      /no identity matched/,
    );
  });

  it('given a truncated file, when decrypted, then the stream fails', async () => {
    const id = await generateIdentity();
    const enc = await collect(
      Readable.from([randomBytes(200_000)]).pipe(encryptStream([await identityToRecipient(id)])),
    );
    const truncated = enc.subarray(0, enc.length - 1000);
    const sink = new PassThrough();
    sink.resume();
    await expect(pipeline(Readable.from([truncated]), decryptStream([id]), sink)).rejects.toThrow();
  });
});

describe('an age secret key where a recipient is expected', () => {
  it('given a secret key among recipients, then the UserError names the mistake and never shows the key', async () => {
    const secret = await generateIdentity();
    const good = await identityToRecipient(await generateIdentity());
    let msg = '';
    try {
      parseRecipients([good, secret]);
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      msg = (err as Error).message;
    }
    expect(msg).toMatch(
      /an age secret key \(AGE-SECRET-KEY-1…, not shown\) where a recipient is expected/,
    );
    expect(msg).toContain('age-keygen -y');
    expect(msg).not.toContain(secret.slice('AGE-SECRET-KEY-1'.length, 30));
    expect(showNotRecipient(secret)).not.toContain(secret.slice(16, 30));
    expect(showNotRecipient(secret.toLowerCase())).not.toContain(
      secret.slice(16, 30).toLowerCase(),
    );
  });
});

describe('age recipients file (-R)', () => {
  it('given recipients with comments and blank lines, when parsed, then the recipients in order', async () => {
    const a = await identityToRecipient(await generateIdentity());
    const b = await identityToRecipient(await generateIdentity());
    expect(parseRecipientsFile(`# ops team\n${a}\n\n  ${b}  \r\n# end\n`, 'team.txt')).toEqual([
      a,
      b,
    ]);
  });

  it.each([
    [
      'a bad line',
      (a: string) => `${a}\nage1nope\n`,
      /^team\.txt: line 2: invalid age recipient "age1nope"/,
    ],
    ['only comments', () => '# nothing\n\n', /^team\.txt: no age recipient found$/],
  ])('given %s, then a UserError naming the file', async (_n, text, msg) => {
    const a = await identityToRecipient(await generateIdentity());
    expect(() => parseRecipientsFile(text(a), 'team.txt')).toThrow(UserError);
    expect(() => parseRecipientsFile(text(a), 'team.txt')).toThrow(msg);
  });

  it('given a secret key in the file, then the line is named and the key never shown', async () => {
    const secret = await generateIdentity();
    let msg = '';
    try {
      parseRecipientsFile(`# keys\n${secret}\n`, 'team.txt');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/^team\.txt: line 2: an age secret key \(AGE-SECRET-KEY-1…, not shown\)/);
    expect(msg).not.toContain(secret.slice(16, 30));
  });
});
