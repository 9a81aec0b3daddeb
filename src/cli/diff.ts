/**
 * `snapkeeper diff <a> <b>`: what changed in the database between two
 * backups — tables and schema objects added and removed, row counts that
 * changed (largest first), sizes. Both are named as `describe` takes them.
 */
import { diffBackups, type BackupDiff } from '../contents/diff.js';
import { parseThreshold, shrinkage } from '../contents/shrink.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../pipeline/progress.js';
import type { CliContext } from './context.js';
import { findNamed } from './describe.js';
import type { FromFlags } from './flags.js';
import { checkOutput, formatTable } from './storage-flags.js';

export interface DiffFlags extends FromFlags {
  workload?: string;
  output: string;
  shrinkThreshold: string;
}

export async function diff(a: string, b: string, flags: DiffFlags, ctx: CliContext): Promise<void> {
  const output = checkOutput(flags.output);
  const threshold = parseThreshold(flags.shrinkThreshold);
  if (threshold === undefined)
    throw new UserError(
      `--shrink-threshold ${JSON.stringify(flags.shrinkThreshold)}: expected a fraction (0.5) or a percentage (50%)`,
    );
  const first = await findNamed(a, flags, ctx);
  const second = await findNamed(b, flags, ctx);
  const d = diffBackups(first.backup.manifest, second.backup.manifest);
  const shrank = shrinkage(first.backup.manifest, second.backup.manifest, threshold);
  if (output === 'json')
    ctx.stdout.write(
      JSON.stringify({
        a: first.backup.manifestKey,
        b: second.backup.manifestKey,
        ...d,
        shrank: shrank?.message ?? null,
      }) + '\n',
    );
  else ctx.stdout.write(formatDiff(first.backup.manifestKey, second.backup.manifestKey, d));
  // A warning, not a failure: the exit status stays 0.
  if (shrank) ctx.stderr.write(`warning: BackupShrank: ${shrank.message}\n`);
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

export function formatDiff(a: string, b: string, d: BackupDiff): string {
  const lines = [`from ${a}`, `to   ${b}`];
  const [b0, b1] = d.size.bytes;
  const [r0, r1] = d.size.rawBytes;
  lines.push(
    `size: ${formatBytes(b0)} → ${formatBytes(b1)} stored, ${formatBytes(r0)} → ${formatBytes(r1)} raw`,
  );
  const rows: string[][] = [];
  for (const x of d.databasesAdded) rows.push(['database added', x, '', '']);
  for (const x of d.databasesRemoved) rows.push(['database removed', x, '', '']);
  for (const t of d.tablesAdded)
    rows.push(['table added', `${t.database}: ${t.table}`, '', `${t.rows} rows`]);
  for (const t of d.tablesRemoved)
    rows.push(['table removed', `${t.database}: ${t.table}`, `${t.rows} rows`, '']);
  for (const o of d.objectsChanged)
    rows.push([
      o.after > o.before ? 'objects added' : 'objects removed',
      `${o.database}: ${o.kind}`,
      String(o.before),
      `${o.after} (${signed(o.after - o.before)})`,
    ]);
  for (const r of d.rowsChanged)
    rows.push([
      'rows changed',
      `${r.database}: ${r.table}`,
      String(r.before),
      `${r.after} (${signed(r.change)})`,
    ]);
  if (rows.length > 0)
    lines.push(formatTable(['CHANGE', 'WHAT', 'BEFORE', 'AFTER'], rows).trimEnd());
  else if (d.notes.length === 0) lines.push('no table, row count or schema object changed');
  for (const n of d.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}
