/**
 * `snapkeeper keep <backup>` / `unkeep <backup>`: a backup kept forever
 * whatever the retention policy says, as a `keep.json` marker beside its
 * manifest (src/backups/keep.ts). `<backup>` is anything `list` prints or
 * `restore --at` / `--key` takes; the selection is restore's.
 */
import { onlyWorkload, parseAt, parseAtChoice, type Choice } from '../backups/choose.js';
import { keepBackup, unkeepBackup } from '../backups/keep.js';
import type { BackupEntry } from '../backups/list.js';
import { UserError } from '../errors.js';
import type { Storage } from '../storage/types.js';
import type { CliContext } from './context.js';
import { findBackups, noBackupError, openBackup } from './select.js';
import type { NamedFlags, SelectFlags } from './flags.js';
import { openFrom } from './storage-flags.js';

/**
 * The backup `<backup>` names: a time as `list` prints it (or any time
 * `--at` takes), else a key or a location (as `--key` takes it). Unlike
 * `restore --at`, a time names a backup only when that backup is within
 * the time as written (its millisecond, second, minute, or day): deleting
 * "the newest at or before" would remove an older backup when the one meant
 * is not there. A backup whose delete did not finish is found like any
 * other, so the same delete can be run again.
 */
export async function namedBackup(
  backup: string,
  flags: NamedFlags,
  ctx: CliContext,
): Promise<{ storage: Storage; backup: BackupEntry }> {
  if (backup.trim() === '') throw new UserError('which backup? give its time or key (see list)');
  let choice: Choice;
  try {
    choice = parseAtChoice(backup);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    choice = { key: backup };
  }
  if (choice.key !== undefined || choice.at === undefined || /^now$/i.test(backup.trim())) {
    const select: SelectFlags =
      choice.key !== undefined ? { ...flags, key: backup } : { ...flags, at: backup };
    const opened = await openBackup(select, ctx);
    return { storage: opened.storage, backup: opened.backup };
  }
  const to = choice.at.getTime();
  const from = /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(backup)
    ? to - 86_400_000 + 1
    : parseAt(backup).getTime();
  const storage = openFrom(flags, ctx);
  const { backups, unreadable } = await findBackups(storage, flags.workload, ctx);
  if (backups.length === 0) throw noBackupError(storage, flags.workload, unreadable.length);
  if (flags.workload === undefined) onlyWorkload(backups, storage.description);
  const found = backups.find((b) => b.time.getTime() >= from && b.time.getTime() <= to);
  if (!found)
    throw new UserError(
      `no backup at ${backup.trim()} in ${storage.description}` +
        `${flags.workload ? ` for ${flags.workload}` : ''} (give a TIME or key as list prints it)`,
    );
  return { storage, backup: found };
}

export async function keep(arg: string, flags: NamedFlags, ctx: CliContext): Promise<void> {
  const { storage, backup } = await namedBackup(arg, flags, ctx);
  const done = await keepBackup(storage, backup, new Date());
  ctx.stdout.write(
    `${done ? 'kept' : 'already kept'}: ${storage.description}${backup.manifestKey} ` +
      `(${backup.workload}, ${backup.time.toISOString()}); retention will not delete it\n`,
  );
}

export async function unkeep(arg: string, flags: NamedFlags, ctx: CliContext): Promise<void> {
  const { storage, backup } = await namedBackup(arg, flags, ctx);
  const done = await unkeepBackup(storage, backup);
  ctx.stdout.write(
    `${done ? 'no longer kept' : 'was not kept'}: ${storage.description}${backup.manifestKey} ` +
      `(${backup.workload}, ${backup.time.toISOString()}); the retention policy decides again\n`,
  );
}
