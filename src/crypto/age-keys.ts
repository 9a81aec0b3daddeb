/**
 * age keys as text: recipients (`age1…`, from a flag, an annotation or a
 * recipients file) and identities (`AGE-SECRET-KEY-1…`, from an identity
 * file), checked with the `age-encryption` library, and whether identities
 * can open a file encrypted to given recipients. A secret key is never
 * echoed in a message. The streams that use them are ./age.ts.
 */
import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';
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
    if (!isAgeRecipient(r)) throw new UserError(notRecipientMessage(r));
  }
  return [...new Set(items)];
}

/** An age secret key (`AGE-SECRET-KEY-1…`, a plugin's `AGE-PLUGIN-…-1…`): never to be printed. */
export function isAgeSecret(s: string): boolean {
  return /^AGE-(SECRET-KEY|PLUGIN-[A-Z0-9]+)-/i.test(s.trim());
}

/** A value that is not a recipient, safe to print: a secret key is named, never shown. */
export function showNotRecipient(s: string): string {
  return isAgeSecret(s)
    ? 'an age secret key (AGE-SECRET-KEY-1…, not shown)'
    : JSON.stringify(shorten(s));
}

function notRecipientMessage(r: string, where = ''): string {
  if (isAgeSecret(r))
    return (
      `${where}an age secret key (AGE-SECRET-KEY-1…, not shown) where a recipient is expected: ` +
      'give its public key (age-keygen -y <key file> prints it), and keep the secret key away from the backup'
    );
  return `${where}invalid age recipient ${JSON.stringify(shorten(r))}: expected a public key like age1… (from age-keygen -y)`;
}

/**
 * Recipients from the text of a recipients file, as `age -R` reads it: one
 * per line, `#` comments and blank lines ignored. Throws UserError naming
 * the line (a secret key is never echoed).
 */
export function parseRecipientsFile(text: string, source = 'recipients file'): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!isAgeRecipient(line))
      throw new UserError(notRecipientMessage(line, `${source}: line ${i + 1}: `));
    out.push(line);
  });
  if (out.length === 0) throw new UserError(`${source}: no age recipient found`);
  return out;
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

/**
 * Whether one of `identities` can open a file encrypted to `recipients`,
 * told from the keys alone (an identity's recipient is derived from it):
 * `false` only when every identity's recipient is known and none is among
 * them; `true` when it matches or cannot be told (an identity of a kind
 * whose recipient cannot be derived).
 */
export async function identitiesMatch(
  recipients: readonly string[],
  identities: readonly string[],
): Promise<{ match: boolean; own: string[] }> {
  const own: string[] = [];
  for (const id of identities) {
    try {
      own.push(await identityToRecipient(id));
    } catch {
      return { match: true, own };
    }
  }
  return { match: own.some((r) => recipients.includes(r)), own };
}

function shorten(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '…' : s;
}
