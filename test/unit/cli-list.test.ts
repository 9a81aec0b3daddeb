// `list` in-process against a local directory: the default table fits a
// terminal, `-o wide` has keys and checksums, and a mistyped --workload or
// a --from that does not exist says so (exit 2) instead of an empty list.
// A missing S3 bucket: the integration test cli-list.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editDistance, formatDuration } from '../../src/cli/list.js';
import { LocalStorage } from '../../src/storage/local.js';
import { fakeBackup, store, type FakeBackup } from './backups-fixture.js';
import { runCli as cli } from './cli-run.js';

let dir: string;
let storage: LocalStorage;
let pg1: FakeBackup;
let pg2: FakeBackup;
let billing: FakeBackup;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-list-'));
  storage = new LocalStorage(dir);
  pg1 = fakeBackup('shop/postgres', new Date('2026-11-19T03:00:00.120Z'), {
    databases: ['app', 'audit'],
  });
  pg2 = fakeBackup('shop/postgres', new Date('2026-11-20T03:00:00.450Z'), {
    encrypted: ['age1recipient'],
  });
  await store(storage, pg1);
  await store(storage, pg2);
  billing = fakeBackup('billing/mariadb', new Date('2026-11-18T03:00:00Z'));
  await store(storage, billing);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const cells = (line: string) => line.split(/\s{2,}/);

