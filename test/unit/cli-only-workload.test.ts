// `restore` / `verify` without --workload, in-process against a local
// directory (the same through the bundled CLI and S3: the integration test
// cli-only-workload).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { fakeBackup, store } from './backups-fixture.js';
import { runCli as cli } from './cli-run.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'snapkeeper-only-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

it('given backups of one workload, then restore and verify need no --workload', async () => {
  const older = fakeBackup('shop/pg', new Date('2026-11-19T03:00:00Z'));
  const newer = fakeBackup('shop/pg', new Date('2026-11-20T03:00:00Z'));
  await store(new LocalStorage(dir), older);
  await store(new LocalStorage(dir), newer);
  const r = await cli(['restore', '--from', dir, '--stdout']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toBe(gunzipSync(newer.objects[0]!.data).toString());
  const v = await cli(['verify', '--from', dir, '--at', '2026-11-19']);
  expect(v.code).toBe(0);
  expect(v.out).toContain(older.objects[0]!.key);
});

it('given backups of two workloads, then both are named, one line, exit 2', async () => {
  await store(new LocalStorage(dir), fakeBackup('shop/pg', new Date('2026-11-20T03:00:00Z')));
  await store(new LocalStorage(dir), fakeBackup('billing/my', new Date('2026-11-21T03:00:00Z')));
  for (const argv of [['restore', '--stdout'], ['verify']]) {
    const r = await cli([...argv, '--from', dir]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `snapkeeper: ${dir}/ holds backups of 2 workloads (billing/my, shop/pg): choose one with --workload\n`,
    );
  }
});
