// `backup --recipient` / `-R file` mistakes, in-process: each is one line,
// exit 2, before anything is contacted (the URL's port has no server), and
// a secret key is never echoed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { createLogger } from '../../src/log.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-recipients-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function backup(...extra: string[]) {
  let err = '';
  const logs: string[] = [];
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(c, _e, cb) {
        f(String(c));
        cb();
      },
    });
  const code = await run(
    ['backup', 'postgresql://u@127.0.0.1:1/db', '--to', join(dir, 'out'), ...extra],
    {
      stdout: sink(() => undefined),
      stderr: sink((s) => (err += s)),
      env: {},
      log: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }),
      signal: new AbortController().signal,
    },
  );
  return { code, err, logs: logs.join('\n') };
}

describe('backup recipients', () => {
  it('given a secret key as --recipient, then exit 2 with one line that does not show it', async () => {
    const secret = await generateIdentity();
    const r = await backup('--recipient', secret);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^snapkeeper: an age secret key \(AGE-SECRET-KEY-1…, not shown\) where a recipient is expected: .*\n$/,
    );
    expect(r.err + r.logs).not.toContain(secret.slice(16, 30));
  });

  it('given -R with a secret key in the file, then exit 2 naming the file and line, not the key', async () => {
    const secret = await generateIdentity();
    const file = join(dir, 'wrong.txt');
    await writeFile(file, `# oops\n${secret}\n`);
    const r = await backup('-R', file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `snapkeeper: ${file}: line 2: an age secret key (AGE-SECRET-KEY-1…, not shown) where a recipient is expected: ` +
        'give its public key (age-keygen -y <key file> prints it), and keep the secret key away from the backup\n',
    );
  });

  it('given -R with a file that does not exist, then exit 2 naming it', async () => {
    const r = await backup('-R', join(dir, 'none.txt'));
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `snapkeeper: cannot read recipients file ${join(dir, 'none.txt')}: ENOENT\n`,
    );
  });

  it('given -R with good recipients, then the mistakes checks pass and the database is what fails', async () => {
    const file = join(dir, 'team.txt');
    await writeFile(file, `# team\n${await identityToRecipient(await generateIdentity())}\n`);
    const r = await backup(
      '-R',
      file,
      '--recipient',
      await identityToRecipient(await generateIdentity()),
    );
    // Past every check of the flags: the URL's server (port 1) is what fails, exit 1.
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/^snapkeeper: .*psql/);
  });
});
