import { OperationError, UserError, describeError } from '../errors.js';
import { isIncomplete, listBackups, type BackupEntry } from '../backups/list.js';
import type { Storage } from '../storage/types.js';
import { formatRetention, type RetentionPolicy } from './policy.js';
import { selectRetention, type KeepReason } from './select.js';

export interface ApplyRetentionOptions {
  now: Date;
  /** The manifest key of the backup just written: never deleted, whatever the policy says. */
  protect?: string;
  /** Only report what would be deleted. */
  dryRun?: boolean;
  /** `namespace/name`: only manifests of that workload count (for key templates that mix workloads). */
  workload?: string;
  /**
   * The prefix's backups, already listed (listBackups with this prefix and
   * workload): the dumper lists once after a backup for every check.
   */
  backups?: BackupEntry[];
}

export interface RetentionResult {
  policy: string;
  /** `keep`: the backup's keep marker (snapkeeper keep), whatever the policy says. */
  kept: { backup: BackupEntry; reasons: (KeepReason | 'protected' | 'keep')[] }[];
  /**
   * Deleted (or, in a dry run, to be deleted), with the keys that went.
   * `incomplete`: a backup whose delete had not finished (objects missing),
   * removed whatever the policy says.
   */
  removed: { backup: BackupEntry; keys: string[]; incomplete?: boolean }[];
  dryRun: boolean;
}

/**
 * Applies a policy to one workload's prefix. Only backups with a valid
 * manifest are candidates, so objects without one (an upload in progress, a
 * failed run, someone else's files) are never deleted; only keys under the
 * prefix are deleted, whatever a manifest lists.
 *
 * A backup with a keep marker (`snapkeeper keep`) is kept whatever the
 * policy says (reason `keep`); it still counts in the policy, as restic's
 * `--keep-tag` beside `--keep-last`. A backup whose `delete` did not finish
 * (its manifest names objects the listing lacks) is not counted and is
 * removed, whatever the policy: retention finishes that delete.
 *
 * Order: the manifests of all doomed backups go first, in one batch, then
 * their objects. Deleting the manifest is what un-makes a backup: from that
 * moment list, restore and retention ignore it, so a run that fails half-way
 * leaves some orphan objects (invisible, named in the error) rather than a
 * listed backup whose objects are gone — which a restore would pick and fail
 * on at the worst moment.
 */
export async function applyRetention(
  storage: Storage,
  workloadPrefix: string,
  policy: RetentionPolicy,
  options: ApplyRetentionOptions,
): Promise<RetentionResult> {
  const prefix = workloadPrefix.replace(/^\/+/, '');
  if (prefix.replace(/\/+$/, '') === '')
    throw new UserError(
      'retention applies to one workload prefix (namespace/name/), not to the whole storage',
    );
  const root = prefix.endsWith('/') ? prefix : prefix + '/';
  const backups =
    options.backups ?? (await listBackups(storage, { prefix: root, workload: options.workload }));
  // The policy counts complete backups only: a half-deleted one is neither
  // "the newest" nor one of the last N.
  const { keep, remove } = selectRetention(
    backups.filter((b) => !isIncomplete(b)),
    (b) => b.time,
    policy,
    options.now,
  );
  const kept: RetentionResult['kept'] = keep.map(({ item, reasons }) => ({
    backup: item,
    reasons: item.kept ? [...reasons, 'keep'] : reasons,
  }));
  const removed: RetentionResult['removed'] = [];
  const keysOf = (backup: BackupEntry) => [
    backup.manifestKey,
    ...backup.manifest.objects.map((o) => o.key).filter((k) => k.startsWith(root)),
  ];
  for (const backup of remove) {
    if (backup.manifestKey === options.protect) {
      kept.push({ backup, reasons: ['protected'] });
      continue;
    }
    if (backup.kept) {
      kept.push({ backup, reasons: ['keep'] });
      continue;
    }
    removed.push({ backup, keys: keysOf(backup) });
  }
  for (const backup of backups.filter(isIncomplete)) {
    if (backup.kept) kept.push({ backup, reasons: ['keep'] });
    else removed.push({ backup, keys: keysOf(backup), incomplete: true });
  }
  const result = {
    policy: formatRetention(policy),
    kept,
    removed,
    dryRun: options.dryRun ?? false,
  };
  if (result.dryRun || removed.length === 0) return result;

  const manifests = removed.map((r) => r.backup.manifestKey);
  try {
    await storage.delete(manifests);
  } catch (err) {
    throw new OperationError(`retention: delete manifests: ${describeError(err)}`, { cause: err });
  }
  const objects = removed.flatMap((r) => r.keys.slice(1));
  try {
    await storage.delete(objects);
  } catch (err) {
    throw new OperationError(
      `retention: the manifests of ${removed.length} backup(s) were deleted but not all their objects ` +
        `(${describeError(err)}); orphans under ${root}: ${objects.slice(0, 5).join(', ')}` +
        (objects.length > 5 ? ` and ${objects.length - 5} more` : ''),
      { cause: err },
    );
  }
  return result;
}
