/**
 * `snapkeeper restore`: one backup back into a database (`--to <url>`) or to
 * standard output (`--stdout`), streamed: download → sha256 → [age] →
 * gunzip or zstd -d.
 *
 * With `--to`, the sha256 is checked while streaming wherever the engine
 * can undo a restore (Engine.restoreIsAtomic: one transaction, or a
 * database the restore creates): a mismatch found at the end fails the
 * tool's input before its end-of-file, so the tool is stopped and the
 * restore rolled back (the created database dropped). Elsewhere (MySQL into
 * an existing database, all-databases dumps, Elasticsearch) a restore tool
 * applies what it reads as it reads it, so each object is first downloaded
 * once and checked, and only then downloaded again and restored. With
 * `--stdout` the check runs while streaming (nothing is kept to read
 * twice); a mismatch fails the command (exit 1) after the bytes went out.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getEngine, type Engine } from '../../dumpers/index.js';
import type { DumpTarget } from '../../dumpers/types.js';
import { chooseBackup, onlyWorkload, parseAtChoice, type Choice } from '../backups/choose.js';
import { listBackups, type BackupEntry } from '../backups/list.js';
import { locateBackup, readBackupAt } from '../backups/locate.js';
import {
  ChecksumError,
  checkIdentities,
  checkObject,
  explainReadError,
  openObject,
  plainStages,
  type StoredObject,
} from '../backups/read.js';
import { identitiesMatch } from '../crypto/age.js';
import { parseDbUrl, withPasswordFromEnv } from '../dburl.js';
import { OutputClosedError, UserError } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import type { EngineType } from '../manifest.js';
import { countingStorage, formatBytes, noProgress, type Progress } from '../pipeline/progress.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';
import { progressOf, type CliContext } from './context.js';
import { readIdentities } from './key-files.js';
import { forwardTo } from './output.js';
import { askPasswordIfNeeded } from './password.js';
import { addFromFlags, collect, openFrom, type FromFlags } from './storage-flags.js';

export interface SelectFlags extends FromFlags {
  workload?: string;
  at?: string;
  key?: string;
}

export interface RestoreFlags extends SelectFlags {
  identity: string[];
  to?: string;
  stdout?: boolean;
  database?: string;
}

export function register(program: Command, ctx: CliContext): void {
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
    .action((flags: RestoreFlags) => restore(flags, ctx));
}

export function addSelectFlags(cmd: Command): Command {
  return cmd
    .option(
      '--workload <namespace/name>',
      'whose backup; not needed when the location holds backups of one workload',
    )
    .option(
      '--at <time>',
      'the newest backup at or before this time (UTC ISO 8601, e.g. 2026-11-20T03:00Z, ' +
        'as list prints it), latest, or now',
    )
    .option(
      '--key <key>',
      'this backup: its manifest key, its directory (or its last segment), or one of its objects; ' +
        'or its full location as backup prints it (s3://… or a path), which implies --from',
    );
}

/** The checks that need no network: every user mistake is reported before anything is contacted. */
export function parseSelect(flags: SelectFlags): Choice {
  if (flags.at !== undefined && flags.key !== undefined)
    throw new UserError('give --at or --key, not both');
  if (flags.at !== undefined) return parseAtChoice(flags.at);
  return { key: flags.key };
}

export { readIdentities };

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

