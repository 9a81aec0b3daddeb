// A reader that stops early (`| head`) is an ordinary way to look at a dump:
// the CLI stops quietly, with the status of a process killed by SIGPIPE (as
// `cat` ends), no stack trace and no message. A real pipe into the real
// `head`, the CLI as its own process.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';
import { ageKeypair, awsEnv, run, scratchDir, uniqueName } from '../env/helpers.js';
import { binaries } from '../env/paths.js';
import { fakeBackup, store } from '../unit/backups-fixture.js';
import { buildCli, cliIntoHead } from './cli-process.js';

const s3 = inject('s3');
const s3Env = awsEnv(s3);

let cli: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ cli, remove } = await buildCli()));
afterAll(() => remove?.());

/** Several MiB of text: far more than a pipe holds, so the CLI is still writing when head leaves. */
const bigText = (seed: string) =>
  Array.from({ length: 120_000 }, (_, i) => `${seed} line ${i} ${'x'.repeat(40)}\n`).join('');

describe('a closed pipe ends the command quietly', () => {
  it('given restore --stdout from S3 into head -c, then exit 141, nothing on stderr, and head got the start of the dump', async () => {
    const root = uniqueName('pipe');
    const storage = openStorage(`s3://${s3.bucket}/${root}`, { env: s3Env });
    const plain = bigText('restore');
    await store(
      storage,
      fakeBackup('shop/pg', new Date('2026-11-20T03:00:00Z'), { plain: () => plain }),
    );
    const r = await cliIntoHead(
      cli,
      ['restore', '--from', `s3://${s3.bucket}/${root}`, '--workload', 'shop/pg', '--stdout'],
      1000,
      s3Env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
    expect(r.stdout.toString()).toBe(plain.slice(0, 1000));
  });

  it('given decrypt of a large file into head -c, then exit 141 and nothing on stderr', async () => {
    const dir = await scratchDir('pipe');
    const plain = Buffer.concat([Buffer.from(bigText('decrypt')), randomBytes(1024 * 1024)]);
    await writeFile(join(dir, 'plain'), plain);
    const { identityFile, recipient } = await ageKeypair();
    await run(binaries.age(), ['-r', recipient, '-o', join(dir, 'x.age'), join(dir, 'plain')]);
    const r = await cliIntoHead(cli, ['decrypt', '-i', identityFile, join(dir, 'x.age')], 100);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
    expect(r.stdout.equals(plain.subarray(0, 100))).toBe(true);
  });

  it('given the whole output read, then exit 0 (the pipe handling changes nothing else)', async () => {
    const dir = await scratchDir('pipe');
    const plain = Buffer.from('small\n');
    await writeFile(join(dir, 'plain'), plain);
    const { identityFile, recipient } = await ageKeypair();
    await run(binaries.age(), ['-r', recipient, '-o', join(dir, 'x.age'), join(dir, 'plain')]);
    const r = await cliIntoHead(cli, ['decrypt', '-i', identityFile, join(dir, 'x.age')], 1000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.equals(plain)).toBe(true);
  });
});
