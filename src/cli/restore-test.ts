/**
 * `snapkeeper restore-test`: proves a backup restores. Picks it like
 * `restore` (--at, --key, default the newest), restores it into a scratch
 * server it starts and removes itself (or `--to`, a throwaway server),
 * compares every table's rows and the schema objects with the manifest,
 * runs the user's `--check` queries, and stores the result beside the
 * manifest (restore-test.json). Exit 0: all equal and every check true;
 * 1: a mismatch or a failed check, each named; 2: a user mistake.
 */
import { parseDbUrl, withPasswordFromEnv } from '../dburl.js';
import { OperationError, UserError, describeError } from '../errors.js';
import { redactUrl } from '../log.js';
import { withTerminationReport, type TerminationReport } from '../restoretest/in-cluster.js';
import { restoreTestKeyFor, type RestoreTestResult } from '../restoretest/result.js';
import { runRestoreTest } from '../restoretest/run.js';
import { progressOf, type CliContext } from './context.js';
import type { SelectFlags } from './flags.js';
import { compatible } from './restore.js';
import { openBackup, parseSelect } from './select.js';
import { checkOutput, formatTable } from './storage-flags.js';

export interface RestoreTestFlags extends SelectFlags {
  identity: string[];
  to?: string;
  check: string[];
  database?: string;
  output: string;
  store: boolean;
}

/**
 * The command as the CLI runs it: in the restore-test CronJob (the
 * termination-message path set) it leaves a report on every outcome
 * (src/restoretest/in-cluster.ts).
 */
export function restoreTestCommand(flags: RestoreTestFlags, ctx: CliContext): Promise<void> {
  return withTerminationReport(ctx, (report) => restoreTest(flags, ctx, report));
}

export async function restoreTest(
  flags: RestoreTestFlags,
  ctx: CliContext,
  report?: TerminationReport,
): Promise<void> {
  const output = checkOutput(flags.output);
  parseSelect(flags);
  const to =
    flags.to !== undefined ? withPasswordFromEnv(parseDbUrl(flags.to), ctx.env) : undefined;
  const { storage, backup, identities } = await openBackup(flags, ctx, {
    identityFiles: flags.identity,
    requireIdentity: true,
    onSelected: (b) => report?.chose(b.manifestKey),
  });
  const m = backup.manifest;
  if (m.engine === 'elasticsearch' && flags.check.length > 0)
    throw new UserError('--check runs SQL after the restore: not for an Elasticsearch backup');
  if (to && !compatible(to.engine, m.engine))
    throw new UserError(
      `the backup is a ${m.engine} dump; ${redactUrl(flags.to!)} is a ${to.engine} URL`,
    );
  let objects = m.objects;
  if (flags.database !== undefined) {
    objects = objects.filter((o) => o.database === flags.database);
    if (objects.length === 0)
      throw new UserError(
        `backup ${backup.manifestKey} has no database ${JSON.stringify(flags.database)} ` +
          `(it has ${m.objects.map((o) => o.database).join(', ')})`,
      );
  }
  const urlDb = to && to.target.databases !== '*' ? to.target.databases[0] : undefined;
  if (urlDb !== undefined && objects.length > 1)
    throw new UserError(
      `backup ${backup.manifestKey} holds ${objects.length} databases and the URL names one: choose with --database`,
    );
  const log = ctx.log.child({ backup: backup.manifestKey });

  const result = await runRestoreTest({
    storage,
    backup,
    objects,
    identities,
    to: to && { target: to.target, database: urlDb, description: redactUrl(flags.to!) },
    checks: flags.check,
    checkDatabase: urlDb ?? flags.database,
    log,
    signal: ctx.signal,
    progress: progressOf(ctx),
  });
  await report?.finished(result);

  if (flags.store) {
    const key = restoreTestKeyFor(backup.manifestKey);
    try {
      await storage.put(key, JSON.stringify(result, null, 2) + '\n', {
        contentType: 'application/json',
      });
      log.info('restore test result stored', { key });
    } catch (err) {
      log.warn('could not store the restore test result', { key, error: describeError(err) });
    }
  }

  if (output === 'json') ctx.stdout.write(JSON.stringify(result) + '\n');
  else ctx.stdout.write(formatResult(result));
  if (!result.ok) {
    const n = result.mismatches.length;
    throw new OperationError(
      `restore test failed: ${result.mismatches[0]}${n > 1 ? ` (and ${n - 1} more)` : ''}`,
    );
  }
}

/** The human report: one line per table and object kind, then checks, notes, verdict. */
export function formatResult(r: RestoreTestResult): string {
  const several = r.databases.length > 1;
  const rows: string[][] = [];
  const cell = (n: number | null) => (n === null ? '-' : String(n));
  for (const d of r.databases) {
    const db = several ? `${d.database}: ` : '';
    for (const t of d.tables) {
      const equal = t.backup === t.restored;
      rows.push([`${db}${t.name}`, 'rows', cell(t.backup), cell(t.restored), status(t, equal)]);
    }
    for (const o of d.objects) {
      const equal = o.backup === o.restored;
      rows.push([`${db}${o.kind}`, 'count', cell(o.backup), cell(o.restored), status(o, equal)]);
    }
  }
  const lines: string[] = [];
  lines.push(
    r.target === 'archive'
      ? `backup ${r.backup}: archive checks only`
      : `backup ${r.backup} restored into ${r.target === 'scratch' ? 'a scratch ' : ''}${r.server}`,
  );
  if (rows.length > 0)
    lines.push(formatTable(['NAME', 'WHAT', 'BACKUP', 'RESTORED', 'RESULT'], rows).trimEnd());
  for (const c of r.checks) lines.push(`check ${c.ok ? 'ok' : 'FAILED'}: ${c.sql} → ${c.value}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(
    r.ok
      ? 'restore test passed'
      : `restore test FAILED:\n${r.mismatches.map((x) => `  ${x}`).join('\n')}`,
  );
  return lines.join('\n') + '\n';
}

function status(c: { backup: number | null; restored: number | null }, equal: boolean): string {
  if (c.backup === null) return 'not counted';
  return equal ? 'ok' : 'MISMATCH';
}