export async function restore(flags: RestoreFlags, ctx: CliContext): Promise<void> {
  if (flags.to !== undefined && flags.stdout)
    throw new UserError('give --to <url> or --stdout, not both');
  if (flags.to === undefined && !flags.stdout)
    throw new UserError('where to? pass --to <database url> or --stdout');
  parseSelect(flags);
  const db =
    flags.to !== undefined ? withPasswordFromEnv(parseDbUrl(flags.to), ctx.env) : undefined;
  const identities = await readIdentities(flags.identity);
  const { storage, flags: selected } = await openSelected(flags, ctx);

  const backup = await selectBackup(storage, selected, ctx);
  const m = backup.manifest;
  checkIdentities(m, identities);
  await refuseWrongIdentity(backup, identities, flags.identity);
  let objects = m.objects;
  if (flags.database !== undefined) {
    objects = objects.filter((o) => o.database === flags.database);
    if (objects.length === 0)
      throw new UserError(
        `backup ${backup.manifestKey} has no database ${JSON.stringify(flags.database)} ` +
          `(it has ${m.objects.map((o) => o.database).join(', ')})`,
      );
  }
  const log = ctx.log.child({ backup: backup.manifestKey });

  if (!db) {
    if (objects.length > 1)
      throw new UserError(
        `backup ${backup.manifestKey} holds ${objects.length} databases (${objects.map((o) => o.database).join(', ')}): ` +
          'choose one with --database',
      );
    const obj = objects[0]!;
    const read = { bytes: 0 };
    const stop = progressOf(ctx).start({
      label: `writing ${obj.database} to standard output`,
      message: 'restore in progress',
      main: { name: 'read', bytes: () => read.bytes },
      total: obj.bytes,
    });
    try {
      await streamObject(
        countingStorage(storage, read),
        backup,
        obj,
        identities,
        forwardTo(ctx.stdout),
        ctx.signal,
      );
    } finally {
      stop();
    }
    log.info('restored to stdout', { key: obj.key });
    return;
  }

  if (!compatible(db.engine, m.engine))
    throw new UserError(
      `the backup is a ${m.engine} dump; ${redactUrl(flags.to!)} is a ${db.engine} URL`,
    );
  const urlDb = db.target.databases === '*' ? undefined : db.target.databases[0];
  if (urlDb !== undefined && objects.length > 1)
    throw new UserError(
      `backup ${backup.manifestKey} holds ${objects.length} databases and the URL names one: choose with --database`,
    );
  const engine = getEngine(m.engine);
  await askPasswordIfNeeded(engine, db.target, ctx);
  // Every target is checked before anything is downloaded or created.
  for (const obj of objects) await refuseNonEmpty(engine, db.target, urlDb ?? obj.database, ctx);
  const progress = progressOf(ctx);
  for (const [i, obj] of objects.entries()) {
    await restoreObject(
      storage,
      backup,
      obj,
      identities,
      engine,
      db.target,
      urlDb ?? obj.database,
      {
        signal: ctx.signal,
        log,
        to: redactUrl(flags.to!),
        progress,
        which: objects.length > 1 ? ` (database ${i + 1} of ${objects.length})` : '',
      },
    );
  }
}

/**
 * One object of a backup into `into` on `target`: its sha256 checked first
 * (a whole download), then streamed into the engine's restore. Shared by
 * `restore --to` and `restore-test`.
 */
