/**
 * Registering the commands that make and read backups: backup, restore,
 * decrypt, verify, restore-test (`dump` registers itself, in src/cli/dump.ts). Only their flags and help: what
 * each does (and the AWS SDK, age, the dumpers it needs) loads when it runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_KEY_TEMPLATE } from '../../contract/key-template.js';
import type { BackupFlags } from '../backup.js';
import type { DecryptFlags } from '../decrypt.js';
import { addFromFlags, addSelectFlags, collect } from '../flags.js';
import type { RestoreTestFlags } from '../restore-test.js';
import type { RestoreFlags } from '../restore.js';
import type { VerifyFlags } from '../verify.js';

export function registerBackup(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .description('one-shot backup of a database URL to a directory or s3://bucket/prefix')
    .argument(
      '<url>',
      'postgresql://user[:pass]@host:5432/db, mysql://…, mariadb://… (password also from SNAPKEEPER_PASSWORD, PGPASSWORD, MYSQL_PWD)',
    )
    .option('--to <location>', 'directory or s3://bucket/prefix', './backups')
    .option('--recipient <age1…>', 'encrypt to this age recipient (repeatable)', collect, [])
    .option(
      '-R, --recipients-file <file>',
      'encrypt to the age recipients in this file, one per line, # comments (repeatable; as age -R)',
      collect,
      [],
    )
    .option('--name <namespace/workload>', 'where the backup is filed (default local/<host>)')
    .option('--retention <policy>', 'apply a retention policy afterwards, e.g. keep-last=7')
    .option('--endpoint <url>', 'S3 endpoint (default AWS_ENDPOINT_URL_S3)')
    .option('--region <region>', 'S3 region (default AWS_REGION)')
    .option('--force-path-style', 'path-style S3 addressing (MinIO and the like)')
    .option('--databases <list>', 'comma list of databases, or * for all (overrides the URL)')
    .option('--dump-option <arg>', 'extra argument for the dump tool (repeatable)', collect, [])
    .option('--client-version <major>', 'dump client major version')
    .option('--key-template <template>', 'storage key layout', DEFAULT_KEY_TEMPLATE)
    .option(
      '--compression <how>',
      'gzip, gzip:<1-9>, zstd or zstd:<1-19> (zstd needs the zstd program)',
      'gzip:6',
    )
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (url: string, flags: BackupFlags) =>
      (await import('../backup.js')).backup(url, flags, ctx),
    );
}

export function registerRestore(program: Command, ctx: CliContext): void {
  addSelectFlags(
    addFromFlags(
      program
        .command('restore')
        .description('restore a backup into a database (--to) or to standard output (--stdout)'),
    ),
  )
    .option(
      '-i, --identity <file>',
      'age identity file, for encrypted backups (repeatable)',
      collect,
      [],
    )
    .option('--to <url>', 'database URL to restore into, e.g. postgresql://user@host/db')
    .option('--stdout', 'write the plain dump (SQL or archive) to standard output')
    .option('--database <name>', 'which database of the backup, when it holds several')
    .action(async (flags: RestoreFlags) => (await import('../restore.js')).restore(flags, ctx));
}

export function registerDecrypt(program: Command, ctx: CliContext): void {
  program
    .command('decrypt')
    .description(
      'decrypt an age file (like age -d -i key.txt), for when the age binary is not at hand',
    )
    .argument('<file>', 'the encrypted file, or - for standard input')
    .option('-i, --identity <file>', 'age identity file (repeatable)', collect, [])
    .option('-o, --output <file>', 'write here instead of standard output')
    .action(async (file: string, flags: DecryptFlags) =>
      (await import('../decrypt.js')).decrypt(file, flags, ctx),
    );
}

export function registerVerify(program: Command, ctx: CliContext): void {
  addSelectFlags(
    addFromFlags(
      program
        .command('verify')
        .description(
          'download, check sha256, decrypt and decompress a backup end to end, and report',
        ),
    ),
  )
    .option('-i, --identity <file>', 'age identity file, to decrypt (repeatable)', collect, [])
    .option('--all', 'verify every backup of the workload, not only the chosen one')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (flags: VerifyFlags) => (await import('../verify.js')).verify(flags, ctx));
}

export function registerRestoreTest(program: Command, ctx: CliContext): void {
  addSelectFlags(
    addFromFlags(
      program
        .command('restore-test')
        .description(
          'restore a backup into a scratch server started for the purpose (or --to), compare ' +
            'rows and schema objects with the manifest, run --check queries; exit 1 on a difference',
        ),
    ),
  )
    .option(
      '-i, --identity <file>',
      'age identity file, for encrypted backups (repeatable)',
      collect,
      [],
    )
    .option(
      '--to <url>',
      'restore into this throwaway server instead of a scratch one (needed for Elasticsearch)',
    )
    .option(
      '--check <sql>',
      'a query whose first column must be true after the restore (repeatable), e.g. ' +
        `"select max(created_at) > now() - interval '2 days' from orders"`,
      collect,
      [],
    )
    .option('--database <name>', 'test only this database of the backup (and run the checks there)')
    .option('--no-store', 'do not store the result beside the manifest (restore-test.json)')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (flags: RestoreTestFlags) =>
      (await import('../restore-test.js')).restoreTestCommand(flags, ctx),
    );
}
