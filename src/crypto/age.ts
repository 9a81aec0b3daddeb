/**
 * age encryption and decryption as node streams, on top of the
 * `age-encryption` library (web streams, 64 KiB STREAM chunks, so memory is
 * bounded whatever the size). The output is a standard binary age file:
 * `age -d -i key.txt file.age` opens it.
 */
import { Duplex } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { UserError } from '../errors.js';

/** True for a recipient the library accepts (`age1…`, `age1pq1…`, …), checksum included. */
export function isAgeRecipient(s: string): boolean {
  if (!s.startsWith('age1')) return false;
  try {
    new Encrypter().addRecipient(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Recipients from a comma/whitespace separated string or a list of them.
 * Throws UserError naming the first bad one. Duplicates are dropped.
 */
export function parseRecipients(list: string | readonly string[]): string[] {
  const items = (typeof list === 'string' ? [list] : list)
    .flatMap((s) => s.split(/[\s,]+/))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const r of items) {
    if (!isAgeRecipient(r)) {
      throw new UserError(
        `invalid age recipient ${JSON.stringify(shorten(r))}: expected a public key like age1… (from age-keygen -y)`,
      );
    }
  }
  return [...new Set(items)];
}

/**
 * Identities (AGE-SECRET-KEY-1…) from the text of an identity file, as
 * `age-keygen` writes it: `#` comments and blank lines ignored. Throws
 * UserError (without echoing the key) on a line that is not an identity.
 */
export function parseIdentityFile(text: string, source = 'identity file'): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!line.startsWith('AGE-SECRET-KEY-')) {
      throw new UserError(`${source}: line ${i + 1} is not an age identity (AGE-SECRET-KEY-1…)`);
    }
    try {
      new Decrypter().addIdentity(line);
    } catch {
      throw new UserError(`${source}: line ${i + 1} is not a valid age identity`);
    }
    out.push(line);
  });
  if (out.length === 0) throw new UserError(`${source}: no age identity found`);
  return out;
}

/** A Transform-like Duplex: plaintext in, age file out. */
export function encryptStream(recipients: readonly string[]): Duplex {
  if (recipients.length === 0) throw new UserError('age encryption needs at least one recipient');
  const e = new Encrypter();
  for (const r of parseRecipients(recipients)) e.addRecipient(r);
  const input = new TransformStream<Uint8Array, Uint8Array>();
  return bridge(input.writable, e.encrypt(input.readable));
}

/**
 * A Transform-like Duplex: age file in, plaintext out. Fails (stream error)
 * when no identity matches, or on any tampering (header MAC, chunk tags,
 * truncation).
 */
export function decryptStream(identities: readonly string[]): Duplex {
  if (identities.length === 0) throw new UserError('age decryption needs at least one identity');
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  const input = new TransformStream<Uint8Array, Uint8Array>();
  return bridge(input.writable, d.decrypt(input.readable));
}

/**
 * A node Duplex whose writable side feeds `writable` and whose readable side
 * reads the stream `output` resolves to (the library resolves it only after
 * reading the header, i.e. after data has been written).
 */
function bridge(
  writable: WritableStream<Uint8Array>,
  output: Promise<ReadableStream<Uint8Array>>,
): Duplex {
  // Not awaited until the first read; avoid an unhandled rejection meanwhile.
  output.catch(() => undefined);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (await output).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        // Cancelling after a failure (no header, wrong key) is not a second failure.
        const r = reader ?? (await output.catch(() => undefined));
        await r?.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 1 },
  );
  return Duplex.fromWeb({ readable, writable }, { objectMode: false });
}

function shorten(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '…' : s;
}
