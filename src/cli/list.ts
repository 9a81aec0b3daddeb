/** `snapkeeper list`: the backups that have a manifest, newest first. */
import type { Command } from 'commander';
import { isIncomplete, listBackups, type BackupEntry } from '../backups/list.js';
import { formatBytes } from '../pipeline/progress.js';
import type { CliContext } from './context.js';
import {
  addFromFlags,
  checkOutput,
  formatTable,
  openFrom,
  type FromFlags,
} from './storage-flags.js';

export interface ListFlags extends FromFlags {
  workload?: string;
  output: string;
}

export function register(program: Command, ctx: CliContext): void {
  addFromFlags(
    program.command('list').description('list backups (those with a manifest), newest first'),
  )
    .option('--workload <namespace/name>', "only this workload's backups")
    .option('-o, --output <format>', 'table or json', 'table')
    .action((flags: ListFlags) => list(flags, ctx));
}

export async function list(flags: ListFlags, ctx: CliContext): Promise<void> {
  const output = checkOutput(flags.output);
  const storage = openFrom(flags, ctx);
  const backups = await listBackups(storage, {
    workload: flags.workload,
    onSkip: (key, why, unreadable) =>
      unreadable
        ? ctx.log.warn('skipped a manifest that cannot be read', { key, why })
        : ctx.log.debug('skipped manifest', { key, why }),
  });
  if (output === 'json') {
    ctx.stdout.write(JSON.stringify(backups.map(toJson)) + '\n');
    return;
  }
  if (backups.length === 0) {
    ctx.stderr.write(
      `no backups in ${storage.description}${flags.workload ? ` for ${flags.workload}` : ''}\n`,
    );
    return;
  }
  const rows = backups.flatMap((b) =>
    b.manifest.objects.map((o) => [
      // To the millisecond: two backups can start in one second, and a TIME
      // typed back into --at must select its own row.
      b.time.toISOString(),
      b.workload,
      b.manifest.engine,
      o.database,
      formatBytes(o.bytes),
      o.sha256.slice(0, 12),
      b.manifest.encryption ? 'age' : 'no',
      b.kept ? 'keep' : '',
      o.key,
    ]),
  );
  ctx.stdout.write(
    formatTable(
      ['TIME', 'WORKLOAD', 'ENGINE', 'DATABASE', 'SIZE', 'SHA256', 'ENCRYPTED', 'KEPT', 'KEY'],
      rows,
    ),
  );
}

function toJson(b: BackupEntry) {
  return {
    time: b.time.toISOString(),
    workload: b.workload,
    manifestKey: b.manifestKey,
    engine: b.manifest.engine,
    serverVersion: b.manifest.server.version,
    bytes: b.bytes,
    encrypted: b.manifest.encryption !== null,
    kept: b.kept ?? false,
    incomplete: isIncomplete(b),
    objects: b.manifest.objects,
  };
}
