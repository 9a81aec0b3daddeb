/**
 * restore-test.json, stored beside a backup's manifest by `restore-test`:
 * when the backup was last proven to restore, into what, and what was
 * compared. `list` and `describe` read it with `readRestoreTest`.
 */
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { NotFoundError } from '../storage/errors.js';
import type { Storage } from '../storage/types.js';

export const RESTORE_TEST_NAME = 'restore-test.json';
export const RESTORE_TEST_SCHEMA_VERSION = 1;

const countPair = z.object({
  /** null: not in the backup's counts (or not counted). */
  backup: z.number().int().nonnegative().nullable(),
  /** null: not found after the restore. */
  restored: z.number().int().nonnegative().nullable(),
});

export const restoreTestResultSchema = z.object({
  schemaVersion: z.literal(RESTORE_TEST_SCHEMA_VERSION),
  /** The manifest key of the backup tested. */
  backup: z.string(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  /** True: every count equal and every check true. */
  ok: z.boolean(),
  /** `scratch` (a server restore-test started), `url` (--to), `archive` (no server: archive checks only). */
  target: z.enum(['scratch', 'url', 'archive']),
  /** The server restored into, e.g. "PostgreSQL 15.14"; empty for `archive`. */
  server: z.string(),
  databases: z.array(
    z.object({
      database: z.string(),
      tables: z.array(countPair.extend({ name: z.string() })),
      objects: z.array(countPair.extend({ kind: z.string() })),
      /** Why the backup's side was not compared (e.g. not counted at backup time). */
      note: z.string().optional(),
    }),
  ),
  checks: z.array(z.object({ sql: z.string(), ok: z.boolean(), value: z.string() })),
  /** One line each: `orders: 120000 rows in the backup, 119412 restored`. */
  mismatches: z.array(z.string()),
  /** What was not tested, in words (`archive checks only: …`). */
  notes: z.array(z.string()),
  snapkeeperVersion: z.string(),
});

export type RestoreTestResult = z.infer<typeof restoreTestResultSchema>;

/** The key of the restore test result beside a manifest. */
export function restoreTestKeyFor(manifestKey: string): string {
  const slash = manifestKey.lastIndexOf('/');
  return (slash < 0 ? '' : manifestKey.slice(0, slash + 1)) + RESTORE_TEST_NAME;
}

/**
 * The stored result of a backup's last restore test; undefined when it was
 * never tested, or when the file is not one this version reads (`invalid`).
 */
export async function readRestoreTest(
  storage: Storage,
  manifestKey: string,
  signal?: AbortSignal,
): Promise<RestoreTestResult | { invalid: string } | undefined> {
  let raw: string;
  try {
    raw = await text(await storage.get(restoreTestKeyFor(manifestKey), signal));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  try {
    const parsed = restoreTestResultSchema.safeParse(JSON.parse(raw));
    if (parsed.success) return parsed.data;
    return { invalid: parsed.error.issues[0]?.message ?? 'invalid' };
  } catch (err) {
    return { invalid: `not JSON: ${(err as Error).message}` };
  }
}
