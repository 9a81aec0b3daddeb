// After a backup the dumper looks at the workload's history for three
// things — the previous backup (BackupShrank), retention, stale uploads —
// and lists the prefix's objects once for all of them: against the S3
// server, one ListObjectsV2 listing and one read of each manifest, however
// many checks use them.
import { describe, expect, inject, it } from 'vitest';
import { MANIFEST_NAME } from '../../src/manifest.js';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/types.js';
import { createPgDatabase, pgUrl, psql, uniqueName } from '../env/helpers.js';
import { backupAt, s3Env } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');

/** The storage, with every listing (and what it listed) and every manifest read counted. */
function counted(storage: Storage) {
  const calls = { list: [] as string[], manifestReads: 0, listIncomplete: 0 };
  const wrapped: Storage = {
    description: storage.description,
    upload: (k, b, o) => storage.upload(k, b, o),
    put: (k, d, o) => storage.put(k, d, o),
    get: (k, s) => {
      if (k.endsWith('/' + MANIFEST_NAME)) calls.manifestReads++;
      return storage.get(k, s);
    },
    list: (prefix) => {
      calls.list.push(prefix);
      return storage.list(prefix);
    },
    delete: (keys) => storage.delete(keys),
    listIncomplete: (prefix) => {
      calls.listIncomplete++;
      return storage.listIncomplete!(prefix);
    },
    abortIncomplete: (u) => storage.abortIncomplete!(u),
  };
  return { storage: wrapped, calls };
}

describe('the dumper after a backup to S3', () => {
  it('given two earlier backups and a retention policy, when a third completes, then the prefix is listed once and each manifest read once', async () => {
    const db = await createPgDatabase(pg, uniqueName('listing'));
    await psql(pg, db, 'CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g;');
    const s3Storage = openStorage(`s3://${s3.bucket}/${uniqueName('listing')}`, {
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      env: s3Env(s3),
    });
    const run = (storage: Storage, at: string) =>
      backupAt(storage, pgUrl(pg, db), new Date(at), { retention: 'keep-last=2' });
    await run(s3Storage, '2026-11-18T03:00:00Z');
    await run(s3Storage, '2026-11-19T03:00:00Z');

    const { storage, calls } = counted(s3Storage);
    const result = await run(storage, '2026-11-20T03:00:00Z');

    expect(result.retention).toEqual({ kept: 2, removed: 1 });
    expect(calls.list).toEqual(['shop/postgres/']);
    expect(calls.manifestReads).toBe(3);
    // Open multipart uploads are not in an object listing: their own request.
    expect(calls.listIncomplete).toBe(1);
  });
});
