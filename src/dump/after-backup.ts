/**
 * What a backup run does once its manifest is written, when the backup
 * exists whatever they find: the workload's history listed once, the
 * shrink check against the previous backup (BackupShrank), retention, and
 * aborting uploads that killed runs left open. None of them fails the
 * backup: each logs its problem and the result reports it. Called by
 * ./run.ts.
 */
import { listBackups, type BackupEntry } from '../backups/list.js';
import { shrinkage } from '../contents/shrink.js';
import type { SuccessResult } from '../contract/dump-result.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { applyRetention } from '../retention/apply.js';
import { parseRetention } from '../retention/policy.js';
import { DEFAULT_STALE_UPLOAD_AGE_MS, abortStaleUploads } from '../retention/stale.js';
import type { Storage } from '../storage/types.js';

/** What these steps read of the run's request (a BackupRequest has all of it). */
export interface AfterBackupRequest {
  storage: Storage;
  workload: { namespace: string; name: string };
  /** Retention policy; '' or absent keeps everything. */
  retention?: string;
  /** BackupShrank: warn when rows or bytes fell by more than this fraction (default 0.5). */
  shrinkThreshold?: number;
  /** Incomplete uploads under the workload's prefix older than this are aborted (default 24 h). */
  staleUploadAgeMs?: number;
}

/**
 * The workload's backups under its prefix, listed once after a backup for
 * the shrink check and retention; the error instead when the listing
 * failed (each check reports it as its own failure); nothing when the key
 * template has no per-workload prefix.
 */
export type History = { backups: BackupEntry[] } | { error: unknown } | undefined;

export async function listHistory(req: AfterBackupRequest, prefix: string): Promise<History> {
  if (prefix === '') return undefined;
  try {
    const backups = await listBackups(req.storage, {
      prefix,
      workload: `${req.workload.namespace}/${req.workload.name}`,
    });
    return { backups };
  } catch (error) {
    return { error };
  }
}

/**
 * BackupShrank: compares the backup just stored with the workload's
 * previous one. Never fails the backup: it is logged (a warning) and
 * reported in the result, and the backup stays.
 */
export function compareWithPrevious(
  req: AfterBackupRequest,
  history: History,
  manifestKey: string,
  started: Date,
  log: Logger,
): string | undefined {
  if (history === undefined) return undefined;
  if ('error' in history) {
    log.warn('could not compare with the previous backup; the backup itself succeeded', {
      error: describeError(history.error),
    });
    return undefined;
  }
  const all = history.backups;
  const current = all.find((b) => b.manifestKey === manifestKey);
  const previous = all.find((b) => b.manifestKey !== manifestKey && b.time <= started);
  if (!current || !previous) return undefined;
  const s = shrinkage(previous.manifest, current.manifest, req.shrinkThreshold);
  if (!s) return undefined;
  log.warn('BackupShrank: the backup holds far less than the one before; it was stored', {
    reason: s.message,
    previous: previous.manifestKey,
  });
  return s.message;
}

/**
 * Aborts the uploads that earlier runs, killed mid-upload, left open under
 * the workload's prefix (src/retention/stale.ts). Like retention, it never
 * fails the backup: a problem is logged.
 */
export async function abortStale(
  req: AfterBackupRequest,
  prefix: string,
  now: Date,
  log: Logger,
): Promise<void> {
  if (prefix === '') return;
  const olderThanMs = req.staleUploadAgeMs ?? DEFAULT_STALE_UPLOAD_AGE_MS;
  try {
    const aborted = await abortStaleUploads(req.storage, prefix, { now, olderThanMs });
    if (aborted.length > 0)
      log.info('aborted stale uploads', {
        olderThanSeconds: olderThanMs / 1000,
        uploads: aborted.map((u) => ({ key: u.key, started: u.started.toISOString() })),
      });
  } catch (err) {
    log.warn('could not abort stale uploads; the backup itself succeeded', {
      error: describeError(err),
    });
  }
}

/**
 * Applies the workload's retention policy after a successful backup. A
 * failure here does not undo the backup: it is logged and reported in the
 * result (`retention.error`), so the operator can surface it.
 */
export async function retain(
  req: AfterBackupRequest,
  prefix: string,
  history: History,
  manifestKey: string,
  now: Date,
  log: Logger,
): Promise<NonNullable<SuccessResult['retention']>> {
  const parsed = parseRetention(req.retention ?? '');
  if (!parsed.ok) return { error: parsed.error };
  if (history === undefined || prefix === '') {
    const error = 'retention skipped: the key template has no per-workload prefix before the time';
    log.warn(error);
    return { error };
  }
  try {
    if ('error' in history) throw history.error;
    const r = await applyRetention(req.storage, prefix, parsed.policy, {
      now,
      protect: manifestKey,
      workload: `${req.workload.namespace}/${req.workload.name}`,
      backups: history.backups,
    });
    log.info('retention applied', {
      policy: r.policy,
      kept: r.kept.length,
      removed: r.removed.map((x) => x.backup.manifestKey),
    });
    return { kept: r.kept.length, removed: r.removed.length };
  } catch (err) {
    const error = describeError(err);
    log.warn('retention failed; the backup itself succeeded', { error });
    return { error };
  }
}
