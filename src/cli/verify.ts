/**
 * `snapkeeper verify`: each object of a backup (or of every backup of a
 * workload with --all) downloaded, its sha256 and size checked, decrypted
 * and decompressed to nowhere, and the plain size compared with the
 * manifest. Without an identity, an encrypted backup gets the sha256 check
 * only, and the report says so. Exit 1 when any object fails.
 */
import type { BackupEntry } from '../backups/list.js';
import { Writable } from 'node:stream';
import { checkObject, streamPlain } from '../backups/read.js';
import { OperationError, describeError } from '../errors.js';
import { countingStorage, formatBytes, noProgress, type Progress } from '../pipeline/progress.js';
import type { Storage } from '../storage/types.js';
import { progressOf, type CliContext } from './context.js';
import { readIdentities } from './key-files.js';
import { findBackups, noBackupError, openBackup, openSelected, wrongIdentity } from './select.js';
import type { SelectFlags } from './flags.js';
import { checkOutput, formatTable } from './storage-flags.js';

export interface VerifyFlags extends SelectFlags {
  identity: string[];
  all?: boolean;
  output: string;
}

export interface ObjectReport {
  manifestKey: string;
  key: string;
  database: string;
  bytes: number;
  status: 'ok' | 'sha256 ok, not decrypted (no identity)' | 'failed';
  error?: string;
}

export async function verify(flags: VerifyFlags, ctx: CliContext): Promise<void> {
  const output = checkOutput(flags.output);
  const reports: ObjectReport[] = [];
  let storage: Storage;
  let identities: string[];
  let backups: BackupEntry[];
  if (flags.all) {
    identities = await readIdentities(flags.identity);
    ({ storage } = await openSelected(flags, ctx));
    const found = await findBackups(storage, flags.workload, ctx);
    if (found.backups.length + found.unreadable.length === 0)
      throw noBackupError(storage, flags.workload, 0);
    backups = found.backups;
    // A manifest that cannot be read is a backup that cannot be restored.
    for (const u of found.unreadable)
      reports.push({
        manifestKey: u.key,
        key: u.key,
        database: '',
        bytes: 0,
        status: 'failed',
        error: `manifest: ${u.why}`,
      });
  } else {
    const opened = await openBackup(flags, ctx, { identityFiles: flags.identity });
    ({ storage, identities } = opened);
    backups = [opened.backup];
  }
  for (const b of backups) {
    // With --all, a backup the identities cannot open is a failed one, found without downloading it.
    const wrong = await wrongIdentity(b, identities, flags.identity);
    if (wrong) {
      for (const obj of b.manifest.objects)
        reports.push({
          manifestKey: b.manifestKey,
          key: obj.key,
          database: obj.database,
          bytes: obj.bytes,
          status: 'failed',
          error: wrong,
        });
      continue;
    }
    reports.push(...(await verifyBackup(storage, b, identities, ctx.signal, progressOf(ctx))));
  }
  if (output === 'json') ctx.stdout.write(JSON.stringify(reports) + '\n');
  else
    ctx.stdout.write(
      formatTable(
        ['KEY', 'SIZE', 'RESULT'],
        reports.map((r) => [
          r.key,
          formatBytes(r.bytes),
          r.status === 'failed' ? `FAILED: ${r.error}` : r.status,
        ]),
      ),
    );
  const failed = reports.filter((r) => r.status === 'failed').length;
  if (failed > 0)
    throw new OperationError(`${failed} of ${reports.length} object(s) failed verification`);
}

export async function verifyBackup(
  storage: Storage,
  backup: BackupEntry,
  identities: readonly string[],
  signal?: AbortSignal,
  progress: Progress = noProgress,
): Promise<ObjectReport[]> {
  const m = backup.manifest;
  const out: ObjectReport[] = [];
  for (const [i, obj] of m.objects.entries()) {
    const base = {
      manifestKey: backup.manifestKey,
      key: obj.key,
      database: obj.database,
      bytes: obj.bytes,
    };
    const read = { bytes: 0 };
    const plain = { bytes: 0 };
    const decrypt = !(m.encryption && identities.length === 0);
    const which = m.objects.length > 1 ? ` (${i + 1}/${m.objects.length})` : '';
    const stop = progress.start({
      label: `verifying ${obj.database}${which}`,
      message: 'verify in progress',
      main: { name: 'read', bytes: () => read.bytes },
      ...(decrypt ? { second: { name: 'plain', bytes: () => plain.bytes } } : {}),
      total: obj.bytes,
    });
    const counted = countingStorage(storage, read);
    try {
      if (!decrypt) {
        await checkObject(counted, obj, signal);
        out.push({ ...base, status: 'sha256 ok, not decrypted (no identity)' });
        continue;
      }
      const { plainBytes } = await streamPlain(counted, m, obj, identities, sink(plain), signal);
      if (plainBytes !== obj.rawBytes)
        throw new Error(`decompressed to ${plainBytes} bytes, the manifest says ${obj.rawBytes}`);
      out.push({ ...base, status: 'ok' });
    } catch (err) {
      out.push({ ...base, status: 'failed', error: describeError(err) });
    } finally {
      stop();
    }
  }
  return out;
}

/** Nowhere, counting what arrives. */
function sink(counter: { bytes: number }): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      counter.bytes += chunk.length;
      done();
    },
  });
}
