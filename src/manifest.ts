import { z } from 'zod';
import { databaseContentsSchema } from './contents/types.js';

/**
 * manifest.json, written beside each dump and last: a backup without its
 * manifest is incomplete, and list, restore and retention ignore it.
 * Bump MANIFEST_SCHEMA_VERSION on an incompatible change; readers accept
 * every version they know.
 */
export const MANIFEST_SCHEMA_VERSION = 1;
export const MANIFEST_NAME = 'manifest.json';

export const engineTypes = ['postgresql', 'mysql', 'mariadb', 'elasticsearch'] as const;
export type EngineType = (typeof engineTypes)[number];

export const manifestSchema = z.object({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  workload: z.object({
    namespace: z.string(),
    kind: z.string(),
    name: z.string(),
  }),
  engine: z.enum(engineTypes),
  /** Databases in the dump; `['*']` for an all-databases dump. */
  databases: z.array(z.string()).min(1),
  server: z.object({ version: z.string() }),
  client: z.object({ tool: z.string(), version: z.string() }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  /** One stored object per database (an all-databases dump is one object, database `*`). */
  objects: z
    .array(
      z.object({
        database: z.string(),
        /** Key relative to the storage root. */
        key: z.string(),
        /** Bytes out of the dump tool, before compression. */
        rawBytes: z.number().int().nonnegative(),
        /** Bytes stored (after compression and encryption). */
        bytes: z.number().int().nonnegative(),
        /** sha256 (hex) of the stored bytes. */
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        /** `sql` (plain SQL), `custom` (pg_dump -Fc), `tar` (Elasticsearch archive). */
        format: z.string(),
        /** How the object is compressed; absent (manifests before zstd): gzip. */
        compression: z.enum(['gzip', 'zstd']).optional(),
        /** The compression level it was written with (informative). */
        compressionLevel: z.number().int().positive().optional(),
      }),
    )
    .min(1),
  /** The run's compression; each object's own `compression` is what readers use. */
  compression: z.enum(['gzip', 'zstd']),
  encryption: z.union([
    z.object({ type: z.literal('age'), recipients: z.array(z.string()).min(1) }),
    z.null(),
  ]),
  snapkeeperVersion: z.string(),
  /**
   * What each database holds, counted while the dump streamed (src/contents):
   * tables with rows, schema objects. Optional: older manifests have none.
   */
  contents: z.array(databaseContentsSchema).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** How one object of a manifest is compressed: its own field, else gzip (older manifests). */
export function objectCompression(obj: Manifest['objects'][number]): 'gzip' | 'zstd' {
  return obj.compression ?? 'gzip';
}