export async function restoreObject(
  storage: Storage,
  backup: BackupEntry,
  obj: StoredObject,
  identities: readonly string[],
  engine: Engine,
  target: DumpTarget,
  into: string,
  o: { signal: AbortSignal; log: Logger; to: string; progress?: Progress; which?: string },
): Promise<void> {
  const olog = o.log.child({ key: obj.key, database: into });
  const progress = o.progress ?? noProgress;
  const which = o.which ?? '';
  // Where the restore can be rolled back, the sha256 is checked while the
  // object streams; elsewhere it is checked first, in a pass of its own.
  const atomic =
    (await engine.restoreIsAtomic?.(target, into, { signal: o.signal, log: olog })) ?? false;
  if (!atomic) {
    olog.info('checking sha256 before restoring', { bytes: obj.bytes });
    const checked = { bytes: 0 };
    const stopCheck = progress.start({
      label: `1/2 checking sha256 of ${obj.database}${which}`,
      message: 'sha256 check in progress',
      main: { name: 'read', bytes: () => checked.bytes },
      total: obj.bytes,
    });
    try {
      await checkObject(countingStorage(storage, checked), obj, o.signal);
    } finally {
      stopCheck();
    }
  }
  olog.info('restoring', {
    to: o.to,
    sha256: atomic ? 'checked while streaming; rolled back on a mismatch' : 'checked',
  });
  const started = Date.now();
  const read = { bytes: 0 };
  let plain = 0;
  // What the restore tool reads, counted as it goes.
  const input = new Transform({
    transform(chunk: Buffer, _enc, done) {
      plain += chunk.length;
      done(null, chunk);
    },
  });
  // Its error is the one recorded in `first`; without this listener, a
  // restore tool that fails while the download is still being opened would
  // destroy `input` before anything listens to it (an uncaught exception).
  input.on('error', () => undefined);
  // Whichever side fails first has the real reason; the other side fails
  // because of it (a dead tool stops reading, a broken download ends its input).
  let first: unknown;
  let streamFailedFirst = false;
  const note = (err: unknown): never => {
    first ??= err;
    input.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  };
  const stopRestore = progress.start({
    label: atomic ? `restoring into ${into}${which}` : `2/2 restoring into ${into}${which}`,
    message: 'restore in progress',
    main: { name: 'read', bytes: () => read.bytes },
    second: { name: 'plain', bytes: () => plain },
    total: obj.bytes,
  });
  try {
    await Promise.allSettled([
      streamObject(countingStorage(storage, read), backup, obj, identities, input, o.signal).catch(
        (err: unknown) => {
          if (first === undefined) streamFailedFirst = true;
          return note(err);
        },
      ),
      engine
        .restore(target, into, input, { signal: o.signal, log: olog, format: obj.format })
        .catch(note),
    ]);
  } finally {
    stopRestore();
  }
  if (first !== undefined) {
    // Checked while streaming, the object's damage may show first as an age
    // or decompression error: the sha256 names the cause (the restore is
    // rolled back either way).
    if (atomic && streamFailedFirst && !(first instanceof ChecksumError) && !o.signal.aborted)
      await checkObject(storage, obj, o.signal).catch((err: unknown) => {
        if (err instanceof ChecksumError) first = err;
      });
    throw first;
  }
  olog.info('restored', {
    rawBytes: formatBytes(obj.rawBytes),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
}

/**
 * A dump restored over existing tables fails half-way (PostgreSQL: `relation
 * … already exists`) or silently replaces them (MySQL / MariaDB dumps drop
 * each table first): either way, a non-empty target is refused up front.
 */
export async function refuseNonEmpty(
  engine: Engine,
  target: DumpTarget,
  database: string,
  ctx: { signal: AbortSignal; log: Logger },
): Promise<void> {
  const found = await engine.restoreConflicts?.(target, database, {
    signal: ctx.signal,
    log: ctx.log,
  });
  if (!found || found.count === 0) return;
  const more =
    found.count > found.names.length ? ` and ${found.count - found.names.length} more` : '';
  throw new UserError(
    `database ${JSON.stringify(database)} is not empty ` +
      `(${found.names.join(', ')}${more}): restore into a new database (it is created) ` +
      'or an empty one, or drop these first',
  );
}

/** mysql and mariadb dumps restore into each other's servers; the rest only into their own. */
function compatible(url: EngineType, dump: EngineType): boolean {
  const family = (e: EngineType) => (e === 'mariadb' ? 'mysql' : e);
  return family(url) === family(dump);
}

/** Download → sha256 → [age] → gunzip or zstd -d → sink. */
export async function streamObject(
  storage: Storage,
  backup: BackupEntry,
  obj: StoredObject,
  identities: readonly string[],
  sink: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<void> {
  const { stages } = plainStages(backup.manifest, obj, identities);
  const source = await openObject(storage, obj, stages, signal);
  try {
    await pipeline([source, ...stages, sink] as unknown as [Readable, Writable], { signal });
  } catch (err) {
    // A closed standard output is not a read error of the object.
    if (err instanceof OutputClosedError) throw err;
    throw explainReadError(err, obj.key);
  }
}
