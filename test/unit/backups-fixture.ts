// Synthetic manifests and backups for the backups / retention tests. The
// objects are real gzip (and, when asked, real age) bytes whose sha256 the
// manifest records, so read paths run for real.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../../src/manifest.js';
import type { Storage } from '../../src/storage/types.js';

/** `20261120T030000Z` */
export function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export interface FakeBackup {
  manifestKey: string;
  manifest: Manifest;
  objects: { key: string; data: Buffer }[];
}

/** A backup of `workload` (`ns/name`) started at `at`, with one object per database. */
export function fakeBackup(
  workload: string,
  at: Date,
  options: {
    databases?: string[];
    plain?: (db: string) => string;
    stored?: (gz: Buffer) => Buffer;
    encrypted?: string[];
  } = {},
): FakeBackup {
  const [namespace, name] = workload.split('/') as [string, string];
  const dir = `${namespace}/${name}/${stamp(at)}`;
  const objects = (options.databases ?? ['app']).map((db) => {
    const plain = Buffer.from(options.plain?.(db) ?? `-- dump of ${db} at ${at.toISOString()}\n`);
    const gz = gzipSync(plain);
    const data = options.stored ? options.stored(gz) : gz;
    return {
      key: `${dir}/${db}.sql.gz${options.encrypted ? '.age' : ''}`,
      data,
      entry: {
        database: db,
        key: `${dir}/${db}.sql.gz${options.encrypted ? '.age' : ''}`,
        rawBytes: plain.length,
        bytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        format: 'sql',
      },
    };
  });
  const manifest: Manifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    workload: { namespace, kind: 'StatefulSet', name },
    engine: 'postgresql',
    databases: objects.map((o) => o.entry.database),
    server: { version: '15.4' },
    client: { tool: 'pg_dump', version: '15.4' },
    startedAt: at.toISOString(),
    finishedAt: new Date(at.getTime() + 5000).toISOString(),
    objects: objects.map((o) => o.entry),
    compression: 'gzip',
    encryption: options.encrypted ? { type: 'age', recipients: options.encrypted } : null,
    snapkeeperVersion: '0.1.0',
  };
  return {
    manifestKey: `${dir}/manifest.json`,
    manifest,
    objects: objects.map(({ key, data }) => ({ key, data })),
  };
}

/** Writes the objects, then the manifest (last, as the dumper does). */
export async function store(storage: Storage, b: FakeBackup): Promise<void> {
  for (const o of b.objects) await storage.put(o.key, o.data);
  await storage.put(b.manifestKey, JSON.stringify(b.manifest));
}
