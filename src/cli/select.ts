/**
 * Picking and opening one backup, as restore, verify, restore-test,
 * describe, diff, keep and unkeep do: the selection flags (`--workload`,
 * `--at`, `--key`), the storage they point at, the backup they name, and
 * the age identities checked against its manifest before anything is
 * downloaded.
 */
import { resolve } from 'node:path';
import { chooseBackup, onlyWorkload, parseAtChoice, type Choice } from '../backups/choose.js';
import { listBackups, type BackupEntry } from '../backups/list.js';
import { locateBackup, readBackupAt } from '../backups/locate.js';
import { checkIdentities } from '../backups/read.js';
import { identitiesMatch } from '../crypto/age-keys.js';
import { UserError } from '../errors.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';
import type { CliContext } from './context.js';
import { readIdentities } from './key-files.js';
import type { SelectFlags } from './flags.js';
import { openFrom } from './storage-flags.js';

/** The checks that need no network: every user mistake is reported before anything is contacted. */
export function parseSelect(flags: SelectFlags): Choice {
  if (flags.at !== undefined && flags.key !== undefined)
    throw new UserError('give --at or --key, not both');
  if (flags.at !== undefined) return parseAtChoice(flags.at);
  return { key: flags.key };
}

export interface OpenedBackup {
  storage: Storage;
  backup: BackupEntry;
  /** The identities read from the `-i` files (none without them). */
  identities: string[];
}

/**
 * The one sequence of every command that reads a backup: the identity files
 * read, the storage opened, the backup selected, and — before any download —
 * the identities checked against the manifest's recipients: none given for
 * an encrypted backup (when `requireIdentity`) or none that opens it is a
 * user mistake, exit 2.
 */
export async function openBackup(
  flags: SelectFlags,
  ctx: CliContext,
  options: {
    identityFiles?: readonly string[];
    requireIdentity?: boolean;
    /** Told the backup chosen, before its identities are checked (restore-test's report names it). */
    onSelected?: (backup: BackupEntry) => void;
  } = {},
): Promise<OpenedBackup> {
  const files = options.identityFiles ?? [];
  const identities = await readIdentities(files);
  const { storage, flags: selected } = await openSelected(flags, ctx);
  const backup = await selectBackup(storage, selected, ctx);
  options.onSelected?.(backup);
  if (options.requireIdentity) checkIdentities(backup.manifest, identities);
  await refuseWrongIdentity(backup, identities, files);
  return { storage, backup, identities };
}

/**
 * Identities that cannot open the backup, told from the manifest's
 * recipients before anything is downloaded: a user mistake (the wrong key
 * file), exit 2, as a missing --identity is.
 */
export async function refuseWrongIdentity(
  backup: BackupEntry,
  identities: readonly string[],
  files: readonly string[],
): Promise<void> {
  const error = await wrongIdentity(backup, identities, files);
  if (error) throw new UserError(error);
}

/** Why these identities cannot open the backup, or nothing. */
export async function wrongIdentity(
  backup: BackupEntry,
  identities: readonly string[],
  files: readonly string[],
): Promise<string | undefined> {
  const enc = backup.manifest.encryption;
  if (!enc || identities.length === 0) return undefined;
  const { match, own } = await identitiesMatch(enc.recipients, identities);
  if (match) return undefined;
  return (
    `no identity given opens backup ${backup.manifestKey}: it is encrypted to ${enc.recipients.join(', ')}; ` +
    `${files.join(', ')} hold(s) the key(s) of ${own.join(', ')} (wrong --identity file?)`
  );
}

/** The workload's backups, and the manifests that could not be read (logged). */
export async function findBackups(
  storage: Storage,
  workload: string | undefined,
  ctx: CliContext,
): Promise<{ backups: BackupEntry[]; unreadable: { key: string; why: string }[] }> {
  const unreadable: { key: string; why: string }[] = [];
  const backups = await listBackups(storage, {
    workload,
    onSkip: (key, why, bad) => {
      if (!bad) return ctx.log.debug('skipped manifest', { key, why });
      unreadable.push({ key, why });
      ctx.log.warn('skipped a manifest that cannot be read', { key, why });
    },
  });
  return { backups, unreadable };
}

/** Nothing to act on: name where we looked (a mistyped --from or --workload is the usual cause). */
export function noBackupError(
  storage: Storage,
  workload: string | undefined,
  unreadable: number,
): UserError {
  const whose = workload ? ` of ${workload}` : '';
  const unread =
    unreadable > 0 ? `; ${unreadable} unreadable manifest(s) skipped, see the log` : '';
  return new UserError(
    `no backup${whose} in ${storage.description} (only backups with a manifest count${unread})`,
  );
}

export async function selectBackup(
  storage: Storage,
  flags: SelectFlags,
  ctx: CliContext,
): Promise<BackupEntry> {
  const choice = parseSelect(flags);
  if (choice.key !== undefined) {
    const direct = await readBackupAt(storage, choice.key, flags.workload);
    if (direct) return direct;
  }
  const { backups, unreadable } = await findBackups(storage, flags.workload, ctx);
  if (backups.length === 0) throw noBackupError(storage, flags.workload, unreadable.length);
  // Without --workload, the location's only workload is the one meant; a key
  // names its backup whatever its workload.
  if (flags.workload === undefined && choice.key === undefined)
    onlyWorkload(backups, storage.description);
  return chooseBackup(backups, choice);
}

/**
 * The storage and the selection flags to use. `--key` may be a full
 * location, as `backup` prints it (`manifest: s3://bucket/prefix/…/manifest.json`
 * or a path on disk): then it implies `--from` (the root is read from the
 * manifest), or, with `--from`, must lie in it; the key becomes relative.
 */
export async function openSelected(
  flags: SelectFlags,
  ctx: CliContext,
): Promise<{ storage: Storage; flags: SelectFlags }> {
  const from = flags.from ?? nonEmpty(ctx.env.SNAPKEEPER_STORAGE);
  const key = flags.key;
  const isLocation =
    key !== undefined &&
    (/^(s3|file):\/\//i.test(key) || /^(\/|\.\.?\/)/.test(key) || from === undefined);
  if (key === undefined || !isLocation) return { storage: openFrom(flags, ctx), flags };
  const location = /^s3:\/\//i.test(key)
    ? key
    : resolve(/^file:\/\//i.test(key) ? decodeURIComponent(key.slice('file://'.length)) : key);
  const open = (loc: string) =>
    openStorage(loc, {
      endpoint: flags.endpoint,
      region: flags.region,
      forcePathStyle: flags.forcePathStyle,
      env: ctx.env,
    });
  if (from !== undefined) {
    const storage = open(from);
    const root = storage.description;
    if (location.startsWith(root))
      return { storage, flags: { ...flags, key: location.slice(root.length) } };
    if (flags.from !== undefined)
      throw new UserError(`--key ${key} is not in --from ${flags.from} (${root})`);
  }
  const found = await locateBackup(location, open);
  return { storage: open(found.root), flags: { ...flags, key: found.key } };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
