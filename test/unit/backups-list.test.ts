import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { chooseBackup, onlyWorkload, parseAt, parseAtChoice } from '../../src/backups/choose.js';
import { listBackups, parseWorkload, toEntry } from '../../src/backups/list.js';
import { LocalStorage } from '../../src/storage/local.js';
import { fakeBackup, store } from './backups-fixture.js';

let dir: string;
let storage: LocalStorage;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-backups-'));
  storage = new LocalStorage(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const t = (s: string) => new Date(s);

describe('listBackups', () => {
  it('given complete, incomplete and invalid backups, then only the complete ones, newest first', async () => {
    const a = fakeBackup('shop/pg', t('2026-11-18T03:00:00Z'));
    const b = fakeBackup('shop/pg', t('2026-11-20T03:00:00Z'), { databases: ['app', 'audit'] });
    const c = fakeBackup('shop/pg', t('2026-11-19T03:00:00Z'));
    await store(storage, a);
    await store(storage, b);
    await store(storage, c);
    // incomplete: objects but no manifest
    const d = fakeBackup('shop/pg', t('2026-11-21T03:00:00Z'));
    await storage.put(d.objects[0]!.key, d.objects[0]!.data);
    // invalid manifests: not JSON, wrong schema, key escaping the root
    await storage.put('shop/pg/20261122T030000Z/manifest.json', '{not json');
    await storage.put(
      'shop/pg/20261123T030000Z/manifest.json',
      JSON.stringify({ ...a.manifest, schemaVersion: 99 }),
    );
    const evil = fakeBackup('shop/pg', t('2026-11-24T03:00:00Z'));
    evil.manifest.objects[0]!.key = '../../etc/passwd';
    await store(storage, { ...evil, objects: [] });
    // another workload
    await store(storage, fakeBackup('shop/mysql', t('2026-11-25T03:00:00Z')));

    const skipped: string[] = [];
    const list = await listBackups(storage, {
      workload: 'shop/pg',
      onSkip: (k, why) => skipped.push(`${k}: ${why}`),
    });
    expect(list.map((e) => e.manifestKey)).toEqual([b.manifestKey, c.manifestKey, a.manifestKey]);
    expect(list[0]!.bytes).toBe(b.manifest.objects[0]!.bytes + b.manifest.objects[1]!.bytes);
    expect(list[0]!.workload).toBe('shop/pg');
    expect(skipped).toHaveLength(3);
    expect(skipped.join('\n')).toMatch(/20261122T030000Z.*not JSON/);
    expect(skipped.join('\n')).toMatch(/20261123T030000Z.*schemaVersion/);
    expect(skipped.join('\n')).toMatch(/20261124T030000Z.*object key/);

    const all = await listBackups(storage);
    expect(all.map((e) => e.workload)).toEqual(['shop/mysql', 'shop/pg', 'shop/pg', 'shop/pg']);
  });

  it('given a manifest of another workload under this prefix, then it is skipped', async () => {
    const other = fakeBackup('shop/mysql', t('2026-11-20T03:00:00Z'));
    await storage.put('shop/pg/x/manifest.json', JSON.stringify(other.manifest));
    expect(await listBackups(storage, { workload: 'shop/pg' })).toEqual([]);
  });

  it.each(['shop', 'shop/', '/pg', 'sh op/pg', 'a/b/c'])(
    'given workload %j, then a UserError',
    (w) => {
      expect(() => parseWorkload(w)).toThrow(UserError);
    },
  );
});

describe('parseAt', () => {
  it.each([
    ['2026-11-20T03:00Z', '2026-11-20T03:00:00.000Z'],
    ['2026-11-20T03:00:00Z', '2026-11-20T03:00:00.000Z'],
    ['2026-11-20T03:00', '2026-11-20T03:00:00.000Z'],
    ['2026-11-20T04:00+01:00', '2026-11-20T03:00:00.000Z'],
    ['2026-11-20T04:00+0100', '2026-11-20T03:00:00.000Z'],
    ['2026-11-20', '2026-11-20T23:59:59.999Z'],
    ['20261120T030000Z', '2026-11-20T03:00:00.000Z'],
  ])('given %j, then %s', (s, iso) => {
    expect(parseAt(s).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2026-13-01', '2026-02-31', '2026-11-20T25:00Z', '', '1700000000'])(
    'given %j, then a UserError',
    (s) => {
      expect(() => parseAt(s)).toThrow(UserError);
    },
  );
});

describe('chooseBackup', () => {
  const list = [
    fakeBackup('shop/pg', t('2026-11-20T03:00:00Z')),
    fakeBackup('shop/pg', t('2026-11-19T03:00:00Z')),
    fakeBackup('shop/pg', t('2026-11-18T03:00:00Z')),
  ].map((b) => ({
    manifestKey: b.manifestKey,
    manifest: b.manifest,
    time: new Date(b.manifest.startedAt),
    workload: 'shop/pg',
    bytes: 1,
  }));

  it.each([
    [undefined, '2026-11-20T03:00:00.000Z'],
    ['2026-11-20T03:00Z', '2026-11-20T03:00:00.000Z'],
    ['2026-11-20T02:59Z', '2026-11-19T03:00:00.000Z'],
    ['2026-11-19', '2026-11-19T03:00:00.000Z'],
    ['2030-01-01', '2026-11-20T03:00:00.000Z'],
  ])('given --at %s, then the newest at or before it (%s)', (at, expected) => {
    expect(chooseBackup(list, { at: at ? parseAt(at) : undefined }).time.toISOString()).toBe(
      expected,
    );
  });

  it('given --at before every backup, then a UserError naming the oldest', () => {
    expect(() => chooseBackup(list, { at: parseAt('2026-11-17') })).toThrow(
      /oldest is from 2026-11-18T03:00/,
    );
  });

  it('given --key as manifest key, directory or object key, then that backup', () => {
    const want = list[1]!;
    const dir = want.manifestKey.replace(/\/manifest\.json$/, '');
    for (const key of [want.manifestKey, dir, dir + '/', want.manifest.objects[0]!.key]) {
      expect(chooseBackup(list, { key }).manifestKey).toBe(want.manifestKey);
    }
    expect(() => chooseBackup(list, { key: 'shop/pg/nope' })).toThrow(UserError);
  });

  it('given an empty list, then a UserError', () => {
    expect(() => chooseBackup([], {})).toThrow(/no backup found/);
  });
});

describe('parseAtChoice', () => {
  it.each([
    ['2026-11-20T03:00:00.123Z', '2026-11-20T03:00:00.123Z'],
    ['2026-11-20T03:00:00Z', '2026-11-20T03:00:00.999Z'],
    ['2026-11-20T03:00:00.5Z', '2026-11-20T03:00:00.599Z'],
    ['2026-11-20T03:00Z', '2026-11-20T03:00:59.999Z'],
    ['2026-11-20T04:00+01:00', '2026-11-20T03:00:59.999Z'],
    ['2026-11-20', '2026-11-20T23:59:59.999Z'],
    ['20261120T030000Z', '2026-11-20T03:00:00.999Z'],
    ['20261120T030000.123Z', '2026-11-20T03:00:00.123Z'],
  ])('given %j, then the newest at or before %s', (s, iso) => {
    expect(parseAtChoice(s).at?.toISOString()).toBe(iso);
  });

  it('given latest, now or a key segment, then the newest, this moment, or that backup', () => {
    const now = new Date('2026-11-21T00:00:00Z');
    expect(parseAtChoice('latest')).toEqual({});
    expect(parseAtChoice('now', () => now)).toEqual({ at: now });
    expect(parseAtChoice('20261120T030000.123Z-k3f9q2')).toEqual({
      key: '20261120T030000.123Z-k3f9q2',
    });
  });

  it.each(['yesterday', '20261120T030000.123Z-', '20261320T030000Z', 'latest!'])(
    'given %j, then a UserError',
    (s) => {
      expect(() => parseAtChoice(s)).toThrow(UserError);
    },
  );
});

describe('chooseBackup by a key segment', () => {
  const entry = (dir: string, at: string) => {
    const b = fakeBackup('shop/pg', t(at));
    const key = (k: string) => k.replace(/^shop\/pg\/[^/]+/, `shop/pg/${dir}`);
    const manifest = {
      ...b.manifest,
      objects: b.manifest.objects.map((o) => ({ ...o, key: key(o.key) })),
    };
    return {
      manifestKey: key(b.manifestKey),
      manifest,
      time: t(at),
      workload: 'shop/pg',
      bytes: 1,
    };
  };
  const list = [
    entry('20261120T030000.456Z-bbbbbb', '2026-11-20T03:00:00.456Z'),
    entry('20261120T030000.123Z-aaaaaa', '2026-11-20T03:00:00.123Z'),
    entry('20261119T030000Z', '2026-11-19T03:00:00.000Z'),
  ];

  it.each([
    ['20261120T030000.123Z-aaaaaa', 1],
    ['pg/20261120T030000.456Z-bbbbbb/', 0],
    ['20261119T030000Z', 2],
    ['20261119T030000Z/app.sql.gz', 2],
  ])('given %j, then that backup', (key, i) => {
    expect(chooseBackup(list, { key }).manifestKey).toBe(list[i]!.manifestKey);
  });

  it('given a segment several backups share, then a UserError asking for more of the key', () => {
    expect(() => chooseBackup(list, { key: 'app.sql.gz' })).toThrow(/matches 3 backups/);
  });
});

describe('onlyWorkload', () => {
  const entry = (workload: string, at: string) => {
    const b = fakeBackup(workload, t(at));
    return toEntry(b.manifestKey, b.manifest);
  };

  it('given backups of one workload, then that workload', () => {
    const list = [
      entry('shop/pg', '2026-11-20T03:00:00Z'),
      entry('shop/pg', '2026-11-19T03:00:00Z'),
    ];
    expect(onlyWorkload(list, 's3://b/p/')).toBe('shop/pg');
  });

  it('given backups of several workloads, then a UserError naming each once, sorted', () => {
    const list = [
      entry('shop/pg', '2026-11-20T03:00:00Z'),
      entry('billing/maria', '2026-11-20T03:00:00Z'),
      entry('shop/pg', '2026-11-19T03:00:00Z'),
    ];
    const err = (() => {
      try {
        onlyWorkload(list, 's3://b/p/');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      's3://b/p/ holds backups of 2 workloads (billing/maria, shop/pg): choose one with --workload',
    );
  });

  it('given no backup, then undefined (the caller says nothing is there)', () => {
    expect(onlyWorkload([], 's3://b/p/')).toBeUndefined();
  });
});