describe('list, the default table', () => {
  it('given backups, then one row per backup with the columns a person picks by, within 100 columns', async () => {
    const r = await cli(['list', '--from', dir]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(cells(lines[0]!)).toEqual([
      'TIME',
      'WORKLOAD',
      'DATABASES',
      'SIZE',
      'DURATION',
      'ENCRYPTED',
      'KEPT',
      'TESTED',
    ]);
    expect(lines).toHaveLength(4);
    expect(cells(lines[1]!)).toEqual([
      '2026-11-20T03:00:00.450Z',
      'shop/postgres',
      'app',
      `${pg2.objects[0]!.data.length} B`,
      '5s',
      'age',
    ]);
    expect(cells(lines[2]!).slice(0, 3)).toEqual([
      '2026-11-19T03:00:00.120Z',
      'shop/postgres',
      'app,audit',
    ]);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    // The key, with time and workload a second time, is no longer there.
    expect(r.out).not.toContain('.sql.gz');
  });

  it('given a kept backup, then KEPT says keep', async () => {
    expect(
      (
        await cli([
          'keep',
          '--from',
          dir,
          '--workload',
          'shop/postgres',
          '2026-11-19T03:00:00.120Z',
        ])
      ).code,
    ).toBe(0);
    const lines = (await cli(['list', '--from', dir])).out.trimEnd().split('\n');
    expect(lines[2]).toMatch(/\s{2,}no\s{2,}keep$/);
    expect(lines[1]).toMatch(/\s{2,}age$/);
  });
});

describe('list, the TESTED column', () => {
  const result = (backup: string, ok: boolean) => ({
    schemaVersion: 1,
    backup,
    startedAt: '2026-11-21T04:00:00.000Z',
    finishedAt: '2026-11-21T04:02:00.000Z',
    ok,
    target: 'scratch',
    server: 'PostgreSQL 15.18',
    databases: [],
    checks: [],
    mismatches: ok ? [] : ['orders: 120000 rows in the backup, 119412 restored'],
    notes: [],
    snapkeeperVersion: '0.1.0',
  });
  const beside = (manifestKey: string) =>
    manifestKey.replace(/manifest\.json$/, 'restore-test.json');

  it('given stored restore-test results, then TESTED says ok or FAILED with the day, ? when unreadable, and -o json carries them', async () => {
    await storage.put(beside(pg2.manifestKey), JSON.stringify(result(pg2.manifestKey, true)));
    await storage.put(beside(pg1.manifestKey), JSON.stringify(result(pg1.manifestKey, false)));
    await storage.put(beside(billing.manifestKey), '{"schemaVersion": 99}');
    const r = await cli(['list', '--from', dir]);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split('\n').slice(1).map(cells);
    expect(rows.map((c) => [c[1], c.at(-1)])).toEqual([
      ['shop/postgres', 'ok 2026-11-21'],
      ['shop/postgres', 'FAILED 2026-11-21'],
      ['billing/mariadb', '?'],
    ]);
    const json = JSON.parse((await cli(['list', '--from', dir, '-o', 'json'])).out) as {
      workload: string;
      restoreTest: { ok: boolean; finishedAt: string; mismatches: string[] } | null;
    }[];
    expect(json.map((b) => b.restoreTest?.ok ?? null)).toEqual([true, false, null]);
    expect(json[1]!.restoreTest!.mismatches).toEqual([
      'orders: 120000 rows in the backup, 119412 restored',
    ]);
  });

  it('given no restore test, then TESTED is empty and restoreTest is null', async () => {
    const r = await cli(['list', '--from', dir, '-o', 'json']);
    const json = JSON.parse(r.out) as { restoreTest: unknown }[];
    expect(json.map((b) => b.restoreTest)).toEqual([null, null, null]);
  });
});

describe('list -o wide', () => {
  it('given backups, then one row per object with engine, sha256 and key last', async () => {
    const r = await cli(['list', '--from', dir, '--workload', 'shop/postgres', '-o', 'wide']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(cells(lines[0]!)).toEqual([
      'TIME',
      'WORKLOAD',
      'ENGINE',
      'DATABASE',
      'SIZE',
      'DURATION',
      'ENCRYPTED',
      'KEPT',
      'TESTED',
      'SHA256',
      'KEY',
    ]);
    expect(lines).toHaveLength(4);
    const audit = cells(lines.find((l) => l.includes('audit.sql.gz'))!);
    expect(audit[3]).toBe('audit');
    expect(audit.at(-2)).toBe(pg1.manifest.objects[1]!.sha256.slice(0, 12));
    expect(audit.at(-1)).toBe(pg1.manifest.objects[1]!.key);
  });

  it('given a backup whose objects are gone, then a STATE column and a line on stderr', async () => {
    await storage.delete([pg2.objects[0]!.key]);
    const r = await cli(['list', '--from', dir]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(cells(lines[0]!).at(-1)).toBe('STATE');
    expect(lines[1]).toMatch(/\sincomplete \(1 of 1 objects missing\)$/);
    expect(r.err).toMatch(/^1 incomplete backup\(s\): a delete that did not finish/);
  });
});

describe('list, mistakes', () => {
  it('given a workload with a typo, then exit 2, the closest one and the ones there', async () => {
    const r = await cli(['list', '--from', dir, '--workload', 'shop/postgress']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `snapkeeper: no workload shop/postgress in ${storage.description}: did you mean shop/postgres? ` +
        '(workloads there: billing/mariadb, shop/postgres)\n',
    );
    const j = await cli(['list', '--from', dir, '--workload', 'biling/mariadb', '-o', 'json']);
    expect(j.code).toBe(2);
    expect(j.err).toMatch(/did you mean billing\/mariadb\?/);
  });

  it('given a --from directory that does not exist, then exit 2 naming it', async () => {
    const missing = join(dir, 'nope');
    const r = await cli(['list', '--from', missing]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`snapkeeper: --from ${missing}: no such directory\n`);
  });

  it('given an existing empty directory, then exit 0 and "no backups"', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'snapkeeper-empty-'));
    try {
      const r = await cli(['list', '--from', empty, '--workload', 'shop/postgres']);
      expect(r.code).toBe(0);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^no backups in .* for shop\/postgres\n$/);
      const j = await cli(['list', '--from', empty, '-o', 'json']);
      expect(j.code).toBe(0);
      expect(j.out).toBe('[]\n');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('given an unknown output, then exit 2 naming the three', async () => {
    const r = await cli(['list', '--from', dir, '-o', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('snapkeeper: --output "yaml": expected table, wide or json\n');
  });
});

describe('helpers', () => {
  it.each([
    ['', '', 0],
    ['shop/postgres', 'shop/postgress', 1],
    ['shop/postgres', 'shop/postrges', 2],
    ['abc', 'xyz', 3],
  ])('editDistance(%j, %j) = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it.each([
    [850, '850ms'],
    [42_000, '42s'],
    [185_000, '3m05s'],
    [3_720_000, '1h02m'],
  ])('formatDuration(%d ms) = %s', (ms, s) => {
    const start = '2026-11-20T03:00:00.000Z';
    const manifest = {
      startedAt: start,
      finishedAt: new Date(Date.parse(start) + ms).toISOString(),
    };
    expect(formatDuration({ manifest } as Parameters<typeof formatDuration>[0])).toBe(s);
  });
});
