/**
 * `snapkeeper decrypt -i key.txt <file> [-o out]`: what `age -d -i key.txt`
 * does, for when the age binary is not at hand. The output of a
 * `.sql.gz.age` file is the `.sql.gz` (gunzip it as usual), of a
 * `.sql.zst.age` file the `.sql.zst` (zstd -d or unzstd).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream } from '../crypto/age.js';
import { OperationError, OutputClosedError, UserError, describeError } from '../errors.js';
import type { CliContext } from './context.js';
import { forwardTo } from './output.js';
import { readIdentities } from './key-files.js';

export interface DecryptFlags {
  identity: string[];
  output?: string;
}

export async function decrypt(file: string, flags: DecryptFlags, ctx: CliContext): Promise<void> {
  if (flags.identity.length === 0) throw new UserError('decrypt needs an identity: -i key.txt');
  const identities = await readIdentities(flags.identity);
  const input: Readable = file === '-' ? process.stdin : createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    if (file === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UserError(`cannot read ${file}: ${err.code ?? describeError(err)}`)),
    );
  });
  // -o is written beside its name and renamed at the end: a failed or
  // interrupted run leaves neither a partial file nor, where the name was
  // taken, a truncated one.
  const tmp = flags.output
    ? join(
        dirname(flags.output),
        `.${basename(flags.output)}.${randomBytes(6).toString('hex')}.partial`,
      )
    : undefined;
  const out: Writable = tmp
    ? createWriteStream(tmp, { flags: 'wx', mode: 0o600 })
    : forwardTo(ctx.stdout);
  try {
    await pipeline(input, decryptStream(identities), out, { signal: ctx.signal });
    if (tmp) await rename(tmp, flags.output!);
  } catch (err) {
    if (tmp) await rm(tmp, { force: true });
    if (err instanceof OutputClosedError) throw err;
    throw new OperationError(`decrypt ${file}: ${describeError(err)}`, { cause: err });
  }
}
