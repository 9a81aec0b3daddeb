/**
 * Uploads left open by a backup that was killed mid-way (`kill -9`, an OOM
 * kill of the dumper pod): an S3 multipart upload stays billed until someone
 * aborts it, a local temporary file stays forever. `prune` and the dumper,
 * after each successful backup, abort those under the workload's prefix that
 * are older than a safe age — far older than any backup still running.
 */
import { OperationError, UserError, describeError } from '../errors.js';
import type { IncompleteUpload, Storage } from '../storage/types.js';

/** 24 h: no backup runs that long (the Job deadline defaults to 6 h). */
export const DEFAULT_STALE_UPLOAD_AGE_MS = 24 * 60 * 60 * 1000;

const UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `24h`, `90m`, `2d`, `0s` → milliseconds; anything else → a message. */
export function parseAge(text: string): { ok: true; ms: number } | { ok: false; error: string } {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m) return { ok: false, error: `${JSON.stringify(text)} is not an age like 24h, 90m or 2d` };
  return { ok: true, ms: Number(m[1]) * UNITS[m[2] as keyof typeof UNITS] };
}

export interface AbortStaleOptions {
  now: Date;
  /** Uploads started at least this long before `now` are aborted. */
  olderThanMs: number;
  /** Only report what would be aborted. */
  dryRun?: boolean;
}

/**
 * Aborts the incomplete uploads under `workloadPrefix` started at least
 * `olderThanMs` before `now`; returns them (in a dry run, those it would
 * abort). A storage without the notion returns nothing.
 */
export async function abortStaleUploads(
  storage: Storage,
  workloadPrefix: string,
  options: AbortStaleOptions,
): Promise<IncompleteUpload[]> {
  const prefix = workloadPrefix.replace(/^\/+/, '');
  if (prefix.replace(/\/+$/, '') === '')
    throw new UserError(
      'stale uploads are aborted under one workload prefix (namespace/name/), not the whole storage',
    );
  const root = prefix.endsWith('/') ? prefix : prefix + '/';
  if (!storage.listIncomplete || !storage.abortIncomplete) return [];
  const cutoff = options.now.getTime() - options.olderThanMs;
  const stale: IncompleteUpload[] = [];
  for await (const u of storage.listIncomplete(root))
    if (u.started.getTime() <= cutoff) stale.push(u);
  if (options.dryRun) return stale;
  for (const u of stale) {
    try {
      await storage.abortIncomplete(u);
    } catch (err) {
      throw new OperationError(
        `abort stale upload ${u.key} (started ${u.started.toISOString()}): ${describeError(err)}`,
        { cause: err },
      );
    }
  }
  return stale;
}
