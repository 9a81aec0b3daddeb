// A wrong --identity is found from the manifest's recipients before any
// download: a download would fail otherwise in age's decryption (exit 1,
// another message), not with this one line, exit 2. (The objects must be
// there: a backup with missing objects is incomplete and never chosen.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { fakeBackup } from './backups-fixture.js';
import { runCli as cli } from './cli-run.js';

let dir: string;
let wrongFile: string;
let recipient: string;
let wrongRecipient: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-identity-'));
  recipient = await identityToRecipient(await generateIdentity());
  const wrong = await generateIdentity();
  wrongRecipient = await identityToRecipient(wrong);
  wrongFile = join(dir, 'wrong.txt');
  await writeFile(wrongFile, `# created: today\n# public key: ${wrongRecipient}\n${wrong}\n`);
  const b = fakeBackup('shop/pg', new Date('2026-11-20T03:00:00Z'), { encrypted: [recipient] });
  const storage = new LocalStorage(join(dir, 'store'));
  for (const o of b.objects) await storage.put(o.key, o.data);
  await storage.put(b.manifestKey, JSON.stringify(b.manifest));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const from = () => ['--from', join(dir, 'store')];

describe('a wrong identity', () => {
  it.each([
    ['restore --stdout', () => ['restore', ...from(), '--stdout', '-i', wrongFile]],
    [
      'restore --to',
      () => ['restore', ...from(), '--to', 'postgresql://u@127.0.0.1:1/x', '-i', wrongFile],
    ],
    ['verify', () => ['verify', ...from(), '-i', wrongFile]],
    [
      'restore-test --to',
      () => ['restore-test', ...from(), '--to', 'postgresql://u@127.0.0.1:1/x', '-i', wrongFile],
    ],
  ])(
    'given %s with a key the backup was not encrypted to, then exit 2 before any download',
    async (_n, argv) => {
      const r = await cli(argv());
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        `snapkeeper: no identity given opens backup shop/pg/20261120T030000Z/manifest.json: ` +
          `it is encrypted to ${recipient}; ${wrongFile} hold(s) the key(s) of ${wrongRecipient} ` +
          '(wrong --identity file?)\n',
      );
    },
  );

  it('given verify --all, then that backup is reported failed, without downloading it', async () => {
    const r = await cli(['verify', ...from(), '--all', '-i', wrongFile, '-o', 'json']);
    expect(r.code).toBe(1);
    const reports = JSON.parse(r.out) as { status: string; error: string }[];
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ status: 'failed' });
    expect(reports[0]!.error).toMatch(
      /^no identity given opens backup .* \(wrong --identity file\?\)$/,
    );
  });
});
