/**
 * One restore test: the backup's objects checked (sha256), restored into a
 * scratch server started for the purpose (or the user's throwaway server,
 * `--to`), counted, compared with the manifest, the user's checks run; the
 * scratch server stopped and its directory removed whatever happened.
 * An Elasticsearch backup without `--to` gets the archive checks: read to
 * its end, decrypted, decompressed, its documents counted and compared.
 */
import type { Progress } from '../pipeline/progress.js';
import { Writable } from 'node:stream';
import { getEngine } from '../../dumpers/index.js';
import type { DumpTarget } from '../../dumpers/types.js';
import type { BackupEntry } from '../backups/list.js';
import { streamPlain, type StoredObject } from '../backups/read.js';
import { refuseNonEmpty, restoreObject } from '../cli/restore.js';
import { ArchiveScanner } from '../contents/archive-scan.js';
import { SqlScanner } from '../contents/sql-scan.js';
import type { DatabaseContents } from '../contents/types.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';
import { VERSION } from '../version.js';
import { compareDatabase, type DatabaseComparison } from './compare.js';
import { countArchive } from './archive-sql.js';
import { createPgRoles, inspectDatabase, runCheck } from './inspect.js';
import { RESTORE_TEST_SCHEMA_VERSION, type RestoreTestResult } from './result.js';
import { startScratchServer, type ScratchServer } from './scratch.js';

export interface RestoreTestRequest {
  storage: Storage;
  backup: BackupEntry;
  objects: StoredObject[];
  identities: string[];
  /** The user's server (`--to`), with the database the URL names, if any. */
  to?: { target: DumpTarget; database?: string; description: string };
  checks: string[];
  /** Where the checks run; default the first database restored. */
  checkDatabase?: string;
  log: Logger;
  signal: AbortSignal;
  /** Where the restore's progress goes (the CLI's terminal line); default none. */
  progress?: Progress;
  now?: () => Date;
  /** Called once the scratch server runs (tests: interrupt it there). */
  onScratch?: (server: ScratchServer) => void;
}

export async function runRestoreTest(req: RestoreTestRequest): Promise<RestoreTestResult> {
  const now = req.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const m = req.backup.manifest;
  const base = {
    schemaVersion: RESTORE_TEST_SCHEMA_VERSION,
    backup: req.backup.manifestKey,
    startedAt,
    snapkeeperVersion: VERSION,
  } as const;
  if (m.engine === 'elasticsearch' && !req.to) {
    const r = await archiveChecks(req);
    return { ...base, finishedAt: now().toISOString(), ...r };
  }

  const engine = getEngine(m.engine);
  let scratch: ScratchServer | undefined;
  try {
    let target: DumpTarget;
    let server: string;
    if (req.to) {
      target = req.to.target;
      server = req.to.description;
      for (const obj of req.objects)
        await refuseNonEmpty(engine, target, req.to.database ?? obj.database, {
          signal: req.signal,
          log: req.log,
        });
    } else {
      scratch = await startScratchServer(m.engine, { signal: req.signal, log: req.log });
      req.onScratch?.(scratch);
      target = scratch.target;
      server = scratch.description;
    }
    const databases: DatabaseComparison[] = [];
    const mismatches: string[] = [];
    let firstDatabase: string | undefined;
    const archiveNotes: string[] = [];
    for (const obj of req.objects) {
      const into = req.to?.database ?? obj.database;
      // What the backup holds: counted at backup time, or (a pg_dump
      // custom/tar archive, whose data pg_dump compressed) from the archive now.
      let expected: DatabaseContents[] = (m.contents ?? []).filter((c) => c.key === obj.key);
      const archive = m.engine === 'postgresql' && obj.format !== 'sql';
      if (archive) {
        const counts = await countArchive(req.storage, m, obj, req.identities, req.signal);
        expected = counts.map((c) => ({ key: obj.key, ...c }));
        archiveNotes.push(
          `${obj.key}: a pg_dump ${obj.format} archive is not counted at backup time; ` +
            'its counts were read from the archive by pg_restore now',
        );
      }
      if (scratch && m.engine === 'postgresql') {
        // A fresh server has only its superuser; the dump's ALTER … OWNER TO
        // and GRANTs need the roles they name.
        const roles = archive
          ? [...new Set(expected.flatMap((c) => c.roles ?? []))]
          : await rolesNamed(req, obj);
        await createPgRoles(target, roles, { signal: req.signal, log: req.log });
      }
      await restoreObject(req.storage, req.backup, obj, req.identities, engine, target, into, {
        signal: req.signal,
        log: req.log,
        to: server,
        progress: req.progress,
      });
      // What to count: the databases the manifest names for this object
      // (all of them for an all-databases dump), or the object's own.
      const names = obj.database === '*' ? expected.map((c) => c.database) : [obj.database];
      for (const name of names) {
        const restoredAs = obj.database === '*' ? name : into;
        firstDatabase ??= restoredAs;
        const own = expected.find((c) => c.database === name);
        const actual = await inspectDatabase(
          m.engine,
          target,
          restoredAs,
          { signal: req.signal, log: req.log },
          (own?.tables ?? []).map((t) => t.name),
        );
        const { comparison, mismatches: found } = compareDatabase(own, actual);
        databases.push(comparison);
        const prefix = names.length > 1 || req.objects.length > 1 ? `${name}: ` : '';
        mismatches.push(...found.map((f) => prefix + f));
      }
    }
    const checks: RestoreTestResult['checks'] = [];
    const checkDb = req.checkDatabase ?? firstDatabase ?? 'postgres';
    if (m.engine === 'elasticsearch' && req.checks.length > 0)
      throw new UserError('--check runs SQL: not for an Elasticsearch backup');
    for (const sql of req.checks) {
      const r = await runCheck(m.engine, target, checkDb, sql, {
        signal: req.signal,
        log: req.log,
      });
      checks.push({ sql, ...r });
      if (!r.ok) mismatches.push(`check failed: ${sql} returned ${r.value}`);
    }
    const notes = [
      ...archiveNotes,
      ...databases.flatMap((d) => (d.note ? [`${d.database}: ${d.note}`] : [])),
    ];
    return {
      ...base,
      finishedAt: now().toISOString(),
      ok: mismatches.length === 0,
      target: req.to ? 'url' : 'scratch',
      server,
      databases,
      checks,
      mismatches,
      notes,
    };
  } finally {
    if (scratch) {
      await scratch.stop();
      req.log.info('scratch server stopped and removed', { dir: scratch.dir });
    }
  }
}

