/**
 * One backup run, shared by `dump` (the CronJob) and `backup <url>` (a
 * workstation): every database streamed to its own object, then the
 * manifest, written last — a backup without it does not exist for list,
 * restore or retention. A run that fails removes the objects it already
 * stored, so it leaves nothing behind.
 */
import type { DumpTarget, Engine, EngineContext, SpawnFn } from '../../dumpers/types.js';
import { UserError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  MANIFEST_NAME,
  MANIFEST_SCHEMA_VERSION,
  manifestSchema,
  type Manifest,
} from '../manifest.js';
import { ContentsCounter, countedDump } from '../contents/stage.js';
import type { DatabaseContents } from '../contents/types.js';
import { storeDump, type StoredDump } from '../pipeline/store.js';
import { formatBytes, type Progress } from '../pipeline/progress.js';
import {
  DEFAULT_COMPRESSION,
  compressionExtension,
  formatCompression,
  zstdProgram,
  type Compression,
} from '../pipeline/compression.js';
import type { Storage } from '../storage/types.js';
import { VERSION } from '../version.js';
import { manifestKeyFor, randomSuffix, renderKey, workloadPrefix } from './key.js';
import { abortStale, compareWithPrevious, listHistory, retain } from './after-backup.js';
import type { SuccessResult } from '../contract/dump-result.js';

export interface Workload {
  namespace: string;
  kind: string;
  name: string;
}

export interface BackupRequest {
  engine: Engine;
  target: DumpTarget;
  storage: Storage;
  /** age recipients, already validated; empty: no encryption. */
  recipients: string[];
  /** Default gzip:6. */
  compression?: Compression;
  /** Cores the compressor may use; default: the cores this process is given. */
  threads?: number;
  keyTemplate: string;
  workload: Workload;
  log: Logger;
  signal: AbortSignal;
  now?: () => Date;
  /** The random part of the backup's identity; tests choose it to make two runs collide. */
  randomSuffix?: () => string;
  spawn?: SpawnFn;
  progressIntervalMs?: number;
  /**
   * Where each database's progress goes (the CLI's terminal line). When
   * given, each database's size is asked from the server first, for a
   * percentage and an ETA.
   */
  progress?: Progress;
  /** Retention policy applied to the workload's prefix after success; '' or absent keeps everything. */
  retention?: string;
  /** BackupShrank: warn when rows or bytes fell by more than this fraction (default 0.5). */
  shrinkThreshold?: number;
  /** After success, incomplete uploads under the workload's prefix older than this are aborted (default 24 h). */
  staleUploadAgeMs?: number;
}

/** The databases a target names, as the run iterates them. */
export function databasesOf(target: DumpTarget): string[] {
  if (target.databases === '*') return ['*'];
  if (target.databases.length === 0) {
    throw new UserError(
      'no database to dump: name one in the URL path, or pass --databases (or *)',
    );
  }
  return target.databases;
}

