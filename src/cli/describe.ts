/**
 * `snapkeeper describe [backup]`: what one backup holds — engine and
 * versions, databases, each table with its rows, the schema objects,
 * duration, stored and raw size, encryption recipients, and the last
 * restore test. The backup is named in any form `list` or `backup` prints
 * (a time, a key or a segment of it, a manifest location); without one,
 * the newest backup of the location's only workload.
 */
import type { BackupEntry } from '../backups/list.js';
import { describeError } from '../errors.js';
import { formatBytes } from '../pipeline/progress.js';
import { readRestoreTest, type RestoreTestResult } from '../restoretest/result.js';
import type { Storage } from '../storage/types.js';
import type { CliContext } from './context.js';
import { openBackup } from './select.js';
import type { FromFlags, SelectFlags } from './flags.js';
import { checkOutput, formatTable } from './storage-flags.js';

export interface DescribeFlags extends FromFlags {
  workload?: string;
  output: string;
}

/** A backup named the way list prints it: a time (or latest/now) is --at, anything else --key. */
export function selectionFor(named: string | undefined, flags: SelectFlags): SelectFlags {
  if (named === undefined) return flags;
  const t = named.trim();
  const isTime =
    /^(latest|now)$/i.test(t) ||
    (/^\d{4}-?\d{2}-?\d{2}([T ]\d|$)/.test(t) && !t.includes('/') && !/-[a-z0-9]{6}$/.test(t));
  return isTime ? { ...flags, at: t } : { ...flags, key: t };
}

/** The backup `named` names, with the storage it is in. */
export async function findNamed(
  named: string | undefined,
  flags: SelectFlags,
  ctx: CliContext,
): Promise<{ storage: Storage; backup: BackupEntry }> {
  const { storage, backup } = await openBackup(selectionFor(named, flags), ctx);
  return { storage, backup };
}

export interface Description {
  manifestKey: string;
  workload: { namespace: string; kind: string; name: string };
  engine: string;
  server: string;
  client: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  bytes: number;
  rawBytes: number;
  compression: string;
  encryption: { type: string; recipients: string[] } | null;
  databases: {
    database: string;
    key: string;
    format: string;
    bytes: number;
    rawBytes: number;
    tables?: { name: string; rows: number }[];
    objects?: Record<string, number>;
    uncounted?: string;
  }[];
  restoreTest: RestoreTestResult | { invalid: string } | null;
  snapkeeperVersion: string;
}

export function describeBackup(
  b: BackupEntry,
  restoreTest: RestoreTestResult | { invalid: string } | undefined,
): Description {
  const m = b.manifest;
  const databases: Description['databases'] = [];
  for (const o of m.objects) {
    const held = (m.contents ?? []).filter((c) => c.key === o.key);
    const base = { key: o.key, format: o.format, bytes: o.bytes, rawBytes: o.rawBytes };
    if (held.length === 0)
      databases.push({
        database: o.database,
        ...base,
        uncounted: 'the backup holds no counts (made before snapkeeper counted them)',
      });
    for (const c of held)
      databases.push({
        database: c.database,
        ...base,
        ...(c.tables ? { tables: c.tables } : {}),
        ...(c.objects ? { objects: c.objects } : {}),
        ...(c.uncounted ? { uncounted: c.uncounted } : {}),
      });
  }
  return {
    manifestKey: b.manifestKey,
    workload: m.workload,
    engine: m.engine,
    server: m.server.version,
    client: `${m.client.tool} ${m.client.version}`,
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    durationSeconds: (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000,
    bytes: b.bytes,
    rawBytes: m.objects.reduce((n, o) => n + o.rawBytes, 0),
    compression: m.compression,
    encryption: m.encryption,
    databases,
    restoreTest: restoreTest ?? null,
    snapkeeperVersion: m.snapkeeperVersion,
  };
}

export async function describe(
  named: string | undefined,
  flags: DescribeFlags,
  ctx: CliContext,
): Promise<void> {
  const output = checkOutput(flags.output);
  const { storage, backup } = await findNamed(named, flags, ctx);
  let tested: Awaited<ReturnType<typeof readRestoreTest>>;
  try {
    tested = await readRestoreTest(storage, backup.manifestKey, ctx.signal);
  } catch (err) {
    ctx.log.warn('could not read the restore test result', { error: describeError(err) });
  }
  const d = describeBackup(backup, tested);
  if (output === 'json') ctx.stdout.write(JSON.stringify(d) + '\n');
  else ctx.stdout.write(formatDescription(d));
}

export function restoreTestLine(r: Description['restoreTest']): string {
  if (r === null) return 'never tested';
  if ('invalid' in r) return `unreadable result (${r.invalid})`;
  const where = r.target === 'archive' ? 'archive checks' : `into ${r.server}`;
  if (r.ok) return `passed ${r.finishedAt} (${where})`;
  const n = r.mismatches.length;
  return `FAILED ${r.finishedAt} (${where}): ${r.mismatches[0]}${n > 1 ? ` (and ${n - 1} more)` : ''}`;
}

export function formatDescription(d: Description): string {
  const lines: string[] = [];
  const field = (k: string, v: string) => lines.push(`${(k + ':').padEnd(14)}${v}`);
  field('backup', d.manifestKey);
  field('workload', `${d.workload.namespace}/${d.workload.name} (${d.workload.kind})`);
  field('engine', `${d.engine} ${d.server}, dumped with ${d.client}`);
  field('started', `${d.startedAt}, took ${d.durationSeconds.toFixed(1)} s`);
  field(
    'size',
    `${formatBytes(d.bytes)} stored, ${formatBytes(d.rawBytes)} raw (${d.compression})`,
  );
  field(
    'encryption',
    d.encryption ? `${d.encryption.type}: ${d.encryption.recipients.join(', ')}` : 'none',
  );
  field('restore test', restoreTestLine(d.restoreTest));
  for (const db of d.databases) {
    lines.push('');
    lines.push(
      `database ${db.database}: ${db.key} (${db.format}, ${formatBytes(db.bytes)} stored, ${formatBytes(db.rawBytes)} raw)`,
    );
    if (db.uncounted) {
      lines.push(`  not counted: ${db.uncounted}`);
      continue;
    }
    if (db.tables && db.tables.length > 0)
      lines.push(
        formatTable(
          ['  TABLE', 'ROWS'],
          db.tables.map((t) => [`  ${t.name}`, String(t.rows)]),
        ).trimEnd(),
      );
    if (db.objects)
      lines.push(
        '  objects: ' +
          Object.entries(db.objects)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
      );
  }
  return lines.join('\n') + '\n';
}
