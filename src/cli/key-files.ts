/**
 * age key files named on the command line: identity files (`-i`) and
 * recipients files (`-R`), read the same way; an unreadable file is a user
 * mistake naming the file and why.
 */
import { readFile } from 'node:fs/promises';
import { parseIdentityFile, parseRecipientsFile } from '../crypto/age-keys.js';
import { UserError, describeError } from '../errors.js';

async function readKeyFiles(
  files: readonly string[],
  what: string,
  parse: (text: string, file: string) => string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      throw new UserError(
        `cannot read ${what} file ${f}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`,
      );
    }
    out.push(...parse(text, f));
  }
  return out;
}

export const readIdentities = (files: readonly string[]) =>
  readKeyFiles(files, 'identity', parseIdentityFile);

export const readRecipientsFiles = (files: readonly string[]) =>
  readKeyFiles(files, 'recipients', parseRecipientsFile);