/** The roles a PostgreSQL dump names: from the manifest, or (older manifests) read from the dump. */
async function rolesNamed(req: RestoreTestRequest, obj: StoredObject): Promise<string[]> {
  const known = (req.backup.manifest.contents ?? []).filter((c) => c.key === obj.key && c.roles);
  if (known.length > 0) return [...new Set(known.flatMap((c) => c.roles!))];
  if (obj.format !== 'sql') return [];
  const scanner = new SqlScanner('postgresql', obj.database);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      scanner.push(chunk);
      done();
    },
  });
  await streamPlain(req.storage, req.backup.manifest, obj, req.identities, sink, req.signal);
  return [...new Set(scanner.end().flatMap((d) => d.roles ?? []))];
}

/** Elasticsearch without a server: every object read end to end and its documents counted. */
async function archiveChecks(
  req: RestoreTestRequest,
): Promise<
  Omit<
    RestoreTestResult,
    'schemaVersion' | 'backup' | 'startedAt' | 'finishedAt' | 'snapkeeperVersion'
  >
> {
  const m = req.backup.manifest;
  const databases: DatabaseComparison[] = [];
  const mismatches: string[] = [];
  for (const obj of req.objects) {
    const scanner = new ArchiveScanner(obj.database);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        scanner.push(chunk);
        done();
      },
    });
    await streamPlain(req.storage, m, obj, req.identities, sink, req.signal);
    const [actual] = scanner.end();
    const expected: DatabaseContents | undefined = (m.contents ?? []).find(
      (c) => c.key === obj.key,
    );
    const { comparison, mismatches: found } = compareDatabase(expected, actual!);
    databases.push(comparison);
    mismatches.push(...found.map((f) => (req.objects.length > 1 ? `${obj.database}: ${f}` : f)));
  }
  const notes = [
    'archive checks only: no server to restore into (give --to <url> of a throwaway ' +
      'Elasticsearch or OpenSearch server to restore it); the archive was read to its end, ' +
      'decrypted, decompressed and its documents counted',
    ...databases.flatMap((d) => (d.note ? [`${d.database}: ${d.note}`] : [])),
  ];
  if (req.checks.length > 0) notes.push('--check needs a server: not run');
  return {
    ok: mismatches.length === 0,
    target: 'archive',
    server: '',
    databases,
    checks: [],
    mismatches,
    notes,
  };
}
