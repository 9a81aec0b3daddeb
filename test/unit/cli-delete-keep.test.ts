// `delete`, `keep` and `unkeep`, in-process against a local directory, and
// what a keep marker and a half-done delete mean to list, restore and
// retention. The same through the bundled CLI and S3: the integration test
// cli-delete-keep.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { del } from '../../src/cli/delete.js';
import { isKept, keepKeyFor } from '../../src/backups/keep.js';
import { listBackups } from '../../src/backups/list.js';
import { createLogger } from '../../src/log.js';
import { applyRetention } from '../../src/retention/apply.js';
import { LocalStorage } from '../../src/storage/local.js';
import { fakeBackup, store, type FakeBackup } from './backups-fixture.js';
import { runCli as cli } from './cli-run.js';

let dir: string;
let storage: LocalStorage;
let b1: FakeBackup;
let b2: FakeBackup;
let b3: FakeBackup;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-delete-'));
  storage = new LocalStorage(dir);
  b1 = fakeBackup('shop/pg', new Date('2026-11-18T03:00:00.100Z'));
  b2 = fakeBackup('shop/pg', new Date('2026-11-19T03:00:00.200Z'), {
    databases: ['app', 'audit'],
  });
  b3 = fakeBackup('shop/pg', new Date('2026-11-20T03:00:00.300Z'));
  for (const b of [b1, b2, b3]) await store(storage, b);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const files = async (sub: string) => readdir(join(dir, sub)).catch(() => [] as string[]);
const dirOf = (b: FakeBackup) => b.manifestKey.slice(0, b.manifestKey.lastIndexOf('/'));
const listed = async () =>
  JSON.parse((await cli(['list', '--from', dir, '-o', 'json'])).out) as {
    manifestKey: string;
    kept: boolean;
    incomplete: boolean;
  }[];

