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
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getEngine, type Engine } from '../../dumpers/index.js';
import type { DumpTarget } from '../../dumpers/types.js';
import type { BackupEntry } from '../backups/list.js';
import {
  ChecksumError,
  checkObject,
  explainReadError,
  openObject,
  plainStages,
  type StoredObject,
} from '../backups/read.js';
import { parseDbUrl, withPasswordFromEnv } from '../dburl.js';
import { OutputClosedError, UserError } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import type { EngineType } from '../manifest.js';
import { countingStorage, formatBytes, noProgress, type Progress } from '../pipeline/progress.js';
import type { Storage } from '../storage/types.js';
import { progressOf, type CliContext } from './context.js';
import { forwardTo } from './output.js';
import { askPasswordIfNeeded } from './password.js';
import type { SelectFlags } from './flags.js';
import { openBackup, parseSelect } from './select.js';

export interface RestoreFlags extends SelectFlags {
  identity: string[];
  to?: string;
  stdout?: boolean;
  database?: string;
}

export async function restore(flags: RestoreFlags, ctx: CliContext): Promise<void> {
  if (flags.to !== undefined && flags.stdout)
    throw new UserError('give --to <url> or --stdout, not both');
  if (flags.to === undefined && !flags.stdout)
    throw new UserError('where to? pass --to <database url> or --stdout');
  parseSelect(flags);
  const db =
    flags.to !== undefined ? withPasswordFromEnv(parseDbUrl(flags.to), ctx.env) : undefined;
  const { storage, backup, identities } = await openBackup(flags, ctx, {
    identityFiles: flags.identity,
    requireIdentity: true,
  });
  const m = backup.manifest;
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
export function compatible(url: EngineType, dump: EngineType): boolean {
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
