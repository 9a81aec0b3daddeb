import { describe, expect, inject, it } from 'vitest';
import { parseRetention } from '../../src/retention/policy.js';
import { applyRetention } from '../../src/retention/apply.js';
import { openStorage } from '../../src/storage/open.js';
import { fakeBackup, store } from '../unit/backups-fixture.js';
import { awsEnv, listAllObjects, uniqueName } from '../env/helpers.js';

const s3 = inject('s3');

function policy(s: string) {
  const p = parseRetention(s);
  if (!p.ok) throw new Error(p.error);
  return p.policy;
}

describe('retention against the S3 server', () => {
  it('given daily backups, orphans and a neighbour workload, when keep-last=2 applies, then only old complete backups of that workload go', async () => {
    const root = uniqueName('ret');
    const storage = openStorage(`s3://${s3.bucket}/${root}`, { env: awsEnv(s3) });
    const days = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];
    const backups = days.map((d) =>
      fakeBackup('shop/pg', new Date(`${d}T03:00:00Z`), { databases: ['app', 'audit'] }),
    );
    for (const b of backups) await store(storage, b);
    // An upload that never got its manifest (older than everything): never deleted.
    await storage.put('shop/pg/20261101T030000Z/app.sql.gz', 'partial');
    // A neighbour whose name starts the same: outside the prefix shop/pg/.
    const neighbour = fakeBackup('shop/pgx', new Date('2026-11-01T03:00:00Z'));
    await store(storage, neighbour);
    const keysNow = async () =>
      (await listAllObjects(s3, `${root}/`)).map((o) => o.Key!.slice(root.length + 1)).sort();
    const before = await keysNow();

    // Dry run: the plan, nothing deleted. The oldest is protected (as if just written).
    const dry = await applyRetention(storage, 'shop/pg', policy('keep-last=2'), {
      now: new Date('2026-11-20T04:00:00Z'),
      protect: backups[0]!.manifestKey,
      dryRun: true,
    });
    expect(dry.removed.map((r) => r.backup.manifestKey).sort()).toEqual(
      [backups[1]!, backups[2]!].map((b) => b.manifestKey).sort(),
    );
    expect(dry.kept.find((k) => k.backup.manifestKey === backups[0]!.manifestKey)?.reasons).toEqual(
      ['protected'],
    );
    expect(await keysNow()).toEqual(before);

    const res = await applyRetention(storage, 'shop/pg/', policy('keep-last=2'), {
      now: new Date('2026-11-20T04:00:00Z'),
      protect: backups[0]!.manifestKey,
    });
    expect(res.removed).toHaveLength(2);
    const gone = [backups[1]!, backups[2]!].flatMap((b) => [
      b.manifestKey,
      ...b.objects.map((o) => o.key),
    ]);
    expect(await keysNow()).toEqual(before.filter((k) => !gone.includes(k)));
    expect(await keysNow()).toContain('shop/pg/20261101T030000Z/app.sql.gz');
    expect(await keysNow()).toContain(neighbour.manifestKey);

    // Applying again changes nothing.
    const again = await applyRetention(storage, 'shop/pg/', policy('keep-last=2'), {
      now: new Date('2026-11-20T04:00:00Z'),
      protect: backups[0]!.manifestKey,
    });
    expect(again.removed).toEqual([]);
  });

  it('given a manifest that lists a key of another workload, then that key is not deleted', async () => {
    const root = uniqueName('ret');
    const storage = openStorage(`s3://${s3.bucket}/${root}`, { env: awsEnv(s3) });
    const victim = fakeBackup('shop/other', new Date('2026-11-01T03:00:00Z'));
    await store(storage, victim);
    const old = fakeBackup('shop/pg', new Date('2026-11-02T03:00:00Z'));
    old.manifest.objects.push({ ...old.manifest.objects[0]!, key: victim.objects[0]!.key });
    await store(storage, old);
    await store(storage, fakeBackup('shop/pg', new Date('2026-11-03T03:00:00Z')));
    await applyRetention(storage, 'shop/pg', policy('keep-last=1'), {
      now: new Date('2026-11-04T00:00:00Z'),
    });
    const keys = (await listAllObjects(s3, `${root}/`)).map((o) => o.Key!.slice(root.length + 1));
    expect(keys).toContain(victim.objects[0]!.key);
    expect(keys).not.toContain(old.manifestKey);
    expect(keys).not.toContain(old.objects[0]!.key);
  });

  it('given an empty prefix, then it refuses', async () => {
    const storage = openStorage(`s3://${s3.bucket}/x`, { env: awsEnv(s3) });
    await expect(
      applyRetention(storage, '', policy('keep-last=1'), { now: new Date() }),
    ).rejects.toThrow(/one workload prefix/);
  });
});
