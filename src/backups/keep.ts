/**
 * One backup kept forever, and one backup deleted, by hand.
 *
 * Keeping is a marker in storage, `keep.json` beside the backup's
 * `manifest.json`: it travels with the backup (another machine, another
 * operator, a copied bucket see it), needs no database, and a look at the
 * directory shows it. Retention (`prune` and the dumper after each backup)
 * never deletes a backup that has one; only its presence counts, not its
 * content. It is written exclusively, so keeping twice changes nothing.
 *
 * Deleting goes the other way round from writing: every file of the
 * backup's directory but the manifest first, then the manifest. A delete
 * that stops half-way leaves a manifest whose objects are (partly) gone:
 * `list` shows that backup as incomplete, a restore by time never chooses
 * it, and the next `prune` (or the same `delete` again) finishes it.
 */
import { OperationError, UserError, describeError } from '../errors.js';
import { AlreadyExistsError, NotFoundError } from '../storage/errors.js';
import type { Storage } from '../storage/types.js';
import { VERSION } from '../version.js';
import type { BackupEntry } from './entry.js';

export const KEEP_NAME = 'keep.json';

/** `shop/pg/<id>/keep.json` for `shop/pg/<id>/manifest.json`. */
export function keepKeyFor(manifestKey: string): string {
  return manifestKey.slice(0, manifestKey.lastIndexOf('/') + 1) + KEEP_NAME;
}

/** Whether the backup has its keep marker, asked of the storage (not of a listing). */
export async function isKept(storage: Storage, manifestKey: string): Promise<boolean> {
  try {
    (await storage.get(keepKeyFor(manifestKey))).destroy();
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/** Writes the keep marker; false when it was there already (nothing is changed then). */
export async function keepBackup(storage: Storage, b: BackupEntry, now: Date): Promise<boolean> {
  const marker = {
    schemaVersion: 1,
    manifest: b.manifestKey.slice(b.manifestKey.lastIndexOf('/') + 1),
    keptAt: now.toISOString(),
    snapkeeperVersion: VERSION,
  };
  try {
    await storage.put(keepKeyFor(b.manifestKey), JSON.stringify(marker, null, 2) + '\n', {
      exclusive: true,
      contentType: 'application/json',
    });
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsError) return false;
    throw err;
  }
}

/** Removes the keep marker; false when there was none. */
export async function unkeepBackup(storage: Storage, b: BackupEntry): Promise<boolean> {
  if (!(await isKept(storage, b.manifestKey))) return false;
  await storage.delete([keepKeyFor(b.manifestKey)]);
  return true;
}

/**
 * Deletes one backup: every file under its directory except the manifest
 * (its objects and whatever else was stored beside them), then the
 * manifest. Objects a manifest names outside its own directory are never
 * touched. Returns the keys deleted, the manifest last.
 */
export async function deleteBackup(storage: Storage, b: BackupEntry): Promise<string[]> {
  const dir = b.manifestKey.slice(0, b.manifestKey.lastIndexOf('/') + 1);
  // A backup is one directory; a manifest at the root would make "its
  // directory" the whole storage.
  if (dir === '') throw new UserError(`${b.manifestKey} is not in a backup directory`);
  const files: string[] = [];
  for await (const o of storage.list(dir)) if (o.key !== b.manifestKey) files.push(o.key);
  try {
    await storage.delete(files);
  } catch (err) {
    throw new OperationError(
      `delete ${storage.description}${dir}: ${describeError(err)}; the manifest is still there, ` +
        'so the backup lists as incomplete: run the same delete again (or prune) to finish it',
      { cause: err },
    );
  }
  try {
    await storage.delete([b.manifestKey]);
  } catch (err) {
    throw new OperationError(
      `delete ${storage.description}${b.manifestKey}: ${describeError(err)}; its objects are ` +
        'gone, so the backup lists as incomplete: run the same delete again (or prune) to finish it',
      { cause: err },
    );
  }
  return [...files, b.manifestKey];
}