describe('delete', () => {
  it('given no terminal and no --yes, then one line, exit 2, nothing deleted', async () => {
    const r = await cli(['delete', '--from', dir, '2026-11-19T03:00:00.200Z']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^snapkeeper: not a terminal, so nobody can confirm: pass --yes .*\n$/);
    expect(await files(dirOf(b2))).toHaveLength(3);
  });

  it.each([
    ['the TIME list prints', '2026-11-19T03:00:00.200Z'],
    ['the key', 'shop/pg/20261119T030000Z/manifest.json'],
    ['the last key segment', '20261119T030000Z'],
    ['an object key', 'shop/pg/20261119T030000Z/audit.sql.gz'],
  ])('given %s and --yes, then that backup is gone and only it', async (_, name) => {
    const r = await cli(['delete', '--from', dir, name, '--yes']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^deleted .*20261119T030000Z\/manifest\.json \(3 file\(s\), /);
    expect(await files('shop/pg')).toEqual(['20261118T030000Z', '20261120T030000Z']);
    expect((await listed()).map((b) => b.manifestKey)).toEqual([b3.manifestKey, b1.manifestKey]);
  });

  it('given the full location of the manifest, then no --from is needed', async () => {
    const r = await cli(['delete', join(dir, b1.manifestKey), '-y']);
    expect(r.code).toBe(0);
    expect(await files('shop/pg')).toEqual(['20261119T030000Z', '20261120T030000Z']);
  });

  it.each(['2026-11-01', '2026-11-21', '2026-11-19T03:01Z', '2026-11-19T03:00:00.201Z'])(
    'given the time %s, at which no backup started, then exit 2 and nothing deleted (not the one before)',
    async (at) => {
      const r = await cli(['delete', '--from', dir, at, '--yes']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /^snapkeeper: no backup at 2026-11-.* \(give a TIME or key as list prints it\)\n$/,
      );
      expect(await files('shop/pg')).toHaveLength(3);
    },
  );

  it.each(['2026-11-19', '2026-11-19T03:00Z', '2026-11-19T03:00:00Z', '20261119T030000.200Z'])(
    'given the time %s, which covers one backup, then that one',
    async (at) => {
      const r = await cli(['delete', '--from', dir, at, '--yes']);
      expect(r.code).toBe(0);
      expect(await files('shop/pg')).toEqual(['20261118T030000Z', '20261120T030000Z']);
    },
  );

  it('given a kept backup, then refused (exit 2) until unkeep', async () => {
    expect((await cli(['keep', '--from', dir, '20261119T030000Z'])).code).toBe(0);
    const r = await cli(['delete', '--from', dir, '20261119T030000Z', '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is kept \(snapkeeper keep\): unkeep it first/);
    expect(await files(dirOf(b2))).toHaveLength(4);
    expect((await cli(['unkeep', '--from', dir, '20261119T030000Z'])).code).toBe(0);
    expect((await cli(['delete', '--from', dir, '20261119T030000Z', '--yes'])).code).toBe(0);
    expect(await files(dirOf(b2))).toEqual([]);
  });

  it('given a terminal that answers, then y deletes and anything else does not', async () => {
    const ctx = {
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      stderr: new Writable({ write: (_c, _e, cb) => cb() }),
      env: {},
      log: createLogger({ level: 'error', write: () => {} }),
      signal: new AbortController().signal,
    };
    const asked: string[] = [];
    await del('20261120T030000Z', { from: dir }, ctx, (q) => {
      asked.push(q);
      return Promise.resolve(false);
    });
    expect(await files(dirOf(b3))).toHaveLength(2);
    expect(asked[0]).toMatch(
      /^delete the backup of shop\/pg from 2026-11-20T03:00:00\.300Z \(app, .*\) at .*manifest\.json\? \[y\/N\] $/,
    );
    await del('20261120T030000Z', { from: dir }, ctx, () => Promise.resolve(true));
    expect(await files(dirOf(b3))).toEqual([]);
  });
});

describe('a delete that stopped between its two steps', () => {
  // The objects are gone, the manifest is still there.
  beforeEach(() => storage.delete(b3.objects.map((o) => o.key)));

  it('then list shows it as incomplete and restore by time skips it', async () => {
    const l = await listed();
    expect(l.map((b) => [b.manifestKey, b.incomplete])).toEqual([
      [b3.manifestKey, true],
      [b2.manifestKey, false],
      [b1.manifestKey, false],
    ]);
    const r = await cli(['restore', '--from', dir, '--stdout', '--database', 'app']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(gunzipSync(b2.objects[0]!.data).toString());
  });

  it('then prune finishes it whatever the policy, and it does not count as the newest', async () => {
    const r = await cli([
      'prune',
      '--from',
      dir,
      '--workload',
      'shop/pg',
      '--retention',
      'keep-last=1',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as {
      kept: { manifestKey: string; reasons: string[] }[];
      removed: { manifestKey: string; incomplete?: boolean }[];
    };
    expect(out.kept).toEqual([{ manifestKey: b2.manifestKey, reasons: ['newest', 'last'] }]);
    expect(out.removed.map((x) => [x.manifestKey, x.incomplete ?? false]).sort()).toEqual(
      [
        [b1.manifestKey, false],
        [b3.manifestKey, true],
      ].sort(),
    );
    expect(await files('shop/pg')).toEqual(['20261119T030000Z']);
  });

  it('then the same delete again finishes it', async () => {
    const r = await cli(['delete', '--from', dir, '20261120T030000Z', '--yes']);
    expect(r.code).toBe(0);
    expect(await files(dirOf(b3))).toEqual([]);
  });
});

describe('keep', () => {
  it('given keep twice, then one marker, written once, and list shows it', async () => {
    const first = await cli(['keep', '--from', dir, '2026-11-18T03:00:00.100Z']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^kept: .*20261118T030000Z\/manifest\.json/);
    const before = await storage.get(keepKeyFor(b1.manifestKey));
    const text = (await before.toArray()).join('');
    const again = await cli(['keep', '--from', dir, '2026-11-18T03:00:00.100Z']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^already kept: /);
    expect((await (await storage.get(keepKeyFor(b1.manifestKey))).toArray()).join('')).toBe(text);
    expect(JSON.parse(text)).toMatchObject({ schemaVersion: 1, manifest: 'manifest.json' });
    expect((await listed()).map((b) => b.kept)).toEqual([false, false, true]);
  });

  it('given a kept backup, then retention keeps it with reason keep, and prune --dry-run says so', async () => {
    await cli(['keep', '--from', dir, '20261118T030000Z']);
    const r = await cli([
      'prune',
      '--from',
      dir,
      '--workload',
      'shop/pg',
      '--retention',
      'keep-last=1',
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+ACTION\s+KEPT BY\s+SIZE\s+MANIFEST$/);
    expect(rows.find((x) => x.includes(b1.manifestKey))).toMatch(/\skeep\s+keep\s/);
    expect(rows.find((x) => x.includes(b2.manifestKey))).toMatch(/\swould delete\s/);

    const result = await applyRetention(storage, 'shop/pg/', { keepLast: 1 }, { now: new Date() });
    expect(result.kept.map((k) => [k.backup.manifestKey, k.reasons])).toEqual([
      [b3.manifestKey, ['newest', 'last']],
      [b1.manifestKey, ['keep']],
    ]);
    expect(await files('shop/pg')).toEqual(['20261118T030000Z', '20261120T030000Z']);
  });

  it('given unkeep of a backup that is not kept, then it says so and changes nothing', async () => {
    const r = await cli(['unkeep', '--from', dir, '20261118T030000Z']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^was not kept: /);
    expect(await isKept(storage, b1.manifestKey)).toBe(false);
    const all = await listBackups(storage);
    expect(all.every((b) => b.kept === false)).toBe(true);
  });
});
