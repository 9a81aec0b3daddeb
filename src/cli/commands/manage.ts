/**
 * Registering the commands that look at and manage stored backups: list,
 * prune, delete, keep / unkeep, describe, diff. Only their flags and help:
 * what each does loads when it runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { DeleteFlags } from '../delete.js';
import type { DescribeFlags } from '../describe.js';
import type { DiffFlags } from '../diff.js';
import { BACKUP_ARGUMENT, addFromFlags, addNamedFlags, type NamedFlags } from '../flags.js';
import type { ListFlags } from '../list.js';
import type { PruneFlags } from '../prune.js';

export function registerList(program: Command, ctx: CliContext): void {
  addFromFlags(
    program.command('list').description('list backups (those with a manifest), newest first'),
  )
    .option('--workload <namespace/name>', "only this workload's backups")
    .option(
      '-o, --output <format>',
      'table, wide (one row per object, with its key and sha256) or json',
      'table',
    )
    .action(async (flags: ListFlags) => (await import('../list.js')).list(flags, ctx));
}

export function registerPrune(program: Command, ctx: CliContext): void {
  addFromFlags(
    program
      .command('prune')
      .description('apply a retention policy to a workload prefix (--dry-run lists what would go)'),
  )
    .option('--workload <namespace/name>', 'whose backups (required)')
    .option(
      '--retention <policy>',
      'e.g. keep-last=7,keep-daily=14 or max-age=30d (default SNAPKEEPER_RETENTION)',
    )
    .option('--dry-run', 'only list what would be deleted')
    .option(
      '--abort-uploads-older-than <age>',
      'abort the uploads a killed backup left open under the prefix, when older than this (e.g. 24h, 90m, 2d)',
      '24h',
    )
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (flags: PruneFlags) => (await import('../prune.js')).prune(flags, ctx));
}

export function registerDelete(program: Command, ctx: CliContext): void {
  addNamedFlags(
    program
      .command('delete')
      .description('delete one backup: its objects, then its manifest (asks first)')
      .argument('<backup>', BACKUP_ARGUMENT),
  )
    .option('-y, --yes', 'do not ask (needed when not in a terminal)')
    .action(async (backup: string, flags: DeleteFlags) =>
      (await import('../delete.js')).del(backup, flags, ctx),
    );
}

export function registerKeep(program: Command, ctx: CliContext): void {
  addNamedFlags(
    program
      .command('keep')
      .description('keep a backup forever, whatever the retention policy says')
      .argument('<backup>', BACKUP_ARGUMENT),
  ).action(async (backup: string, flags: NamedFlags) =>
    (await import('../keep.js')).keep(backup, flags, ctx),
  );
  addNamedFlags(
    program
      .command('unkeep')
      .description('let the retention policy decide about a kept backup again')
      .argument('<backup>', BACKUP_ARGUMENT),
  ).action(async (backup: string, flags: NamedFlags) =>
    (await import('../keep.js')).unkeep(backup, flags, ctx),
  );
}

export function registerDescribe(program: Command, ctx: CliContext): void {
  addFromFlags(
    program
      .command('describe')
      .description(
        'what one backup holds: versions, databases, tables with rows, sizes, recipients, restore test',
      )
      .argument(
        '[backup]',
        'a time, key or manifest location as list or backup prints it (default: the newest)',
      ),
  )
    .option('--workload <namespace/name>', 'whose backup, when the location holds several')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (backup: string | undefined, flags: DescribeFlags) =>
      (await import('../describe.js')).describe(backup, flags, ctx),
    );
}

export function registerDiff(program: Command, ctx: CliContext): void {
  addFromFlags(
    program
      .command('diff')
      .description(
        'what changed between two backups: tables and objects added or removed, rows, sizes',
      )
      .argument('<a>', 'the earlier backup: a time, key or manifest location as list prints it')
      .argument('<b>', 'the later backup'),
  )
    .option('--workload <namespace/name>', 'whose backups, when the location holds several')
    .option(
      '--shrink-threshold <fraction>',
      'warn (BackupShrank) when the second backup lost more than this of the rows or bytes',
      '50%',
    )
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (a: string, b: string, flags: DiffFlags) =>
      (await import('../diff.js')).diff(a, b, flags, ctx),
    );
}
