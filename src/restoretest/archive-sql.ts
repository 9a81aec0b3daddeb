/**
 * A pg_dump custom or tar archive, read by pg_restore into plain SQL
 * (`pg_restore -f -`, no server involved) and counted like a plain dump.
 * The archive's data blocks are compressed by pg_dump, so the backup stream
 * cannot be counted while it is stored; restore-test counts it here, from
 * the archive itself, before restoring it.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pgBinDirs } from '../../dumpers/postgresql.js';
import { findExecutable } from '../../dumpers/executables.js';
import { TailBuffer, toolEnv } from '../../dumpers/process.js';
import { streamPlain, type StoredObject } from '../backups/read.js';
import { SqlScanner } from '../contents/sql-scan.js';
import type { DatabaseCounts } from '../contents/types.js';
import { DumpFailedError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import type { Storage } from '../storage/types.js';

export async function countArchive(
  storage: Storage,
  manifest: Manifest,
  obj: StoredObject,
  identities: readonly string[],
  signal: AbortSignal,
): Promise<DatabaseCounts[]> {
  const file = findExecutable(['pg_restore'], pgBinDirs()) ?? 'pg_restore';
  const child = spawn(file, ['-f', '-'], {
    env: toolEnv({}),
    stdio: ['pipe', 'pipe', 'pipe'],
    signal,
  });
  const tail = new TailBuffer();
  child.stderr.on('data', (c: Buffer) => tail.push(c));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) =>
      code === 0
        ? resolve()
        : reject(new DumpFailedError('pg_restore', code, tail.toString(), sig)),
    );
  });
  const scanner = new SqlScanner('postgresql', obj.database);
  const counting = pipeline(
    child.stdout,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        scanner.push(chunk);
        done();
      },
    }),
  );
  const feeding = streamPlain(storage, manifest, obj, identities, child.stdin, signal);
  const [f, c, e] = await Promise.allSettled([feeding, counting, exited]);
  // pg_restore stops reading after the archive's last block: the rest (none,
  // or padding) is not its business, and the sha256 is checked again before
  // the restore. A feed that failed first (decryption, gzip) is the cause.
  if (f.status === 'rejected' && (e.status === 'rejected' || !closedEarly(f.reason)))
    throw f.reason;
  if (e.status === 'rejected') throw e.reason;
  if (c.status === 'rejected') throw c.reason;
  return scanner.end();
}

function closedEarly(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  return (
    code === 'EPIPE' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    /premature close|EPIPE/i.test(e.message ?? '')
  );
}
