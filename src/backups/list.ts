import { text } from 'node:stream/consumers';
import { UserError, describeError } from '../errors.js';
import { MANIFEST_NAME, manifestSchema, type Manifest } from '../manifest.js';
import { checkKey } from '../storage/errors.js';
import type { BackupEntry } from './entry.js';
import { KEEP_NAME } from './keep.js';
import { RESTORE_TEST_NAME } from '../restoretest/result.js';
import type { Storage } from '../storage/types.js';
import {
  parseWorkloadName,
  sameWorkloadName,
  workloadName,
  type WorkloadName,
} from '../workload.js';

export type { BackupEntry } from './entry.js';

export interface ListBackupsOptions {
  /** `namespace/name`: only that workload's backups (listed under its prefix). */
  workload?: string;
  /**
   * Where to list; default `<namespace>/<name>/` with a workload, else the
   * whole storage. For a custom key template, the part before its first
   * variable. Manifests are filtered by workload either way.
   */
  prefix?: string;
  /** Every manifest that was skipped, and why (unreadable, invalid, other workload). */
  onSkip?: (manifestKey: string, reason: string, unreadable: boolean) => void;
}

/** Reads in parallel, but not a thousand requests at once. */
const READ_CONCURRENCY = 8;

/**
 * Backups with a valid manifest, newest first. A backup whose manifest is
 * missing (incomplete: it is written last) or invalid never shows, so list,
 * restore and retention never touch it.
 */
export async function listBackups(
  storage: Storage,
  options: ListBackupsOptions = {},
): Promise<BackupEntry[]> {
  const workload = options.workload !== undefined ? parseWorkload(options.workload) : undefined;
  const prefix = options.prefix ?? (workload ? `${workload.namespace}/${workload.name}/` : '');
  const keys: string[] = [];
  const present = new Set<string>();
  for await (const o of storage.list(prefix)) {
    present.add(o.key);
    if (o.key === MANIFEST_NAME || o.key.endsWith('/' + MANIFEST_NAME)) keys.push(o.key);
  }
  const skip = options.onSkip ?? (() => undefined);
  const entries: BackupEntry[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const result = await readManifest(storage, key);
      if (!result.ok) {
        skip(key, result.error, true);
        continue;
      }
      const m = result.manifest;
      if (workload && !sameWorkloadName(m.workload, workload)) {
        skip(key, `belongs to ${workloadName(m.workload)}`, false);
        continue;
      }
      const dir = key.slice(0, key.lastIndexOf('/') + 1);
      entries.push(
        toEntry(key, m, {
          kept: present.has(dir + KEEP_NAME),
          tested: present.has(dir + RESTORE_TEST_NAME),
          // Only what the listing covers can be known to be missing.
          missing: m.objects
            .map((o) => o.key)
            .filter((k) => k.startsWith(prefix) && !present.has(k)),
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
  return entries.sort(newestFirst);
}

export function toEntry(
  manifestKey: string,
  manifest: Manifest,
  found: { kept: boolean; tested?: boolean; missing: string[] } = { kept: false, missing: [] },
): BackupEntry {
  return {
    manifestKey,
    manifest,
    time: new Date(manifest.startedAt),
    workload: workloadName(manifest.workload),
    bytes: manifest.objects.reduce((n, o) => n + o.bytes, 0),
    kept: found.kept,
    tested: found.tested ?? false,
    missing: found.missing,
  };
}

/** A backup whose deletion did not finish: some of its objects are gone. */
export function isIncomplete(b: BackupEntry): boolean {
  return (b.missing?.length ?? 0) > 0;
}

export function newestFirst(a: BackupEntry, b: BackupEntry): number {
  return b.time.getTime() - a.time.getTime() || (a.manifestKey < b.manifestKey ? 1 : -1);
}

/**
 * A manifest, read and validated. Never throws for a bad manifest: it is a
 * reason to skip, not a failure of the listing. Object keys that would leave
 * the storage root make the manifest invalid.
 */
export async function readManifest(
  storage: Storage,
  key: string,
): Promise<{ ok: true; manifest: Manifest } | { ok: false; error: string }> {
  let raw: string;
  try {
    raw = await text(await storage.get(key));
  } catch (err) {
    return { ok: false, error: `unreadable: ${describeError(err)}` };
  }
  return parseManifest(raw);
}

/** A manifest's text, validated: see readManifest. */
export function parseManifest(
  raw: string,
): { ok: true; manifest: Manifest } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      error: `invalid manifest: ${first?.path.join('.') || '(root)'}: ${first?.message}`,
    };
  }
  for (const o of parsed.data.objects) {
    try {
      checkKey(o.key);
    } catch {
      return { ok: false, error: `invalid manifest: object key ${JSON.stringify(o.key)}` };
    }
  }
  return { ok: true, manifest: parsed.data };
}

/** `namespace/name`, as `--workload` takes it; UserError otherwise. */
export function parseWorkload(s: string): WorkloadName {
  const w = parseWorkloadName(s);
  if (!w) throw new UserError(`invalid workload ${JSON.stringify(s)}: expected namespace/name`);
  return w;
}
