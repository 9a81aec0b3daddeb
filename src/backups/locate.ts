/**
 * A backup named by a full location, as `backup` prints it
 * (`manifest: s3://bucket/prefix/shop/postgres/<id>/manifest.json`, or a path
 * on disk), and by a key relative to a storage root.
 *
 * A location does not say where its storage root ends (`s3://b/team/nightly/`
 * or `s3://b/team/`?), but the manifest does: its objects' keys are relative
 * to the root, so the root is the location with the manifest's own key taken
 * off its end.
 */
import { text } from 'node:stream/consumers';
import { manifestKeyFor } from '../dump/key.js';
import { UserError } from '../errors.js';
import { MANIFEST_NAME } from '../manifest.js';
import { NotFoundError, checkKey } from '../storage/errors.js';
import type { Storage } from '../storage/types.js';
import { parseManifest, toEntry, type BackupEntry } from './list.js';

/**
 * Where a location's backup is: `root` (a location openStorage takes) and
 * `key`, the rest of the location, relative to that root. `open` opens a
 * location (the CLI's S3 flags applied). UserError when there is no
 * manifest at, or beside, the location.
 */
export async function locateBackup(
  location: string,
  open: (location: string) => Storage,
): Promise<{ root: string; key: string }> {
  const loc = location.replace(/\/+$/, '');
  const candidates = loc.endsWith('/' + MANIFEST_NAME)
    ? [loc]
    : [`${loc}/${MANIFEST_NAME}`, manifestKeyFor(loc, MANIFEST_NAME)];
  for (const candidate of candidates) {
    const dir = candidate.slice(0, candidate.lastIndexOf('/'));
    if (!dir.includes('/')) continue;
    let raw: string;
    try {
      raw = await text(await open(dir).get(MANIFEST_NAME));
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof UserError) continue;
      throw err;
    }
    const parsed = parseManifest(raw);
    if (!parsed.ok) throw new UserError(`${candidate} is not a usable manifest (${parsed.error})`);
    const own = manifestKeyFor(parsed.manifest.objects[0]!.key, MANIFEST_NAME);
    const ownDir = own.slice(0, own.lastIndexOf('/'));
    if (!dir.endsWith('/' + ownDir))
      throw new UserError(
        `${candidate} names objects under ${ownDir}/, which is not where it is: ` +
          'give the storage root with --from and the key with --key',
      );
    const root = dir.slice(0, dir.length - ownDir.length);
    return { root, key: loc.slice(root.length) };
  }
  throw new UserError(`no backup at ${location} (no ${MANIFEST_NAME} there or beside it)`);
}

/**
 * The backup a key names, read straight from its manifest (no listing):
 * `key` is the manifest key, the backup's directory or one of its objects.
 * undefined when that is not so; the caller then searches the listing.
 */
export async function readBackupAt(
  storage: Storage,
  key: string,
  workload?: string,
): Promise<BackupEntry | undefined> {
  const k = key.replace(/\/+$/, '');
  const candidates = k.endsWith('/' + MANIFEST_NAME)
    ? [k]
    : [`${k}/${MANIFEST_NAME}`, manifestKeyFor(k, MANIFEST_NAME)];
  for (const mk of candidates) {
    try {
      checkKey(mk);
    } catch {
      continue;
    }
    let raw: string;
    try {
      raw = await text(await storage.get(mk));
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      throw err;
    }
    const parsed = parseManifest(raw);
    if (!parsed.ok) return undefined;
    const entry = toEntry(mk, parsed.manifest);
    const dir = mk.slice(0, mk.lastIndexOf('/'));
    const named = k === mk || k === dir || parsed.manifest.objects.some((o) => o.key === k);
    if (!named || (workload !== undefined && entry.workload !== workload)) return undefined;
    return entry;
  }
  return undefined;
}