export async function runBackup(req: BackupRequest): Promise<SuccessResult> {
  const now = req.now ?? (() => new Date());
  const started = now();
  const suffix = (req.randomSuffix ?? randomSuffix)();
  const databases = databasesOf(req.target);
  const output = req.engine.output(req.target);
  const compression = req.compression ?? DEFAULT_COMPRESSION;
  // Before anything is dumped: a missing zstd program fails now, not after the dump.
  if (compression.type === 'zstd') zstdProgram();
  const ext = `${output.extension}.${compressionExtension(compression.type)}${req.recipients.length > 0 ? '.age' : ''}`;
  const ctx: EngineContext = { signal: req.signal, log: req.log };
  if (req.spawn) ctx.spawn = req.spawn;
  const log = req.log.child({
    workload: `${req.workload.namespace}/${req.workload.name}`,
    type: req.engine.type,
  });

  const serverVersion = await req.engine.serverVersion(req.target, ctx);
  const client = await req.engine.client(req.target, ctx);
  log.info('backup started', {
    server: serverVersion,
    client: `${client.tool} ${client.version}`,
    databases: databases.join(','),
    encrypted: req.recipients.length > 0,
    compression: formatCompression(compression),
    storage: req.storage.description,
  });

  const stored: (StoredDump & { database: string })[] = [];
  const contents: DatabaseContents[] = [];
  let result: SuccessResult;
  try {
    for (const database of databases) {
      const key = renderKey(req.keyTemplate, {
        namespace: req.workload.namespace,
        workload: req.workload.name,
        kind: req.workload.kind,
        type: req.engine.type,
        time: started,
        suffix,
        database,
        ext,
      });
      const estimatedBytes = req.progress ? await estimateSize(req, database, ctx, log) : undefined;
      const counter = new ContentsCounter(req.engine.type, output.format, database);
      const dump = countedDump(req.engine.dump(req.target, database, ctx), counter);
      const result = await storeDump({
        dump,
        tool: client.tool,
        storage: req.storage,
        key,
        recipients: req.recipients,
        compression,
        ...(req.threads !== undefined ? { threads: req.threads } : {}),
        log: log.child({ database }),
        signal: req.signal,
        progressIntervalMs: req.progressIntervalMs,
        progress: req.progress,
        progressLabel: `dumping ${database === '*' ? 'all databases' : database}`,
        estimatedBytes,
      });
      stored.push({ ...result, database });
      const held = counter.contents(key, database);
      contents.push(...held);
      log.info('database stored', {
        database,
        key,
        read: formatBytes(result.rawBytes),
        stored: formatBytes(result.bytes),
        sha256: result.sha256,
        ...summarize(held),
      });
    }

    const finished = now();
    const manifestKey = manifestKeyFor(stored[0]!.key, MANIFEST_NAME);
    const manifest: Manifest = manifestSchema.parse({
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      workload: req.workload,
      engine: req.engine.type,
      databases,
      server: { version: serverVersion },
      client,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      objects: stored.map((s) => ({
        database: s.database,
        key: s.key,
        rawBytes: s.rawBytes,
        bytes: s.bytes,
        sha256: s.sha256,
        format: output.format,
        compression: compression.type,
        compressionLevel: compression.level,
      })),
      compression: compression.type,
      encryption: req.recipients.length > 0 ? { type: 'age', recipients: req.recipients } : null,
      snapkeeperVersion: VERSION,
      contents,
    } satisfies Manifest);
    // Never over another run's manifest: the loser of a race fails here,
    // loudly, and removes only the objects it created itself (exclusively).
    await req.storage.put(manifestKey, JSON.stringify(manifest, null, 2) + '\n', {
      contentType: 'application/json',
      exclusive: true,
    });

    result = {
      ok: true,
      manifestKey,
      objects: stored.map((s) => ({ key: s.key, bytes: s.bytes, sha256: s.sha256 })),
      bytes: stored.reduce((n, s) => n + s.bytes, 0),
      rawBytes: stored.reduce((n, s) => n + s.rawBytes, 0),
      durationSeconds: (finished.getTime() - started.getTime()) / 1000,
      serverVersion,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
    };
  } catch (err) {
    if (stored.length > 0) {
      // Objects of a run that failed would only ever be orphans: remove them.
      await req.storage.delete(stored.map((s) => s.key)).catch((e: unknown) =>
        log.warn('could not remove the objects of the failed run', {
          keys: stored.map((s) => s.key),
          error: describeError(e),
        }),
      );
    }
    throw err;
  }
  // After the manifest: the backup exists now, whatever the checks below
  // find. The workload's prefix is listed once, for all of them.
  const prefix = workloadPrefix(req.keyTemplate, {
    namespace: req.workload.namespace,
    workload: req.workload.name,
    kind: req.workload.kind,
    type: req.engine.type,
  });
  const history = await listHistory(req, prefix);
  const shrank = compareWithPrevious(req, history, result.manifestKey, started, log);
  if (shrank) result.shrank = shrank;
  if (req.retention && req.retention.trim() !== '') {
    result.retention = await retain(
      req,
      prefix,
      history,
      result.manifestKey,
      new Date(result.finishedAt),
      log,
    );
  }
  await abortStale(req, prefix, now(), log);
  log.info('backup succeeded', {
    manifest: result.manifestKey,
    stored: formatBytes(result.bytes),
    durationSeconds: result.durationSeconds,
  });
  return result;
}

/** The database's size on the server, or nothing: an estimate is never worth failing a backup. */
async function estimateSize(
  req: BackupRequest,
  database: string,
  ctx: EngineContext,
  log: Logger,
): Promise<number | undefined> {
  if (!req.engine.sizeEstimate) return undefined;
  try {
    const n = await req.engine.sizeEstimate(req.target, database, ctx);
    return n > 0 ? n : undefined;
  } catch (err) {
    log.debug('no size estimate', { database, error: describeError(err) });
    return undefined;
  }
}

/** Tables and rows counted in a database's dump, for the log line; why not, when not counted. */
function summarize(held: DatabaseContents[]): Record<string, unknown> {
  const uncounted = held.find((h) => h.uncounted !== undefined)?.uncounted;
  if (uncounted !== undefined) return { uncounted };
  const tables = held.flatMap((h) => h.tables ?? []);
  return { tables: tables.length, rows: tables.reduce((n, t) => n + t.rows, 0) };
}
